package supervisor

import (
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/podsec/podsec/runtime"
)

func TestParseEvents(t *testing.T) {
	args := []string{"/bin/podsec", "--root", "/r", "supervise", "ns", "p", "--resume", "--stop",
		"--exit=42:768:1000", "--timer=crasher", "--logs=main:7:8", "--probes"}
	rest, ev, resume, err := ParseEvents(args)
	if err != nil {
		t.Fatalf("ParseEvents(%q) = %v", args, err)
	}
	wantRest := []string{"/bin/podsec", "--root", "/r", "supervise", "ns", "p"}
	want := Events{Stop: true, Timers: []string{"crasher"}, Logs: map[string][2]int{"main": {7, 8}},
		Exits:  map[int]runtime.Exit{42: {Status: syscall.WaitStatus(768), At: time.Unix(0, 1000)}},
		Probed: true}
	if !resume || !reflect.DeepEqual(rest, wantRest) || !reflect.DeepEqual(ev, want) {
		t.Errorf("ParseEvents(%q) = %q, %+v, %v; want %q, %+v, true", args, rest, ev, resume, wantRest, want)
	}
	if ev.Exits[42].Status.ExitStatus() != 3 {
		t.Errorf("exit status of 768 = %d, want 3", ev.Exits[42].Status.ExitStatus())
	}
	for _, bad := range []string{"--exit=1:2", "--exit=a:1:2", "--logs=main:7", "--logs=main:x:8"} {
		if _, _, _, err := ParseEvents([]string{"podsec", bad}); err == nil {
			t.Errorf("ParseEvents(%q): no error", bad)
		}
	}
}
