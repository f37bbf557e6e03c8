package logs

import (
	"bytes"
	"fmt"
	"time"
)

// Stream names as the CRI spells them.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

const (
	tagPartial = "P"
	tagFull    = "F"

	// timeFormatWrite is what containerd writes: variable-width nanoseconds.
	timeFormatWrite = time.RFC3339Nano
	// TimestampFormat is what `kubectl logs --timestamps` prints: the
	// kubelet's fixed-width RFC3339Nano, so columns line up.
	TimestampFormat = "2006-01-02T15:04:05.000000000Z07:00"
	// timeFormatRead accepts both the fixed and the variable width.
	timeFormatRead = "2006-01-02T15:04:05.999999999Z07:00"
)

// entry is one parsed record.
type entry struct {
	ts      time.Time
	stream  string
	partial bool
	content []byte // without the record's newline
}

// appendRecord appends the CRI record for content to b.
func appendRecord(b []byte, ts time.Time, stream string, partial bool, content []byte) []byte {
	b = ts.AppendFormat(b, timeFormatWrite)
	b = append(b, ' ')
	b = append(b, stream...)
	b = append(b, ' ')
	if partial {
		b = append(b, tagPartial...)
	} else {
		b = append(b, tagFull...)
	}
	b = append(b, ' ')
	b = append(b, content...)
	return append(b, '\n')
}

// parseRecord parses one record without its trailing newline. It follows the
// kubelet's parseCRILog: tags are ':'-separated for forward compatibility and
// only the first one is read.
func parseRecord(line []byte) (entry, error) {
	var e entry
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return e, fmt.Errorf("%w: timestamp not found", ErrCorruptLine)
	}
	t, err := time.Parse(timeFormatRead, string(ts))
	if err != nil {
		return e, fmt.Errorf("%w: timestamp %q is not RFC3339Nano", ErrCorruptLine, ts)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return e, fmt.Errorf("%w: stream not found", ErrCorruptLine)
	}
	switch string(stream) {
	case Stdout:
		e.stream = Stdout
	case Stderr:
		e.stream = Stderr
	default:
		return e, fmt.Errorf("%w: unexpected stream %q", ErrCorruptLine, stream)
	}
	tags, content, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return e, fmt.Errorf("%w: tag not found", ErrCorruptLine)
	}
	// Like the kubelet, any first tag but P reads as full, so tags a future
	// runtime adds do not lose lines.
	first, _, _ := bytes.Cut(tags, []byte{':'})
	e.partial = string(first) == tagPartial
	e.ts = t
	e.content = content
	return e, nil
}
