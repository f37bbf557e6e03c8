package logs

import "errors"

// ErrClosed is returned by writes to a closed Writer.
var ErrClosed = errors.New("log writer is closed")

// ErrInvalidOptions is wrapped by NewWriter for options out of range.
var ErrInvalidOptions = errors.New("invalid log writer options")

// ErrCorruptLine is wrapped by the error passed to ReadOptions.OnCorrupt for
// a line that is not a CRI log record.
var ErrCorruptLine = errors.New("corrupt log line")

// ErrUnknownStream is returned by writes to a stream other than stdout and
// stderr.
var ErrUnknownStream = errors.New("unknown stream")
