package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Whiteout names of the OCI image layer format.
const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
	// overlayOpaque marks a directory of an overlay layer that hides
	// the directories of the same path in lower layers.
	overlayOpaque = "trusted.overlay.opaque"
)

// unpacker writes one layer's tar stream into a directory in overlayfs's
// native format. Every entry is created relative to a parent directory fd
// that was resolved inside the layer directory (openat2 RESOLVE_IN_ROOT),
// with the *at system calls on a single final name that never follow a
// symlink: a symlink in the layer can only point into the layer itself,
// as if the layer were applied in a chroot (what docker and containerd do).
type unpacker struct {
	root   *os.File // the layer directory, O_PATH
	isRoot bool     // may chown and create device nodes
	dirs   []dirTimes
}

type dirTimes struct {
	rel          string
	atime, mtime time.Time
}

// unpackLayer extracts the uncompressed layer stream r into dir, an empty
// directory, and returns the stream's digest ("sha256:...") and size.
// The whole stream is hashed, tar padding included, so the digest is the
// layer's diffID. The stream, the sum of the files' sizes (a sparse entry
// is written out whole) and the number of entries are held to lim while
// they stream: a layer over a limit stops where it goes over.
func unpackLayer(r io.Reader, dir string, lim Limits) (digest string, size int64, err error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", 0, fmt.Errorf("opening %s: %w", dir, err)
	}
	u := &unpacker{root: os.NewFile(uintptr(fd), dir), isRoot: os.Geteuid() == 0}
	defer u.root.Close()

	h := sha256.New()
	tooBig := sizeLimit("unpacked size", lim.MaxLayerSize, "--max-layer-size")
	cr := &countingReader{r: io.TeeReader(&cappedReader{r: r, n: lim.MaxLayerSize, err: tooBig}, h)}
	tr := tar.NewReader(cr)
	sawRoot := false
	var entries, fileBytes int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", 0, limitOr(err, fmt.Errorf("reading layer tar: %w", tarError(err)))
		}
		if entries++; entries > lim.MaxLayerFiles {
			return "", 0, &limitError{what: "number of entries", limit: lim.MaxLayerFiles, flag: "--max-layer-files"}
		}
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA { //nolint:staticcheck // TypeRegA is still written by old tools
			if fileBytes += hdr.Size; hdr.Size < 0 || fileBytes > lim.MaxLayerSize {
				return "", 0, tooBig
			}
		}
		rel, err := cleanName(hdr.Name)
		if err != nil {
			return "", 0, err
		}
		if rel == "" {
			sawRoot = true
		}
		if err := u.entry(tr, hdr, rel); err != nil {
			return "", 0, limitOr(err, fmt.Errorf("layer entry %q: %w", hdr.Name, err))
		}
	}
	// The end-of-archive blocks and any padding are part of the diffID.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return "", 0, limitOr(err, fmt.Errorf("reading layer tar: %w", tarError(err)))
	}
	if !sawRoot {
		if err := unix.Chmod(procPath(u.root), 0o755); err != nil {
			return "", 0, fmt.Errorf("chmod layer root: %w", err)
		}
	}
	if err := u.finishDirs(); err != nil {
		return "", 0, err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), cr.n, nil
}

// limitOr returns the limit error in err, plainly, or else wrapped.
func limitOr(err, wrapped error) error {
	var le *limitError
	if errors.As(err, &le) {
		return le
	}
	return wrapped
}

func (u *unpacker) entry(tr *tar.Reader, hdr *tar.Header, rel string) error {
	dir, base := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	if rel == "" {
		if hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("%w: the layer root is not a directory", ErrUnsafeLayer)
		}
		return u.meta(u.root, "", hdr, true)
	}
	if base == whiteoutOpaque {
		return u.opaque(dir)
	}
	if strings.HasPrefix(base, whiteoutMeta) {
		return nil // other AUFS metadata (.wh..wh.plnk, ...) has no meaning here
	}
	parent, err := u.openDir(dir, true)
	if err != nil {
		return err
	}
	defer parent.Close()
	if strings.HasPrefix(base, whiteoutPrefix) {
		return u.whiteout(parent, strings.TrimPrefix(base, whiteoutPrefix))
	}
	if err := u.clear(parent, base, hdr.Typeflag == tar.TypeDir); err != nil {
		return err
	}
	pfd := int(parent.Fd())
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // TypeRegA is still written by old tools
		return u.file(tr, hdr, parent, base)
	case tar.TypeDir:
		if err := unix.Mkdirat(pfd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("mkdir: %w", err)
		}
		fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening directory: %w", err)
		}
		d := os.NewFile(uintptr(fd), base)
		defer d.Close()
		if err := u.meta(d, rel, hdr, true); err != nil {
			return err
		}
		return nil
	case tar.TypeSymlink:
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return fmt.Errorf("symlink: %w", err)
		}
		return u.metaAt(parent, base, hdr, false)
	case tar.TypeLink:
		return u.hardlink(hdr, parent, base)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return u.special(hdr, parent, base)
	case tar.TypeXGlobalHeader:
		return nil
	default:
		return fmt.Errorf("%w: unsupported tar entry type %q", ErrUnsafeLayer, hdr.Typeflag)
	}
}

// file writes a regular file. O_EXCL|O_NOFOLLOW: clear removed whatever
// was there, so an existing symlink can never redirect the write.
func (u *unpacker) file(tr *tar.Reader, hdr *tar.Header, parent *os.File, base string) error {
	fd, err := unix.Openat(int(parent.Fd()), base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("creating file: %w", err)
	}
	f := os.NewFile(uintptr(fd), base)
	defer f.Close()
	n, err := io.Copy(f, tr)
	if err != nil {
		return fmt.Errorf("writing file (%d of %d bytes): %w", n, hdr.Size, tarError(err))
	}
	if err := u.meta(f, "", hdr, false); err != nil {
		return err
	}
	if err := u.times(parent, base, hdr); err != nil {
		return err
	}
	return f.Close()
}

// hardlink links base to an earlier entry of the same layer. The target's
// parent is resolved inside the layer like any other path, and linkat is
// given no AT_SYMLINK_FOLLOW: a link to a symlink is a second symlink,
// never the file it points at.
func (u *unpacker) hardlink(hdr *tar.Header, parent *os.File, base string) error {
	target, err := cleanName(hdr.Linkname)
	if err != nil {
		return err
	}
	if target == "" {
		return fmt.Errorf("%w: hard link to the layer root", ErrUnsafeLayer)
	}
	tdir, tbase := path.Split(target)
	tparent, err := u.openDir(strings.TrimSuffix(tdir, "/"), false)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", hdr.Linkname, err)
	}
	defer tparent.Close()
	var st unix.Stat_t
	if err := unix.Fstatat(int(tparent.Fd()), tbase, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("hard link target %q: %w", hdr.Linkname, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("%w: hard link target %q is a directory", ErrUnsafeLayer, hdr.Linkname)
	}
	if err := unix.Linkat(int(tparent.Fd()), tbase, int(parent.Fd()), base, 0); err != nil {
		return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
	}
	return nil
}

// special creates a device node or a fifo. Device nodes need root; without
// it they are skipped, as rootless containerd does.
func (u *unpacker) special(hdr *tar.Header, parent *os.File, base string) error {
	mode := uint32(unix.S_IFIFO)
	switch hdr.Typeflag {
	case tar.TypeChar:
		mode = unix.S_IFCHR
	case tar.TypeBlock:
		mode = unix.S_IFBLK
	}
	if mode != unix.S_IFIFO && !u.isRoot {
		return nil
	}
	dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	if err := unix.Mknodat(int(parent.Fd()), base, mode|0o600, int(dev)); err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	return u.metaAt(parent, base, hdr, true)
}

// whiteout hides name of the lower layers with overlay's whiteout, a 0:0
// character device. A real entry of this layer with the same name wins:
// a whiteout only deletes from the layers below.
func (u *unpacker) whiteout(parent *os.File, name string) error {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return fmt.Errorf("%w: bad whiteout name %q", ErrUnsafeLayer, name)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(int(parent.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
		return nil
	}
	if err := unix.Mknodat(int(parent.Fd()), name, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("creating whiteout: %w", err)
	}
	return nil
}

// opaque marks dir so that overlay hides the lower layers' directories of
// the same path.
func (u *unpacker) opaque(dir string) error {
	d, err := u.openDir(dir, true)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Setxattr(procPath(d), overlayOpaque, []byte("y"), 0); err != nil {
		return fmt.Errorf("marking %q opaque: %w", dir, err)
	}
	return nil
}

// clear removes what a new entry replaces. A directory stays when the new
// entry is a directory too (tar may list a directory twice, and a later
// header only changes its metadata).
func (u *unpacker) clear(parent *os.File, base string, isDir bool) error {
	var st unix.Stat_t
	err := unix.Fstatat(int(parent.Fd()), base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if isDir {
			return nil
		}
		// os.RemoveAll opens the parent through its /proc/self/fd link
		// and then uses unlinkat and O_NOFOLLOW below it: symlinks inside
		// the removed tree are removed, never followed.
		if err := os.RemoveAll(procPath(parent) + "/" + base); err != nil {
			return fmt.Errorf("removing directory: %w", err)
		}
		return nil
	}
	if err := unix.Unlinkat(int(parent.Fd()), base, 0); err != nil {
		return fmt.Errorf("removing: %w", err)
	}
	return nil
}

// openDir opens the directory rel of the layer as an O_PATH fd, resolving
// every component inside the layer: ".." stops at the layer root and an
// absolute symlink is taken relative to it. With create, missing
// directories are made (mode 0755, like docker's implicit parents).
func (u *unpacker) openDir(rel string, create bool) (*os.File, error) {
	f, err := u.resolve(rel)
	if err == nil || !create || !errors.Is(err, unix.ENOENT) {
		return f, err
	}
	parts := strings.Split(rel, "/")
	cur, err := u.resolve("")
	if err != nil {
		return nil, err
	}
	for i, p := range parts {
		if err := unix.Mkdirat(int(cur.Fd()), p, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			cur.Close()
			return nil, fmt.Errorf("creating parent %q: %w", strings.Join(parts[:i+1], "/"), err)
		}
		cur.Close()
		if cur, err = u.resolve(strings.Join(parts[:i+1], "/")); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

func (u *unpacker) resolve(rel string) (*os.File, error) {
	return u.resolveWith(rel, unix.RESOLVE_IN_ROOT)
}

func (u *unpacker) resolveWith(rel string, resolve uint64) (*os.File, error) {
	if rel == "" {
		rel = "."
	}
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: resolve | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	var fd int
	var err error
	for range 16 { // EAGAIN: a rename raced the lookup
		if fd, err = unix.Openat2(int(u.root.Fd()), rel, how); !errors.Is(err, unix.EAGAIN) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("parent %q: %w", rel, err)
	}
	return os.NewFile(uintptr(fd), rel), nil
}

// syncDir flushes the filesystem holding dir, so that a layer is on disk
// before its rename makes it visible.
func syncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Syncfs(fd)
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// procPath names an fd (O_PATH ones included) for the calls that have no
// fd form, such as setxattr and utimensat on a directory.
func procPath(f *os.File) string { return fmt.Sprintf("/proc/self/fd/%d", f.Fd()) }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
