package seccomp

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultProfileRoot is the kubelet's default seccomp profile root
// (<root-dir>/seccomp), against which localhostProfile is resolved.
const DefaultProfileRoot = "/var/lib/kubelet/seccomp"

// MaxProfileSize is the size in bytes of the largest Localhost profile
// accepted. moby's default profile, the largest in common use, is 13 KiB.
const MaxProfileSize = 1 << 20

// Localhost loads the Localhost profile name (a Pod's localhostProfile, a
// path relative to the profile root root) for a container whose effective
// capabilities are caps, in OCI form ("CAP_SYS_ADMIN").
//
// name must be relative, with no ".." element, and must not resolve through
// a symlink to outside root (ErrProfileEscapes); it must name a regular file
// (ErrNotRegularFile) of at most MaxProfileSize bytes (ErrProfileTooLarge).
// The file is JSON: a Docker profile, whose rules' includes and excludes are
// evaluated against caps, runtime.GOARCH and the running kernel, or an OCI
// LinuxSeccomp. Anything else, an unknown field, action, operator,
// architecture or flag included, is an ErrInvalidProfile. Every error
// names the profile as `seccomp profile "name": ...`.
func Localhost(root, name string, caps []string) (*specs.LinuxSeccomp, error) {
	data, err := readProfile(root, name)
	if err != nil {
		return nil, profileError(name, err)
	}
	p, err := parse(data, target{goarch: runtime.GOARCH, caps: caps, kernel: hostKernel})
	if err != nil {
		return nil, profileError(name, err)
	}
	return p, nil
}

// checkName refuses the names the API server's validation of
// localhostProfile refuses: empty, absolute, or with a ".." element.
func checkName(name string) error {
	switch {
	case name == "":
		return invalidf("empty localhostProfile")
	case filepath.IsAbs(name) || strings.HasPrefix(name, "/"):
		return kindf(ErrProfileEscapes, "absolute path: want a path relative to the profile root")
	}
	for _, el := range strings.Split(filepath.ToSlash(name), "/") {
		if el == ".." {
			return kindf(ErrProfileEscapes, `path has a ".." element`)
		}
	}
	return nil
}

// readProfile reads name from inside root. os.Root resolves every element,
// symlinks included, within root, so a profile cannot be a link to a file
// elsewhere on the node.
func readProfile(root, name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("opening profile root %q: %w", root, unwrapPath(err))
	}
	defer r.Close()

	fi, err := r.Stat(name)
	if err != nil {
		return nil, rootError(root, err)
	}
	if err := checkFile(fi); err != nil {
		return nil, err
	}
	// O_NONBLOCK: were the file swapped for a FIFO after Stat, opening it
	// must not hang; the second check below then refuses it.
	f, err := r.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, rootError(root, err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("reading: %w", unwrapPath(err))
	}
	if err := checkFile(fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxProfileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading: %w", unwrapPath(err))
	}
	if len(data) > MaxProfileSize {
		return nil, kindf(ErrProfileTooLarge, "more than %d bytes", MaxProfileSize)
	}
	return data, nil
}

// checkFile refuses anything but a regular file of at most MaxProfileSize.
func checkFile(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return kindf(ErrNotRegularFile, "is a %s, not a regular file", fileKind(fi.Mode()))
	}
	if fi.Size() > MaxProfileSize {
		return kindf(ErrProfileTooLarge, "%d bytes, more than %d", fi.Size(), MaxProfileSize)
	}
	return nil
}

// fileKind names the type of a file that is not regular.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	}
	return "special file"
}

// rootError converts an error of os.Root into one that says whether the
// name escaped root.
func rootError(root string, err error) error {
	if isEscape(err) {
		return kindf(ErrProfileEscapes, "resolves outside the profile root %q", root)
	}
	return fmt.Errorf("reading from profile root %q: %w", root, unwrapPath(err))
}

// isEscape reports whether err is os.Root's refusal to leave its root.
// The os package does not export that error, so it is recognised by its
// text; TestLocalhost's symlink cases catch a change of it.
func isEscape(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Err.Error() == "path escapes from parent"
}

// unwrapPath drops the *fs.PathError around err, whose operation and path
// ("statat x.json") would repeat what the caller's message already says.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
