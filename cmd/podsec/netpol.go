package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/netpolsync"
	netdp "github.com/podsec/podsec/network/netpol"
	"github.com/podsec/podsec/policy/netpol"
	"github.com/podsec/podsec/store"
)

// affectsNetworkPolicy reports whether a change of objects of kind k
// changes what the NetworkPolicy dataplane enforces.
func affectsNetworkPolicy(k *store.Kind) bool {
	return k.Plural == "networkpolicies" || k.Plural == "namespaces"
}

// syncNetworkPolicies programs the node's dataplane from the state root
// (node.SyncNetworkPolicies).
func syncNetworkPolicies(cmd *cobra.Command, g *globals) error {
	n, err := openNode(cmd, g)
	if err != nil {
		return err
	}
	return n.SyncNetworkPolicies()
}

func newNetpolCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "netpol",
		Short: "show what the stored NetworkPolicies allow between the node's pods",
	}
	cmd.AddCommand(newNetpolMatrixCommand(g), newNetpolExplainCommand(g))
	return cmd
}

func newNetpolMatrixCommand(g *globals) *cobra.Command {
	var nss []string
	var port int32
	var proto string
	var probe bool
	cmd := &cobra.Command{
		Use:   "matrix [-n NS...] [--port P] [--protocol TCP|UDP] [--probe]",
		Short: "the reachability table the stored policies imply for the running pods",
		Long: `matrix prints, for every pair of running pods (rows: from, columns: to), whether
the stored NetworkPolicies allow a connection to the port: '.' allowed, 'X'
denied. With --probe podsec also tries each connection for real, from inside
the source pod's network namespace with a bounded timeout, prints the observed
table beside the expected one, marks each difference with '!', and exits
non-zero when they differ.`,
		Example: `  podsec netpol matrix --port 5432
  podsec netpol matrix -n shop -n payments --port 80 --probe`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			snap, err := netpolsync.Load(g.root)
			if err != nil {
				return err
			}
			eng, err := netpol.New(snap.Input)
			if err != nil {
				return err
			}
			p := corev1.Protocol(strings.ToUpper(proto))
			var pods []*netpol.Pod
			for _, pod := range eng.Pods() {
				if len(nss) == 0 || contains(nss, pod.Namespace) {
					pods = append(pods, pod)
				}
			}
			if len(pods) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "No running pods found")
				return nil
			}
			m := eng.Matrix(pods, port, p)
			var observed *netpol.Matrix
			if probe {
				var targets []netdp.Target
				for _, pod := range pods {
					targets = append(targets, netdp.Target{Pod: pod, NetNS: snap.NetNS[pod.Key()]})
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
				defer cancel()
				if observed, err = netdp.Probe(ctx, targets, port, p, netdp.DefaultProbeTimeout); err != nil {
					return err
				}
			}
			if err := m.Write(cmd.OutOrStdout(), observed); err != nil {
				return err
			}
			if observed != nil {
				if d := m.Diff(observed); len(d) > 0 {
					return fmt.Errorf("%d connections differ from what the policies imply: %s", len(d), strings.Join(d, "; "))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&nss, "namespace", "n", nil, "namespaces of the pods to show (default: all)")
	cmd.Flags().Int32Var(&port, "port", 80, "destination port")
	cmd.Flags().StringVar(&proto, "protocol", "TCP", "TCP, UDP or SCTP")
	cmd.Flags().BoolVar(&probe, "probe", false, "also try every connection for real and mark differences")
	return cmd
}

func newNetpolExplainCommand(g *globals) *cobra.Command {
	var from, to, proto, ns string
	var port int32
	cmd := &cobra.Command{
		Use:   "explain --from POD --to POD --port P",
		Short: "which policies select each side of a connection and which rule allows or denies it",
		Example: `  podsec netpol explain --from web --to db --port 5432
  podsec netpol explain --from shop/cart --to payments/api --port 80`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			snap, err := netpolsync.Load(g.root)
			if err != nil {
				return err
			}
			eng, err := netpol.New(snap.Input)
			if err != nil {
				return err
			}
			src, err := endpoint(eng, from, ns)
			if err != nil {
				return err
			}
			dst, err := endpoint(eng, to, ns)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), eng.Allowed(src, dst, port, corev1.Protocol(strings.ToUpper(proto))).Explain())
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "source: a running pod (NAME or NAMESPACE/NAME) or an IP address")
	cmd.Flags().StringVar(&to, "to", "", "destination: a running pod (NAME or NAMESPACE/NAME) or an IP address")
	cmd.Flags().Int32Var(&port, "port", 80, "destination port")
	cmd.Flags().StringVar(&proto, "protocol", "TCP", "TCP, UDP or SCTP")
	cmd.Flags().StringVarP(&ns, "namespace", "n", "default", "namespace of pods named without one")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

// endpoint resolves a pod name or an address.
func endpoint(eng *netpol.Engine, s, ns string) (netpol.Endpoint, error) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return netpol.AddrEndpoint(ip), nil
	}
	key := s
	if !strings.Contains(s, "/") {
		key = ns + "/" + s
	}
	for _, p := range eng.Pods() {
		if p.Key() == key {
			return netpol.PodEndpoint(p), nil
		}
	}
	return netpol.Endpoint{}, fmt.Errorf("pod %q is not running on this node", key)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
