package store

import (
	"context"
	"fmt"

	"github.com/podsec/podsec/internal/atomicfile"
)

// flock takes the store's lock, exclusive for changes and shared for
// reads, so that several podsec processes see each change whole. It
// returns the function that releases it.
func (s *Store) flock(exclusive bool) (func(), error) {
	unlock, err := atomicfile.Lock(context.Background(), s.lock, exclusive)
	if err != nil {
		return nil, fmt.Errorf("locking object store: %w", err)
	}
	return unlock, nil
}
