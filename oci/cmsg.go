package oci

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

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
