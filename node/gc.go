package node

import (
	"context"

	"github.com/podsec/podsec/runtime"
	"github.com/podsec/podsec/supervisor"
)

// GC removes what pods whose podsec is gone left on the node, calling
// report for each thing removed; pods whose podsec runs are not touched.
func (n *Node) GC(ctx context.Context, report func(what string)) error {
	nw, err := n.Network()
	if err != nil {
		return err
	}
	return runtime.GC(ctx, n.root, nw, report)
}

// MarkLost marks Failed the records of detached pods whose supervisor is
// gone, calling report for each; records that cannot be read are left.
func (n *Node) MarkLost(report func(namespace, name string)) {
	st := supervisor.Open(n.root)
	recs, _ := st.List("")
	for _, r := range recs {
		if marked, err := st.MarkLost(r); err == nil && marked {
			report(r.Pod.Namespace, r.Pod.Name)
		}
	}
}
