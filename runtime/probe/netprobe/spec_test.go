package netprobe

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEncodeDecode(t *testing.T) {
	in := Spec{Container: "web", Attempt: 3, Kind: Readiness,
		PeriodSeconds: 2, TimeoutSeconds: 1, InitialDelaySeconds: 5, SuccessThreshold: 2, FailureThreshold: 4,
		StartedAt: time.Unix(0, 1700000000123456789), Next: time.Unix(0, 1700000002000000000),
		State: State{Result: Failure, Last: Success, Run: 1},
		Addr:  "[fd00::2]:8080", Request: []byte("GET /healthz?x=1 HTTP/1.1\r\nHost: a b\r\nX-Tab: a\tb\r\n\r\n"),
		Changed: true}
	enc, err := in.Encode()
	if err != nil {
		t.Fatalf("Encode(%+v) = %v", in, err)
	}
	out, err := Decode(enc)
	if err != nil {
		t.Fatalf("Decode(%q) = %v", enc, err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("Decode(Encode(%+v)) = %+v", in, out)
	}
	for _, c := range []string{sep, recordSep} {
		bad := in
		bad.Request = []byte("GET / HTTP/1.1\r\nX: a" + c + "b\r\n\r\n")
		if _, err := bad.Encode(); !errors.Is(err, ErrUnencodable) {
			t.Errorf("Encode(a request holding %q) = %v, want ErrUnencodable", c, err)
		}
		if _, err := EncodeAll([]Spec{in, bad}); !errors.Is(err, ErrUnencodable) {
			t.Errorf("EncodeAll(a request holding %q) = %v, want ErrUnencodable", c, err)
		}
	}
	two := in
	two.Container, two.Request, two.Kind = "db", nil, Liveness
	all, err := EncodeAll([]Spec{in, two})
	if err != nil {
		t.Fatalf("EncodeAll = %v", err)
	}
	if got, err := DecodeAll(all); err != nil || !reflect.DeepEqual(got, []Spec{in, two}) {
		t.Errorf("DecodeAll(EncodeAll(two probes)) = %+v, %v", got, err)
	}
	if got, err := DecodeAll(nil); err != nil || got != nil {
		t.Errorf("DecodeAll(nothing) = %+v, %v; want none", got, err)
	}
	for _, arg := range []string{"", "web", strings.Replace(enc, sep+"2"+sep, sep+"x"+sep, 1), strings.Replace(enc, "web"+sep+"3"+sep+"1"+sep+"2", "web"+sep+"3"+sep+"1"+sep+"0", 1)} {
		if _, err := Decode(arg); err == nil {
			t.Errorf("Decode(%q): no error", arg)
		}
	}
}

func TestDue(t *testing.T) {
	start := time.Unix(1000, 0)
	s := Spec{InitialDelaySeconds: 3, StartedAt: start}
	for _, tc := range []struct {
		after time.Duration
		want  bool
	}{{0, false}, {2999 * time.Millisecond, false}, {3 * time.Second, true}, {10 * time.Second, true}} {
		if got := s.Due(start.Add(tc.after)); got != tc.want {
			t.Errorf("Due(start+%v) = %v, want %v", tc.after, got, tc.want)
		}
	}
}
