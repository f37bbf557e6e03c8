package main

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

func init() {
	register("socket-families", socketFamilies)
}

// families are the address families the probe knows by name, with a
// socket type each supports.
var families = map[string]struct{ family, typ int }{
	"AF_UNIX":    {unix.AF_UNIX, unix.SOCK_STREAM},
	"AF_INET":    {unix.AF_INET, unix.SOCK_STREAM},
	"AF_INET6":   {unix.AF_INET6, unix.SOCK_STREAM},
	"AF_NETLINK": {unix.AF_NETLINK, unix.SOCK_RAW},
	"AF_PACKET":  {unix.AF_PACKET, unix.SOCK_DGRAM},
	"AF_ALG":     {unix.AF_ALG, unix.SOCK_SEQPACKET},
	"AF_VSOCK":   {unix.AF_VSOCK, unix.SOCK_STREAM},
}

// socketFamilies opens (and closes) a socket of each family named and
// prints "<family>: <outcome>" ("ok" or the errno's name). It succeeds
// whatever the outcomes, which the test reads.
//
//	attacker socket-families AF_ALG AF_VSOCK AF_INET ...
func socketFamilies(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: socket-families FAMILY...")
	}
	for _, name := range args {
		f, ok := families[name]
		if !ok {
			return fmt.Errorf("unknown family %q", name)
		}
		fd, err := unix.Socket(f.family, f.typ|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		fmt.Printf("%s: %s\n", name, errnoName(err))
	}
	return nil
}
