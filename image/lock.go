package image

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/podsec/podsec/internal/atomicfile"
)

// lock takes the store's exclusive flock, waiting until ctx is done. The
// kernel drops the lock when the process dies, so a crashed podsec never
// wedges the store. Whoever holds the lock also owns tmp/, which it
// empties first.
func (s *Store) lock(ctx context.Context) (unlock func(), err error) {
	unlock, err = atomicfile.Lock(ctx, filepath.Join(s.root, "lock"), true)
	if err != nil {
		return nil, fmt.Errorf("locking image store: %w", err)
	}
	if err := s.cleanTmp(); err != nil {
		unlock()
		return nil, fmt.Errorf("cleaning image store tmp: %w", err)
	}
	return unlock, nil
}
