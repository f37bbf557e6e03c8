package oci

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// HookStateArg is the first argument with which podsec-runtime runs
// itself in a prestart hook's place (HookStateMain): libcontainer hands
// prestart hooks the state "creating", the runtime-tools suite and crun
// "created".
const HookStateArg = "hook-state"

// prestartAsCreated makes cfg's prestart hooks see the status "created":
// each runs through self (this executable) with HookStateArg, which
// rewrites the status on its stdin and executes the hook in its place.
func prestartAsCreated(cfg *configs.Config, self string) {
	if cfg.Hooks == nil {
		return
	}
	hooks := cfg.Hooks[configs.Prestart]
	for i, h := range hooks {
		ch, ok := h.(configs.CommandHook)
		if !ok || ch.Command == nil {
			continue
		}
		args := append([]string{self, HookStateArg, string(specs.StateCreated), ch.Path}, ch.Args...)
		hooks[i] = configs.NewCommandHook(&configs.Command{Path: self, Args: args, Env: ch.Env, Dir: ch.Dir, Timeout: ch.Timeout})
	}
}

// HookStateMain is podsec-runtime run as HookStateArg STATUS PATH ARGS...:
// it reads the container state from stdin, sets its status and executes
// the hook PATH with ARGS (its argv) and that state on stdin. Being the
// same process, the hook keeps libcontainer's timeout and environment.
func HookStateMain(args []string) {
	if err := hookState(args); err != nil {
		fmt.Fprintf(os.Stderr, "prestart hook: %v\n", err)
		os.Exit(1)
	}
}

func hookState(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: %s STATUS PATH [ARGS...]", HookStateArg)
	}
	status, path, argv := args[0], args[1], args[2:]
	if len(argv) == 0 {
		argv = []string{path}
	}
	b, err := io.ReadAll(os.Stdin)
	if err != nil {
		return fmt.Errorf("reading the state: %w", err)
	}
	var s specs.State
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decoding the state: %w", err)
	}
	s.Status = specs.ContainerState(status)
	if b, err = json.Marshal(s); err != nil {
		return err
	}
	fd, err := unix.MemfdCreate("state", 0)
	if err != nil {
		return fmt.Errorf("memfd_create: %w", err)
	}
	if _, err := unix.Write(fd, b); err != nil {
		return fmt.Errorf("writing the state: %w", err)
	}
	if _, err := unix.Seek(fd, 0, io.SeekStart); err != nil {
		return err
	}
	if err := unix.Dup2(fd, 0); err != nil {
		return fmt.Errorf("dup2: %w", err)
	}
	unix.Close(fd)
	if err := syscall.Exec(path, argv, os.Environ()); err != nil {
		return fmt.Errorf("exec %s: %w", path, err)
	}
	return nil
}
