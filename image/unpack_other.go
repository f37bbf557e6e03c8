//go:build !linux

package image

import (
	"errors"
	"io"
	"os"
)

// errNotLinux: layers are unpacked in overlayfs's format with openat2,
// which only Linux has.
var errNotLinux = errors.New("unpacking image layers needs Linux")

func unpackLayer(io.Reader, string) (string, int64, error) { return "", 0, errNotLinux }

func syncDir(string) error { return errNotLinux }

func isTerminal(*os.File) bool { return false }
