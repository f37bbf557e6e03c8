// Package trace records how long the steps of a pod's start take, for
// podsec run --trace (or PODSEC_TRACE=1): decode, admission, image,
// sandbox, each mount, create, start, wait and cleanup. It is off unless
// enabled, and then costs a clock read and an append per step.
package trace

import (
	"fmt"
	"io"
	"os"
	"sync"
	"text/tabwriter"
	"time"
)

// Span is one step: its name, when it began (since the trace began) and
// how long it took. Depth is how many steps it runs within.
type Span struct {
	Name  string
	Start time.Duration
	Took  time.Duration
	Depth int
}

var (
	mu    sync.Mutex
	on    bool
	begin time.Time
	open  int
	spans []Span
)

// Enable starts the trace; its clock starts now.
func Enable() {
	mu.Lock()
	defer mu.Unlock()
	if !on {
		on, begin = true, time.Now()
	}
}

// FromEnv enables the trace when PODSEC_TRACE is set to anything but ""
// or "0".
func FromEnv() {
	if v := os.Getenv("PODSEC_TRACE"); v != "" && v != "0" {
		Enable()
	}
}

// Enabled tells whether steps are recorded.
func Enabled() bool {
	mu.Lock()
	defer mu.Unlock()
	return on
}

// Step records a step that begins now and ends when the returned function
// is called (once; later calls do nothing). Steps begun inside another one
// are shown indented below it.
func Step(name string) (end func()) {
	mu.Lock()
	defer mu.Unlock()
	if !on {
		return func() {}
	}
	i := len(spans)
	spans = append(spans, Span{Name: name, Start: time.Since(begin), Depth: open})
	open++
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			spans[i].Took = time.Since(begin) - spans[i].Start
			open--
		})
	}
}

// Spans returns the steps recorded so far, in the order they began.
func Spans() []Span {
	mu.Lock()
	defer mu.Unlock()
	return append([]Span(nil), spans...)
}

// Report writes the steps as a table (STEP, START, TOOK in milliseconds)
// and the total since the trace began.
func Report(w io.Writer) {
	mu.Lock()
	total := time.Since(begin)
	ss := append([]Span(nil), spans...)
	enabled := on
	mu.Unlock()
	if !enabled {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSTART\tTOOK")
	for _, s := range ss {
		took := "-"
		if s.Took > 0 {
			took = ms(s.Took)
		}
		fmt.Fprintf(tw, "%*s%s\t%s\t%s\n", 2*s.Depth, "", s.Name, ms(s.Start), took)
	}
	fmt.Fprintf(tw, "total\t\t%s\n", ms(total))
	tw.Flush()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
