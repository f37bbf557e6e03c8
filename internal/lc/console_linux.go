package lc

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
	"golang.org/x/sys/unix"
)

// Stdio is how a process's standard streams are wired, and what to close
// once it started and once it ended.
type Stdio struct {
	epoller   *console.Epoller
	console   *console.EpollConsole
	host      console.Console // our own terminal, set raw while attached
	closers   []io.Closer     // closed at the end
	postStart []io.Closer     // closed once the process started
	wg        sync.WaitGroup
	consoleC  chan error // the pty master arrived (or not)
}

// SetupIO wires the process's stdio: a terminal (the pty master goes to
// the console socket when detaching, else to us), the runtime's own stdio
// (detached without a terminal: the caller's pipes, as containerd's shim
// and conmon give), or pipes copied to and from ours (foreground).
func SetupIO(p *libcontainer.Process, c *libcontainer.Container, terminal, detach bool, socket string) (_ *Stdio, err error) {
	if terminal {
		p.Stdin, p.Stdout, p.Stderr = nil, nil, nil
		t := &Stdio{}
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
		return &Stdio{}, nil
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
	t := &Stdio{closers: []io.Closer{pipes.Stdin, pipes.Stdout, pipes.Stderr}}
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

func (t *Stdio) copy(w io.Writer, r io.ReadCloser) {
	defer t.wg.Done()
	_, _ = io.Copy(w, r)
	_ = r.Close()
}

// hostConsole finds our own terminal among stdin, stdout, stderr and
// /dev/tty.
func (t *Stdio) hostConsole() error {
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
func (t *Stdio) attach(socket *os.File) (err error) {
	c, err := ReceiveConsole(socket)
	if err != nil {
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

// WaitConsole waits for the pty master of a foreground terminal.
func (t *Stdio) WaitConsole() error {
	if t.consoleC != nil {
		return <-t.consoleC
	}
	return nil
}

// Started closes what only the starting needed (the console socket, our
// ends of the child's pipes).
func (t *Stdio) Started() {
	for _, c := range t.postStart {
		_ = c.Close()
	}
	t.postStart = nil
}

// Close ends the copying and gives our terminal back.
func (t *Stdio) Close() {
	t.Started()
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

// Resize gives the container's terminal our terminal's size.
func (t *Stdio) Resize() {
	if t.console != nil && t.host != nil {
		_ = t.console.ResizeFrom(t.host)
	}
}

// ConsolePair is the socket pair a process's terminal is sent over:
// child goes to libcontainer.Process.ConsoleSocket, parent to
// ReceiveConsole once the process started.
func ConsolePair() (parent, child *os.File, err error) {
	return utils.NewSockPair("console")
}

// ReceiveConsole receives the pty master of a process's terminal from
// socket, with ONLCR cleared so that its output is passed through as
// written.
func ReceiveConsole(socket *os.File) (console.Console, error) {
	f, err := recvFile(socket)
	if err != nil {
		return nil, err
	}
	c, err := console.ConsoleFromFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("receiving the terminal: %w", err)
	}
	if err := console.ClearONLCR(c.Fd()); err != nil {
		c.Close()
		return nil, fmt.Errorf("receiving the terminal: %w", err)
	}
	return c, nil
}

// recvFile receives one file descriptor sent with SCM_RIGHTS over a unix
// socket, as libcontainer sends a console's pty master (the file's name
// is the message's payload). runc keeps its helper internal.
func recvFile(socket *os.File) (*os.File, error) {
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	conn, err := socket.SyscallConn()
	if err != nil {
		return nil, err
	}
	var n, oobn int
	var rerr error
	err = conn.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), name, oob, unix.MSG_CMSG_CLOEXEC)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, fmt.Errorf("receiving a file descriptor: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("receiving a file descriptor: no control message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, errors.New("receiving a file descriptor: want exactly one")
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
}
