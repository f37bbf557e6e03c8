package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lock takes the store's exclusive flock, waiting until ctx is done. The
// kernel drops the lock when the process dies, so a crashed podsec never
// wedges the store. Whoever holds the lock also owns tmp/, which it
// empties first.
func (s *Store) lock(ctx context.Context) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(s.root, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking image store: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking image store: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("locking image store: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := s.cleanTmp(); err != nil {
		f.Close()
		return nil, fmt.Errorf("cleaning image store tmp: %w", err)
	}
	return func() { f.Close() }, nil
}
