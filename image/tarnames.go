package image

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

func tarError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated layer (unexpected end of stream): %w", err)
	}
	return err
}

// cleanName turns a tar entry name into a path relative to the layer
// root: a leading "/" is dropped, as tar does, and a ".." that would climb
// above the root is refused. "" is the root itself.
func cleanName(n string) (string, error) {
	var parts []string
	for _, c := range strings.Split(n, "/") {
		switch c {
		case "", ".":
		case "..":
			if len(parts) == 0 {
				return "", fmt.Errorf("%w: %q climbs out of the layer", ErrUnsafeLayer, n)
			}
			parts = parts[:len(parts)-1]
		default:
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, "/"), nil
}
