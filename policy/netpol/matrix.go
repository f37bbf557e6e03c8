package netpol

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"
)

// Matrix is the reachability of pods from pods on one port: Allowed[i][j]
// says whether Pods[i] may connect to Pods[j].
type Matrix struct {
	Pods     []*Pod
	Port     int32
	Protocol corev1.Protocol
	Allowed  [][]bool
}

// Matrix is the reachability table the policies imply for the pods (the
// engine's pods when pods is nil) on a destination port and protocol.
func (e *Engine) Matrix(pods []*Pod, port int32, proto corev1.Protocol) *Matrix {
	if pods == nil {
		pods = e.pods
	}
	m := NewMatrix(pods, port, proto)
	for i, from := range m.Pods {
		for j, to := range m.Pods {
			m.Allowed[i][j] = e.Allowed(PodEndpoint(from), PodEndpoint(to), port, m.Protocol).Allowed
		}
	}
	return m
}

// NewMatrix is an all-denied matrix of the pods (sorted), to fill in,
// e.g. from probes.
func NewMatrix(pods []*Pod, port int32, proto corev1.Protocol) *Matrix {
	ps := append([]*Pod(nil), pods...)
	sortPods(ps)
	m := &Matrix{Pods: ps, Port: port, Protocol: protocolOf(proto), Allowed: make([][]bool, len(ps))}
	for i := range m.Allowed {
		m.Allowed[i] = make([]bool, len(ps))
	}
	return m
}

// Diff lists the cells where two matrices of the same pods differ, as
// "from -> to: want allowed, got denied".
func (m *Matrix) Diff(got *Matrix) []string {
	var out []string
	for i := range m.Pods {
		for j := range m.Pods {
			if m.Allowed[i][j] != got.Allowed[i][j] {
				out = append(out, fmt.Sprintf("%s -> %s: want %s, got %s",
					m.Pods[i].Key(), m.Pods[j].Key(), word(m.Allowed[i][j]), word(got.Allowed[i][j])))
			}
		}
	}
	return out
}

func word(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "denied"
}

// Write prints the matrix as a table, sources in rows and destinations in
// columns, "." allowed and "X" denied. With observed (the probes'
// matrix of the same pods), it prints both side by side and marks each
// cell where they differ with "!".
func (m *Matrix) Write(w io.Writer, observed *Matrix) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "port %d/%s: from (rows) to (columns), . allowed, X denied\n", m.Port, m.Protocol)
	cols := make([]string, len(m.Pods))
	for j := range m.Pods {
		cols[j] = fmt.Sprintf("%d", j)
	}
	head := "\t" + strings.Join(cols, "\t")
	if observed != nil {
		fmt.Fprintf(tw, "EXPECTED%s\t|OBSERVED%s\t\n", head, head)
	} else {
		fmt.Fprintf(tw, "%s\t\n", head)
	}
	cell := func(ok bool) string {
		if ok {
			return "."
		}
		return "X"
	}
	diffs := 0
	for i, p := range m.Pods {
		row := []string{fmt.Sprintf("%d %s", i, p.Key())}
		for j := range m.Pods {
			row = append(row, cell(m.Allowed[i][j]))
		}
		if observed != nil {
			row = append(row, "|")
			for j := range m.Pods {
				c := cell(observed.Allowed[i][j])
				if observed.Allowed[i][j] != m.Allowed[i][j] {
					c += "!"
					diffs++
				}
				row = append(row, c)
			}
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
	if observed != nil {
		fmt.Fprintf(tw, "%d difference(s)\n", diffs)
	}
	return tw.Flush()
}
