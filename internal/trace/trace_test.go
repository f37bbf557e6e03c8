package trace

import (
	"strings"
	"testing"
	"time"
)

func TestStepsNestAndReport(t *testing.T) {
	mu.Lock()
	on, spans, open = false, nil, 0
	mu.Unlock()
	Step("before")() // not recorded: the trace is off
	Enable()
	outer := Step("sandbox")
	inner := Step("mount /proc")
	time.Sleep(2 * time.Millisecond)
	inner()
	inner() // a second end changes nothing
	outer()
	ss := Spans()
	if len(ss) != 2 || ss[0].Name != "sandbox" || ss[1].Name != "mount /proc" || ss[1].Depth != 1 || ss[0].Depth != 0 {
		t.Fatalf("spans = %+v", ss)
	}
	if ss[1].Took < 2*time.Millisecond || ss[0].Took < ss[1].Took {
		t.Errorf("durations: outer %v, inner %v", ss[0].Took, ss[1].Took)
	}
	var b strings.Builder
	Report(&b)
	out := b.String()
	for _, want := range []string{"STEP", "sandbox", "  mount /proc", "total"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
