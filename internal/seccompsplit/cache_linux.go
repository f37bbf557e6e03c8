package seccompsplit

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The seccomp cache keeps compiled filters (classic BPF, as the kernel
// takes them) under <root>/seccomp-cache, one file per key: libseccomp
// spends milliseconds generating a profile's program for three
// architectures, and the program for one profile, libseccomp and podsec
// never changes. crun keeps such a cache for the same reason.
//
// A cached program is loaded into a process the pod can reach, so the
// cache trusts only what the node's root could have written: the
// directory must be a real directory of this user with no access for
// anyone else (0700), and a file must be a regular file of this user,
// 0600, with one link, opened without following symlinks; its content
// carries a checksum. Anything else is ignored and compiled again.
// Files are written aside and renamed into place, so a reader never sees
// half a program.
const (
	bpfCacheDir = "seccomp-cache"
	bpfMagic    = "podsec-bpf-v1\n"
	// MaxBytes bounds a cached program: the kernel takes at most
	// BPF_MAXINSNS (4096) instructions of 8 bytes.
	MaxBytes = 4096 * 8
)

// Cache is the seccomp cache under a state root.
type Cache struct {
	dir string
}

func NewCache(root string) Cache { return Cache{dir: filepath.Join(root, bpfCacheDir)} }

// Key is the cache key of a program made from the given inputs.
func Key(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Get returns the program cached under key, or nil when there is none
// that can be trusted.
func (c Cache) Get(key string) []byte {
	dfd, err := c.openDir(false)
	if err != nil {
		return nil
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, key, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), key)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG ||
		st.Uid != uint32(os.Geteuid()) || st.Mode&0o777 != 0o600 || st.Nlink != 1 ||
		st.Size > int64(len(bpfMagic)+sha256.Size+MaxBytes) {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(len(bpfMagic)+sha256.Size+MaxBytes)+1))
	if err != nil {
		return nil
	}
	return decodeBPF(b)
}

// Put stores prog under key. The cache is an optimisation: its errors are
// returned for the caller to ignore or report.
func (c Cache) Put(key string, prog []byte) error {
	dfd, err := c.openDir(true)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	tmp := "." + key + ".tmp-" + hex.EncodeToString(rnd[:])
	fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("seccomp cache: %w", err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, werr := f.Write(encodeBPF(prog))
	merr := f.Chmod(0o600) // whatever the umask
	serr := f.Sync()
	if err := errors.Join(werr, merr, serr, f.Close()); err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return fmt.Errorf("seccomp cache: %w", err)
	}
	if err := unix.Renameat(dfd, tmp, dfd, key); err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return fmt.Errorf("seccomp cache: %w", err)
	}
	return nil
}

// openDir opens the cache directory, making it when asked, and checks
// that only this user can have written in it.
func (c Cache) openDir(create bool) (int, error) {
	if create {
		if err := os.Mkdir(c.dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return -1, fmt.Errorf("seccomp cache: %w", err)
		}
	}
	fd, err := unix.Open(c.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("seccomp cache: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("seccomp cache: %w", err)
	}
	if st.Uid != uint32(os.Geteuid()) || st.Mode&0o077 != 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("seccomp cache: %s is owned by %d with mode %#o, not this user's with 0700: not used", c.dir, st.Uid, st.Mode&0o7777)
	}
	return fd, nil
}

// encodeBPF is a cache file's content: a magic line, the program's
// SHA-256 and the program.
func encodeBPF(prog []byte) []byte {
	sum := sha256.Sum256(prog)
	return append(append([]byte(bpfMagic), sum[:]...), prog...)
}

// decodeBPF returns the program of a cache file's content, or nil when it
// is not one whole program.
func decodeBPF(b []byte) []byte {
	rest, ok := bytes.CutPrefix(b, []byte(bpfMagic))
	if !ok || len(rest) < sha256.Size {
		return nil
	}
	sum, prog := rest[:sha256.Size], rest[sha256.Size:]
	if len(prog) == 0 || len(prog)%8 != 0 || len(prog) > MaxBytes {
		return nil
	}
	if got := sha256.Sum256(prog); !bytes.Equal(got[:], sum) {
		return nil
	}
	return prog
}

// Load puts every thread of the calling process under prog (classic
// BPF in the kernel's sock_filter layout), with no_new_privs, as
// libseccomp's seccomp_load does with TSYNC.
func Load(prog []byte) error {
	if len(prog) == 0 || len(prog)%8 != 0 || len(prog) > MaxBytes {
		return fmt.Errorf("a seccomp program of %d bytes", len(prog))
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("setting no_new_privs: %w", err)
	}
	return SetFilter(prog, 0)
}

// SetFilter puts every thread of the calling process under prog, with
// the seccomp filter flags given besides TSYNC.
func SetFilter(prog []byte, flags uint32) error {
	fprog := unix.SockFprog{Len: uint16(len(prog) / 8), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags|unix.SECCOMP_FILTER_FLAG_TSYNC), uintptr(unsafe.Pointer(&fprog)))
	switch {
	case errno != 0:
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", errno)
	case r != 0:
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): thread %d could not be synchronised", r)
	}
	return nil
}
