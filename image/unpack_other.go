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

func unpackLayer(io.Reader, string, Limits) (string, int64, error) { return "", 0, errNotLinux }

func syncDir(string) error { return errNotLinux }

func isTerminal(*os.File) bool { return false }

func openDirPath(string) (*os.File, error) { return nil, errNotLinux }

func openBeneath(*os.File, string) (*os.File, int64, error) { return nil, 0, errNotLinux }

func openArgument(string) (*os.File, int64, bool, error) { return nil, 0, false, errNotLinux }
