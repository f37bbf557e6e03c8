package store

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// flock takes the store's lock, exclusive for changes and shared for
// reads, so that several podsec processes see each change whole. It
// returns the function that releases it.
func (s *Store) flock(exclusive bool) (func(), error) {
	f, err := os.OpenFile(s.lock, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking object store: %w", err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking object store: %w", err)
	}
	// Closing the file releases the lock.
	return func() { f.Close() }, nil
}
