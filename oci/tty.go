package oci

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"

	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
)

// stdio is how a process's standard streams are wired, and what to close
// once it started and once it ended.
type stdio struct {
	epoller   *console.Epoller
	console   *console.EpollConsole
	host      console.Console // our own terminal, set raw while attached
	closers   []io.Closer     // closed at the end
	postStart []io.Closer     // closed once the process started
	wg        sync.WaitGroup
	consoleC  chan error // the pty master arrived (or not)
}

// setupIO wires the process's stdio: a terminal (the pty master goes to
// the console socket when detaching, else to us), the runtime's own stdio
// (detached without a terminal: the caller's pipes, as containerd's shim
// and conmon give), or pipes copied to and from ours (foreground).
func setupIO(p *libcontainer.Process, c *libcontainer.Container, terminal, detach bool, socket string) (_ *stdio, err error) {
	if terminal {
		p.Stdin, p.Stdout, p.Stderr = nil, nil, nil
		t := &stdio{}
		if detach {
			conn, err := net.Dial("unix", socket)
			if err != nil {
				return nil, fmt.Errorf("connecting to the console socket: %w", err)
			}
			f, err := conn.(*net.UnixConn).File()
			conn.Close()
			if err != nil {
				return nil, err
			}
			t.postStart = append(t.postStart, f)
			p.ConsoleSocket = f
			return t, nil
		}
		if err := t.hostConsole(); err != nil {
			return nil, err
		}
		parent, child, err := utils.NewSockPair("console")
		if err != nil {
			return nil, err
		}
		p.ConsoleSocket = child
		t.postStart = append(t.postStart, parent, child)
		t.consoleC = make(chan error, 1)
		go func() { t.consoleC <- t.attach(parent) }()
		return t, nil
	}
	if detach {
		p.Stdin, p.Stdout, p.Stderr = os.Stdin, os.Stdout, os.Stderr
		return &stdio{}, nil
	}
	cfg := c.Config()
	uid, err := cfg.HostRootUID()
	if err != nil {
		return nil, err
	}
	gid, err := cfg.HostRootGID()
	if err != nil {
		return nil, err
	}
	pipes, err := p.InitializeIO(uid, gid)
	if err != nil {
		return nil, err
	}
	t := &stdio{closers: []io.Closer{pipes.Stdin, pipes.Stdout, pipes.Stderr}}
	for _, s := range []any{p.Stdin, p.Stdout, p.Stderr} {
		if c, ok := s.(io.Closer); ok {
			t.postStart = append(t.postStart, c)
		}
	}
	go func() {
		_, _ = io.Copy(pipes.Stdin, os.Stdin)
		_ = pipes.Stdin.Close()
	}()
	t.wg.Add(2)
	go t.copy(os.Stdout, pipes.Stdout)
	go t.copy(os.Stderr, pipes.Stderr)
	return t, nil
}

func (t *stdio) copy(w io.Writer, r io.ReadCloser) {
	defer t.wg.Done()
	_, _ = io.Copy(w, r)
	_ = r.Close()
}

// hostConsole finds our own terminal among stdin, stdout, stderr and
// /dev/tty.
func (t *stdio) hostConsole() error {
	for _, f := range []*os.File{os.Stderr, os.Stdout, os.Stdin} {
		c, err := console.ConsoleFromFile(f)
		if err == nil {
			t.host = c
			return nil
		}
		if !errors.Is(err, console.ErrNotAConsole) {
			return fmt.Errorf("getting the terminal: %w", err)
		}
	}
	f, err := os.Open("/dev/tty")
	if err != nil {
		return fmt.Errorf("process.terminal is true but %s has no terminal: %w", "the runtime", err)
	}
	c, err := console.ConsoleFromFile(f)
	if err != nil {
		return fmt.Errorf("getting the terminal: %w", err)
	}
	t.host = c
	return nil
}

// attach receives the pty master and copies it to and from our terminal,
// which it sets raw.
func (t *stdio) attach(socket *os.File) (err error) {
	f, err := recvFile(socket)
	if err != nil {
		return err
	}
	c, err := console.ConsoleFromFile(f)
	if err != nil {
		return err
	}
	if err := console.ClearONLCR(c.Fd()); err != nil {
		return err
	}
	ep, err := console.NewEpoller()
	if err != nil {
		return err
	}
	ec, err := ep.Add(c)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = ec.Close()
		}
	}()
	go func() { _ = ep.Wait() }()
	go func() { _, _ = io.Copy(ec, os.Stdin) }()
	t.wg.Add(1)
	go t.copy(os.Stdout, ec)
	if err := t.host.SetRaw(); err != nil {
		return fmt.Errorf("setting the terminal raw: %w", err)
	}
	go func() {
		// An interrupt while raw: give the terminal back before leaving.
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt)
		<-ch
		_ = t.host.Reset()
		os.Exit(0)
	}()
	t.epoller, t.console, t.closers = ep, ec, []io.Closer{ec}
	return nil
}

// waitConsole waits for the pty master of a foreground terminal.
func (t *stdio) waitConsole() error {
	if t.consoleC != nil {
		return <-t.consoleC
	}
	return nil
}

// started closes what only the starting needed (the console socket, our
// ends of the child's pipes).
func (t *stdio) started() {
	for _, c := range t.postStart {
		_ = c.Close()
	}
	t.postStart = nil
}

// Close ends the copying and gives our terminal back.
func (t *stdio) Close() {
	t.started()
	if t.console != nil && t.epoller != nil {
		_ = t.console.Shutdown(t.epoller.CloseConsole)
	}
	t.wg.Wait()
	for _, c := range t.closers {
		_ = c.Close()
	}
	if t.host != nil {
		_ = t.host.Reset()
	}
}

// resize gives the container's terminal our terminal's size.
func (t *stdio) resize() {
	if t.console != nil && t.host != nil {
		_ = t.console.ResizeFrom(t.host)
	}
}
