package netprobe

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Spec is one running probe of one start of a container, as a supervisor
// hands it to podsec-monitor and gets it back: what to attempt, its
// timing and thresholds (defaulted), and where it stands.
type Spec struct {
	Container string
	Attempt   int // the container's start the probe judges
	Kind      Kind

	PeriodSeconds, TimeoutSeconds, InitialDelaySeconds int32
	SuccessThreshold, FailureThreshold                 int32

	// StartedAt is when the container started (for InitialDelaySeconds).
	StartedAt time.Time
	// Next is when the next attempt is due.
	Next time.Time
	State

	// Addr is the IP address and port to connect to: dotted IPv4
	// ("10.0.0.2:80") or expanded IPv6 ("[fd00:0000:0000:0000:0000:0000:0000:0002]:80",
	// as netip.Addr.StringExpanded writes it); "" makes every attempt
	// Unknown, with Err.
	Addr string
	// Err is why Addr is empty (a pod without an IP).
	Err string
	// Request is an httpGet probe's whole request, written once the
	// connection is open; empty for a tcpSocket probe.
	Request []byte

	// Changed is set by the monitor when State.Result changed.
	Changed bool
	// Handback is set by the monitor when it could not judge an attempt
	// (an HTTP redirect, which only the supervisor follows).
	Handback bool

	addr *sockAddr // Addr parsed, by the first attempt
}

// sep separates a Spec's fields in its encoding, and recordSep Specs in
// EncodeAll's: control characters no HTTP request line or header may
// hold (Encode refuses them elsewhere).
const (
	sep       = "\x1f"
	recordSep = "\x1e"
)

// ErrUnencodable is returned by Encode for a Spec holding the separator.
var ErrUnencodable = errors.New("probe holds a control character")

// Encode writes s as one line of text without NUL (a command-line
// argument, a record of EncodeAll).
func (s *Spec) Encode() (string, error) {
	f := []string{s.Container, strconv.Itoa(s.Attempt), strconv.Itoa(int(s.Kind)),
		i32(s.PeriodSeconds), i32(s.TimeoutSeconds), i32(s.InitialDelaySeconds), i32(s.SuccessThreshold), i32(s.FailureThreshold),
		strconv.FormatInt(s.StartedAt.UnixNano(), 10), strconv.FormatInt(s.Next.UnixNano(), 10),
		strconv.Itoa(int(s.Result)), strconv.Itoa(int(s.Last)), strconv.Itoa(s.Run),
		s.Addr, s.Err, string(s.Request), flag(s.Changed), flag(s.Handback)}
	for _, v := range f {
		if strings.Contains(v, sep) || strings.Contains(v, recordSep) || strings.IndexByte(v, 0) >= 0 {
			return "", ErrUnencodable
		}
	}
	return strings.Join(f, sep), nil
}

// EncodeAll writes specs as one file's contents: podsec-monitor and the
// supervisor hand probes to each other in a file of the pod's record
// (0600), not on their command lines, which every user of the node can
// read and which would show an httpGet probe's headers (credentials,
// sometimes).
func EncodeAll(specs []Spec) ([]byte, error) {
	recs := make([]string, len(specs))
	for i := range specs {
		r, err := specs[i].Encode()
		if err != nil {
			return nil, fmt.Errorf("%s probe of container %s: %w", specs[i].Kind, specs[i].Container, err)
		}
		recs[i] = r
	}
	return []byte(strings.Join(recs, recordSep)), nil
}

// DecodeAll reads what EncodeAll wrote.
func DecodeAll(b []byte) ([]Spec, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var out []Spec
	for _, r := range strings.Split(string(b), recordSep) {
		s, err := Decode(r)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Decode reads what Encode wrote.
func Decode(arg string) (Spec, error) {
	f := strings.Split(arg, sep)
	if len(f) != 18 {
		return Spec{}, fmt.Errorf("probe %q: %d fields, want 18", arg, len(f))
	}
	var n [13]int64
	for i := 1; i < 13; i++ {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return Spec{}, fmt.Errorf("probe %q: field %d: %w", arg, i, err)
		}
		n[i] = v
	}
	s := Spec{Container: f[0], Attempt: int(n[1]), Kind: Kind(n[2]),
		PeriodSeconds: int32(n[3]), TimeoutSeconds: int32(n[4]), InitialDelaySeconds: int32(n[5]),
		SuccessThreshold: int32(n[6]), FailureThreshold: int32(n[7]),
		StartedAt: time.Unix(0, n[8]), Next: time.Unix(0, n[9]),
		State: State{Result: Result(n[10]), Last: Result(n[11]), Run: int(n[12])},
		Addr:  f[13], Err: f[14], Changed: f[16] == "1", Handback: f[17] == "1"}
	if f[15] != "" {
		s.Request = []byte(f[15])
	}
	if s.PeriodSeconds <= 0 || s.TimeoutSeconds <= 0 {
		return Spec{}, fmt.Errorf("probe %q: period and timeout must be positive", arg)
	}
	return s, nil
}

func i32(v int32) string { return strconv.FormatInt(int64(v), 10) }

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Due reports whether an attempt made at now counts: the kubelet skips
// attempts until InitialDelaySeconds whole seconds have passed since the
// container started.
func (s *Spec) Due(now time.Time) bool {
	// Whole seconds compared with a whole number: the same as comparing
	// the seconds, without int32 overflowing for a distant StartedAt.
	return now.Sub(s.StartedAt).Seconds() >= float64(s.InitialDelaySeconds)
}

// Step makes the attempt due at now (see Due), counts it and schedules
// the next one. It returns whether the probe goes on (see State.Observe).
// An HTTP redirect sets Handback and stops: only the supervisor follows
// redirects.
func (s *Spec) Step(now time.Time) bool {
	s.Next = now.Add(time.Duration(s.PeriodSeconds) * time.Second)
	if !s.Due(now) {
		return true
	}
	res, redirect := s.attempt()
	if redirect {
		s.Handback = true
		return false
	}
	changed, more := s.Observe(res, s.Kind, s.SuccessThreshold, s.FailureThreshold)
	s.Changed = s.Changed || changed
	return more
}

// attempt makes one attempt, bounded by TimeoutSeconds. It allocates
// nothing after the first: a watcher making attempts for days keeps a
// steady heap and never has to collect for them.
func (s *Spec) attempt() (res Result, redirect bool) {
	if s.addr == nil && s.Addr != "" {
		s.addr = resolve(s.Addr)
	}
	if s.addr == nil {
		return Unknown, false
	}
	return s.addr.attempt(s.Request, time.Duration(s.TimeoutSeconds)*time.Second)
}
