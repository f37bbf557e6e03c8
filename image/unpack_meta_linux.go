package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const paxXattr = "SCHILY.xattr."

// meta applies owner, mode and xattrs to an entry open as f (the layer
// root is an O_PATH fd, hence the /proc/self/fd paths). Owner comes
// first: chown clears the setuid bits and security.capability. A
// directory's times wait for finishDirs, as its entries change them.
func (u *unpacker) meta(f *os.File, rel string, hdr *tar.Header, isDir bool) error {
	p := procPath(f)
	if u.isRoot {
		if err := unix.Chown(p, hdr.Uid, hdr.Gid); err != nil {
			return fmt.Errorf("chown %d:%d: %w", hdr.Uid, hdr.Gid, err)
		}
	}
	if err := unix.Chmod(p, uint32(hdr.Mode)&0o7777); err != nil {
		return fmt.Errorf("chmod %o: %w", hdr.Mode, err)
	}
	if err := u.xattrs(p, hdr, false); err != nil {
		return err
	}
	if isDir {
		u.dirs = append(u.dirs, dirTimes{rel: rel, atime: atime(hdr), mtime: hdr.ModTime})
	}
	return nil
}

// metaAt is meta for entries that cannot be opened (symlinks, device
// nodes, fifos): every call names base in parent without following it.
func (u *unpacker) metaAt(parent *os.File, base string, hdr *tar.Header, chmod bool) error {
	pfd := int(parent.Fd())
	if u.isRoot {
		if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown %d:%d: %w", hdr.Uid, hdr.Gid, err)
		}
	}
	if chmod {
		// Not a symlink (the caller made a node or fifo in a directory
		// only podsec writes to), so following is moot.
		if err := unix.Fchmodat(pfd, base, uint32(hdr.Mode)&0o7777, 0); err != nil {
			return fmt.Errorf("chmod %o: %w", hdr.Mode, err)
		}
	}
	if err := u.xattrs(procPath(parent)+"/"+base, hdr, true); err != nil {
		return err
	}
	return u.times(parent, base, hdr)
}

// xattrs sets the entry's extended attributes (PAX SCHILY.xattr.*).
// trusted.* ones are dropped: trusted.overlay.* would change what the
// overlay shows (opaque dirs, redirects), and only podsec sets those.
func (u *unpacker) xattrs(p string, hdr *tar.Header, nofollow bool) error {
	keys := make([]string, 0, len(hdr.PAXRecords))
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, paxXattr) && !strings.HasPrefix(k, paxXattr+"trusted.") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, val := strings.TrimPrefix(k, paxXattr), []byte(hdr.PAXRecords[k])
		set := unix.Setxattr
		if nofollow {
			set = unix.Lsetxattr
		}
		err := set(p, name, val, 0)
		// ENOTSUP: the store's filesystem lacks the namespace; EPERM:
		// user.* on a symlink or a non-root unpack. Neither changes
		// what the container may do, so the entry stays.
		if err != nil && !errors.Is(err, unix.ENOTSUP) && !(errors.Is(err, unix.EPERM) && (nofollow || !u.isRoot)) {
			return fmt.Errorf("setxattr %s: %w", name, err)
		}
	}
	return nil
}

func (u *unpacker) times(parent *os.File, base string, hdr *tar.Header) error {
	ts := []unix.Timespec{toTimespec(atime(hdr)), toTimespec(hdr.ModTime)}
	if err := unix.UtimesNanoAt(int(parent.Fd()), base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting times: %w", err)
	}
	return nil
}

// finishDirs sets the directories' times, deepest last-listed first, after
// every entry is written.
func (u *unpacker) finishDirs() error {
	for i := len(u.dirs) - 1; i >= 0; i-- {
		d := u.dirs[i]
		// A later entry may have replaced the directory: then its times
		// are not this entry's to set.
		f, err := u.resolveWith(d.rel, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			continue
		}
		if err != nil {
			return fmt.Errorf("layer entry %q: %w", d.rel, err)
		}
		ts := []unix.Timespec{toTimespec(d.atime), toTimespec(d.mtime)}
		err = unix.UtimesNano(procPath(f), ts)
		f.Close()
		if err != nil {
			return fmt.Errorf("layer entry %q: setting times: %w", d.rel, err)
		}
	}
	return nil
}

func atime(hdr *tar.Header) time.Time {
	if hdr.AccessTime.IsZero() {
		return hdr.ModTime
	}
	return hdr.AccessTime
}

func toTimespec(t time.Time) unix.Timespec {
	if t.IsZero() {
		return unix.Timespec{Sec: 0, Nsec: unix.UTIME_OMIT}
	}
	return unix.NsecToTimespec(t.UnixNano())
}
