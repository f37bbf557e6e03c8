package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer/exeseal"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/internal/trace"
	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/spec"
)

// SandboxArg is the first argument with which podsec re-executes itself as
// a pod sandbox. A program that embeds this package must call SandboxMain
// from an init function when os.Args[1] == SandboxArg, as it calls
// libcontainer.Init for "init".
const SandboxArg = "sandbox-init"

// nsKind is a kind of namespace and its clone flag.
type nsKind struct {
	kind string
	flag uintptr
}

// nsKinds are the namespaces a sandbox can hold besides the pod's user
// namespace, with their clone flags.
var nsKinds = []nsKind{
	{"net", unix.CLONE_NEWNET},
	{"ipc", unix.CLONE_NEWIPC},
	{"uts", unix.CLONE_NEWUTS},
	{"pid", unix.CLONE_NEWPID},
}

// sandbox is the process that holds a pod's shared namespaces for the
// pod's whole life, in place of a pause image: podsec itself, re-executed
// into new namespaces, confined to an empty root as an unprivileged user.
type sandbox struct {
	cmd *exec.Cmd
	// proc is the sandbox of a resumed pod (cmd is nil): a child of this
	// process, started by an earlier image of it.
	proc  *os.Process
	paths map[string]string // namespace kind -> bind-mounted ns file
	// life is the write end of a pipe whose read end the sandbox holds:
	// when podsec goes away, for any reason, the sandbox reads EOF and
	// ends, and the kernel ends every process of its PID namespace.
	life *os.File
	// joined reports the sandbox's move into the pod cgroup, which goes
	// on while the pod is prepared (on cgroup v1 it waits for an RCU
	// grace period); waitJoined reads it once.
	joined   chan error
	joinOnce sync.Once
	joinErr  error
	// ready is the pipe on which the sandbox reports that it is set up
	// and locked down, read once by waitReady while the pod is prepared
	// meanwhile; userNS is the range its user namespace must map.
	ready     *os.File
	readyOnce sync.Once
	readyErr  error
	userNS    *spec.IDRange
}

// waitReady waits until the sandbox is set up and locked down (its
// hostname set, loopback up, in its empty root as nobody under
// RuntimeDefault): before any process of the pod runs, and before the
// pod's network is set up. Until then only files are made for the pod.
func (sb *sandbox) waitReady() error {
	if sb.ready == nil {
		return nil
	}
	sb.readyOnce.Do(func() {
		defer sb.ready.Close()
		end := trace.Step("sandbox ready")
		defer end()
		buf := make([]byte, 512)
		n, _ := io.ReadFull(sb.ready, buf)
		switch {
		case n == 0:
			sb.readyErr = errors.New("starting pod sandbox: it ended before it was ready")
		case buf[0] != 'R':
			sb.readyErr = fmt.Errorf("starting pod sandbox: %s", bytes.TrimPrefix(buf[:n], []byte("E")))
		case sb.userNS != nil:
			sb.readyErr = checkIDMaps(sb.cmd.Process.Pid, *sb.userNS)
		}
	})
	return sb.readyErr
}

// waitJoined waits until the sandbox is in the pod cgroup: before any
// process of the pod runs, and before the sandbox is stopped.
func (sb *sandbox) waitJoined() error {
	if sb.joined == nil {
		return nil
	}
	sb.joinOnce.Do(func() { sb.joinErr = <-sb.joined })
	return sb.joinErr
}

// startSandbox starts the sandbox of a pod and bind-mounts its namespaces
// under the pod's ns directory, so containers join them by path and a
// later podsec can find them even if this process is gone. Its move into
// the pod cgroup goes on after it returns (sb.waitJoined): the sandbox is
// podsec's unreaped child until sb.stop, so its PID cannot name another
// process meanwhile. So does its own set-up (sb.waitReady): its
// namespaces exist from its clone, so the pod's files, volumes, root
// filesystems and specs are made while the sandbox's Go runtime starts;
// no process of the pod runs before it is ready.
//
// With userNS (hostUsers: false) the sandbox makes the pod's user
// namespace first, mapped onto the pod's range, and the pod's other
// namespaces in the same clone, so the user namespace owns them, as the
// kubelet's pod sandbox is made: root of the pod is root over the pod's
// network, IPC and UTS namespaces only. Such a sandbox is waited for
// here: its mappings are checked before the pod's files use them.
func startSandbox(l Layout, pod *corev1.Pod, want pipeline.Sandbox, userNS *spec.IDRange) (sb *sandbox, err error) {
	var flags uintptr = unix.CLONE_NEWNS
	for _, k := range nsKinds {
		if want.Has(k.kind) {
			flags |= k.flag
		}
	}
	kinds := nsKinds
	attr := &syscall.SysProcAttr{Setpgid: true}
	if userNS != nil {
		flags |= unix.CLONE_NEWUSER
		m := []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(userNS.HostID), Size: int(userNS.Size)}}
		attr.UidMappings, attr.GidMappings = m, m
		// setgroups stays allowed (the mapping is written by the node's
		// root, as runc does), and the sandbox becomes the namespace's
		// root before it starts, so it keeps its capabilities there to
		// set itself up, then drops them as without a user namespace.
		attr.GidMappingsEnableSetgroups = true
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
		kinds = append([]nsKind{{"user", unix.CLONE_NEWUSER}}, nsKinds...)
	}
	attr.Cloneflags = flags
	// The sandbox is visible to the pod (/proc/1/exe with a shared PID
	// namespace): it runs a sealed, read-only clone of podsec, never the
	// node's binary, which a pod could otherwise hold open and rewrite
	// once no podsec runs (CVE-2019-5736), as libcontainer does for init.
	end := trace.Step("seccomp filter")
	prog, err := sandboxFilter(l.Root)
	if err != nil {
		return nil, fmt.Errorf("the pod sandbox's seccomp filter: %w", err)
	}
	filter, err := sealedMemfd("podsec-sandbox-seccomp", prog)
	if err != nil {
		return nil, fmt.Errorf("the pod sandbox's seccomp filter: %w", err)
	}
	defer filter.Close()
	end()
	end = trace.Step("seal executable")
	self, err := exeseal.CloneSelfExe(l.PodDir(pod.Namespace, pod.Name))
	if err != nil {
		return nil, fmt.Errorf("sealing podsec's executable for the sandbox: %w", err)
	}
	end()
	defer self.Close()
	ready, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("creating sandbox pipe: %w", err)
	}
	hostname := want.Hostname
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return nil, fmt.Errorf("creating sandbox pipe: %w", err)
	}
	defer lifeR.Close()
	// Containers sharing the sandbox's PID namespace see its command line:
	// it names no path of the node.
	cmd := exec.Command("/proc/self/fd/5", sandboxArgs(hostname)...)
	cmd.ExtraFiles = []*os.File{readyW, lifeR, self, filter}
	// Go would size GOMAXPROCS from the cgroup and keep its files open,
	// where a pod allowed to ptrace the sandbox could reach them.
	cmd.Env = []string{"PATH=/nonexistent", "GODEBUG=containermaxprocs=0,updatemaxprocs=0"}
	cmd.SysProcAttr = attr
	end = trace.Step("start")
	if err := startInOwnKeyring(cmd); err != nil {
		ready.Close()
		readyW.Close()
		lifeW.Close()
		return nil, fmt.Errorf("starting pod sandbox: %w", err)
	}
	readyW.Close()
	sb = &sandbox{cmd: cmd, paths: map[string]string{}, life: lifeW, ready: ready, userNS: userNS}
	defer func() {
		if err != nil {
			sb.stop(l, pod)
		}
	}()
	end()
	sb.joined = make(chan error, 1)
	go func() { sb.joined <- joinPodCgroup(l, pod, cmd.Process.Pid) }()
	defer trace.Step("bind namespaces")()
	for _, k := range kinds {
		if k.kind != "user" && !want.Has(k.kind) {
			continue
		}
		dst := l.NamespacePath(pod.Namespace, pod.Name, k.kind)
		if err := bindNamespace(fmt.Sprintf("/proc/%d/ns/%s", cmd.Process.Pid, k.kind), dst); err != nil {
			return sb, err
		}
		sb.paths[k.kind] = dst
	}
	if userNS != nil {
		if err := sb.waitReady(); err != nil {
			return sb, err
		}
	}
	return sb, nil
}

// startInOwnKeyring starts cmd from a thread that joined a new, empty
// session keyring, so the sandbox never holds the keyring of whoever
// started podsec: keyrings are not namespaced, and a container with
// CAP_SYS_PTRACE sharing the sandbox's PID namespace can make it run
// system calls. The child inherits the forking thread's credentials, its
// keyring with them, and every thread of the new image has it.
func startInOwnKeyring(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread's keyring is no longer the
		// process's, so the thread ends with this goroutine.
		goruntime.LockOSThread()
		if _, err := unix.KeyctlInt(unix.KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0); err != nil {
			errc <- fmt.Errorf("joining a session keyring of its own: %w", err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// checkIDMaps makes sure the sandbox's user namespace maps exactly the
// pod's range, as the plan says: the containers that join it take its
// mapping for theirs.
func checkIDMaps(pid int, r spec.IDRange) error {
	want := fmt.Sprintf("0 %d %d", r.HostID, r.Size)
	for _, f := range []string{"uid_map", "gid_map"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
		if err != nil {
			return fmt.Errorf("reading the pod sandbox's %s: %w", f, err)
		}
		if got := strings.Join(strings.Fields(string(b)), " "); got != want {
			return fmt.Errorf("the pod sandbox's %s is %q, the plan says %q", f, got, want)
		}
	}
	return nil
}

// bindNamespace keeps a namespace alive by bind-mounting its nsfs file.
func bindNamespace(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("creating namespace directory: %w", err)
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o400)
	if err != nil {
		return fmt.Errorf("creating namespace file %s: %w", dst, err)
	}
	f.Close()
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		os.Remove(dst)
		return fmt.Errorf("bind-mounting namespace %s: %w", src, err)
	}
	return nil
}

// kill sends the sandbox SIGKILL without waiting for it to end.
func (sb *sandbox) kill() {
	if sb.cmd != nil && sb.cmd.Process != nil {
		_ = sb.cmd.Process.Kill()
	}
	if sb.proc != nil {
		_ = sb.proc.Kill()
	}
}

// pid is the sandbox process's PID.
func (sb *sandbox) pid() int {
	if sb.proc != nil {
		return sb.proc.Pid
	}
	return sb.cmd.Process.Pid
}

// stop ends the sandbox and releases its namespaces.
func (sb *sandbox) stop(l Layout, pod *corev1.Pod) error {
	var errs []error
	for _, p := range sb.paths {
		if err := unmountRemove(p); err != nil {
			errs = append(errs, err)
		}
	}
	// Nothing may still write the sandbox's PID into the pod cgroup
	// once it is being removed; the pod is going, so the move's error
	// does not matter here.
	_ = sb.waitJoined()
	if sb.cmd != nil && sb.cmd.Process != nil {
		_ = sb.cmd.Process.Kill()
		_ = sb.cmd.Wait()
	}
	if sb.proc != nil {
		_ = sb.proc.Kill()
		_, _ = sb.proc.Wait()
	}
	if sb.life != nil {
		sb.life.Close()
	}
	sb.readyOnce.Do(func() {
		if sb.ready != nil {
			sb.ready.Close()
		}
	})
	return errors.Join(errs...)
}

// SandboxMain is the pod sandbox process (fd 3 reports readiness, fd 4
// reads EOF when podsec goes, fd 5 is the sealed executable it runs, fd 6
// the compiled RuntimeDefault program). It starts in a session keyring of
// its own (startInOwnKeyring), closes every descriptor it inherited
// beyond its pipes, sets the pod's hostname, brings loopback up, pivots
// into an empty read-only root with the node's filesystem detached, drops
// to nobody with no capabilities, and locks itself down (RuntimeDefault
// seccomp and no_new_privs on every thread, non-dumpable); then it
// reports readiness on fd 3 and reaps orphans until podsec goes away (fd
// 4 reads EOF) or it is killed. It never returns.
func SandboxMain() {
	ready := os.NewFile(3, "ready")
	fail := func(format string, args ...any) {
		fmt.Fprintf(ready, "E"+format, args...)
		os.Exit(1)
	}
	if len(os.Args) != 3 {
		fail("usage: %s HOSTNAME (fd 3 ready, 4 life, 5 executable, 6 seccomp program)", SandboxArg)
	}
	unix.Close(5) // the sealed executable, once running
	prog, err := readSandboxFilter(6)
	if err != nil {
		fail("%v", err)
	}
	if err := closeInherited(); err != nil {
		fail("%v", err)
	}
	hostname := os.Args[2]
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		fail("making mounts private: %v", err)
	}
	if hostname != "" {
		if err := unix.Sethostname([]byte(hostname)); err != nil {
			fail("setting hostname: %v", err)
		}
	}
	if lo, err := netlink.LinkByName("lo"); err == nil {
		if err := netlink.LinkSetUp(lo); err != nil {
			fail("bringing loopback up: %v", err)
		}
	}
	if err := pivotToEmptyRoot(); err != nil {
		fail("entering sandbox root: %v", err)
	}
	// setresuid away from 0 clears every capability of every thread.
	if err := syscall.Setgroups(nil); err != nil {
		fail("dropping groups: %v", err)
	}
	if err := syscall.Setresgid(65534, 65534, 65534); err != nil {
		fail("dropping group: %v", err)
	}
	if err := syscall.Setresuid(65534, 65534, 65534); err != nil {
		fail("dropping user: %v", err)
	}
	if err := lockDown(prog); err != nil {
		fail("locking the sandbox down: %v", err)
	}
	life := os.NewFile(4, "life")
	ready.Write([]byte("R"))
	ready.Close()
	gone := make(chan struct{})
	go func() {
		buf := make([]byte, 1)
		for {
			if _, err := life.Read(buf); err != nil {
				close(gone)
				return
			}
		}
	}()
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGCHLD, unix.SIGTERM, unix.SIGINT)
	tick := time.NewTicker(time.Second)
	for {
		select {
		case s := <-sigs:
			if s != unix.SIGCHLD {
				os.Exit(0)
			}
			reap()
		case <-tick.C:
			reap()
		case <-gone:
			os.Exit(0)
		}
	}
}

func reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
