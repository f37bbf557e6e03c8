package supervisor

import (
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/runtime/probe/netprobe"
)

func TestParseEvents(t *testing.T) {
	probe := netprobe.Spec{Container: "main", Attempt: 2, Kind: netprobe.Readiness, PeriodSeconds: 1, TimeoutSeconds: 1,
		SuccessThreshold: 1, FailureThreshold: 3, StartedAt: time.Unix(0, 5), Next: time.Unix(0, 6),
		State: netprobe.State{Result: netprobe.Failure, Last: netprobe.Failure, Run: 3}, Addr: "10.0.0.2:80", Changed: true}
	enc, err := probe.Encode()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"/bin/podsec", "--root", "/r", "supervise", "ns", "p", "--resume", "--stop",
		"--exit=42:768:1000", "--timer=crasher", "--logs=main:7:8", "--probe=" + enc}
	rest, ev, resume, err := ParseEvents(args)
	if err != nil {
		t.Fatalf("ParseEvents(%q) = %v", args, err)
	}
	wantRest := []string{"/bin/podsec", "--root", "/r", "supervise", "ns", "p"}
	want := Events{Stop: true, Timers: []string{"crasher"}, Logs: map[string][2]int{"main": {7, 8}},
		Exits:  map[int]runtime.Exit{42: {Status: syscall.WaitStatus(768), At: time.Unix(0, 1000)}},
		Probes: []netprobe.Spec{probe}}
	if !resume || !reflect.DeepEqual(rest, wantRest) || !reflect.DeepEqual(ev, want) {
		t.Errorf("ParseEvents(%q) = %q, %+v, %v; want %q, %+v, true", args, rest, ev, resume, wantRest, want)
	}
	if ev.Exits[42].Status.ExitStatus() != 3 {
		t.Errorf("exit status of 768 = %d, want 3", ev.Exits[42].Status.ExitStatus())
	}
	for _, bad := range []string{"--exit=1:2", "--exit=a:1:2", "--logs=main:7", "--logs=main:x:8", "--probe=main"} {
		if _, _, _, err := ParseEvents([]string{"podsec", bad}); err == nil {
			t.Errorf("ParseEvents(%q): no error", bad)
		}
	}
}
