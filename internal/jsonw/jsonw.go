// Package jsonw writes a JSON document whose shape the caller knows piece
// by piece: the literal parts as they are, the values as json.Marshal
// writes them. The admission patch and the webhook's answer are written
// this way, byte for byte what json.Marshal wrote of their Go types,
// without its reflection over those types.
package jsonw

import (
	"bytes"
	"encoding/json"
)

// Writer appends to a buffer.
type Writer struct {
	buf *bytes.Buffer
	enc *json.Encoder
}

// New returns a Writer appending to buf.
func New(buf *bytes.Buffer) *Writer {
	return &Writer{buf: buf, enc: json.NewEncoder(buf)}
}

// Raw appends s, which must be JSON text (punctuation, keys, literals).
func (w *Writer) Raw(s string) { w.buf.WriteString(s) }

// Value appends v as json.Marshal writes it, HTML characters escaped.
func (w *Writer) Value(v any) error {
	if err := w.enc.Encode(v); err != nil {
		return err
	}
	// An Encoder ends each value with a newline.
	w.buf.Truncate(w.buf.Len() - 1)
	return nil
}
