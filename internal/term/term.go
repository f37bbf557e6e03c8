package term

import (
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Escape returns s with every control character but tab and newline made
// visible: ESC as "^[" and CR as "\r", as kubectl writes them; the other
// C0 controls and DEL in caret notation ("^G", "^?"); the C1 controls
// (U+0080 to U+009F, CSI among them) as "\u009b"; and bytes that are not
// UTF-8 in that range as "\x9b", since a terminal in 8-bit mode reads
// them as C1 controls.
func Escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	appendEscaped(&b, s)
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' || c >= 0x7f {
			// Bytes of 0x80 and above are mostly plain UTF-8: look closer.
			if c < 0x80 {
				return true
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if isC1(r) || r == utf8.RuneError && size == 1 && isC1(rune(c)) {
				return true
			}
			i += size - 1
		}
	}
	return false
}

func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }

const hex = "0123456789abcdef"

func appendEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b:
			b.WriteString("^[")
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t' || c == '\n':
			b.WriteByte(c)
		case c < 0x20:
			b.WriteByte('^')
			b.WriteByte(c + 0x40)
		case c == 0x7f:
			b.WriteString("^?")
		case c < 0x80:
			b.WriteByte(c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case isC1(r):
				b.WriteString(`\u00`)
				b.WriteByte(hex[r>>4])
				b.WriteByte(hex[r&0xf])
			case r == utf8.RuneError && size == 1 && isC1(rune(c)):
				b.WriteString(`\x`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		i++
	}
}

// NewWriter returns a writer that escapes what it writes to w as Escape
// does. A UTF-8 sequence split across writes is held back until its end
// arrives, so that its continuation bytes are not taken for C1 controls.
func NewWriter(w io.Writer) io.Writer { return &writer{w: w} }

type writer struct {
	mu   sync.Mutex // writes may come from several goroutines (events)
	w    io.Writer
	tail []byte // the start of a UTF-8 sequence the last write cut
}

func (e *writer) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := string(append(e.tail, p...))
	e.tail = e.tail[:0]
	// Hold back an incomplete sequence at the end (at most 3 bytes).
	for k := 1; k <= 3 && k <= len(s); k++ {
		if c := s[len(s)-k]; c >= 0xc0 {
			if !utf8.FullRuneInString(s[len(s)-k:]) {
				e.tail = append(e.tail, s[len(s)-k:]...)
				s = s[:len(s)-k]
			}
			break
		} else if c < 0x80 {
			break
		}
	}
	if _, err := io.WriteString(e.w, Escape(s)); err != nil {
		return 0, err
	}
	return len(p), nil
}
