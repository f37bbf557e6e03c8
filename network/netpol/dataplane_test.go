package netpol

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"

	"github.com/podsec/podsec/policy/netpol"
)

// parsePolicies decodes and validates NetworkPolicies separated by "---".
func parsePolicies(tb testing.TB, docs string) []*networkingv1.NetworkPolicy {
	tb.Helper()
	var out []*networkingv1.NetworkPolicy
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		np := &networkingv1.NetworkPolicy{}
		if err := yaml.UnmarshalStrict([]byte(doc), np); err != nil {
			tb.Fatalf("decoding policy %q: %v", doc, err)
		}
		if errs := netpol.ValidatePolicy(np); len(errs) > 0 {
			tb.Fatalf("ValidatePolicy(%s) = %v", np.Name, errs.ToAggregate())
		}
		out = append(out, np)
	}
	return out
}

// probeSpec is a destination port and protocol that every pair of pods
// is probed on.
type probeSpec struct {
	port  int32
	proto corev1.Protocol
}

var (
	tcp80   = probeSpec{80, "TCP"}
	tcp5432 = probeSpec{5432, "TCP"}
	tcp8080 = probeSpec{8080, "TCP"}
	udp53   = probeSpec{53, "UDP"}
)

// checkMatrix probes every pair of the env's pods on each port and fails
// the test where the observed matrix differs from the engine's.
func (e *env) checkMatrix(eng *netpol.Engine, specs ...probeSpec) {
	e.tb.Helper()
	e.forgetConnections()
	for _, s := range specs {
		want := eng.Matrix(nil, s.port, s.proto)
		got, err := Probe(context.Background(), e.targets(eng), s.port, s.proto, DefaultProbeTimeout)
		if err != nil {
			e.tb.Fatalf("Probe(%d/%s): %v", s.port, s.proto, err)
		}
		if d := want.Diff(got); len(d) > 0 {
			var b strings.Builder
			want.Write(&b, got)
			e.tb.Errorf("Probe(%d/%s) differs from the engine's Matrix:\n%s\n%s", s.port, s.proto, strings.Join(d, "\n"), b.String())
			out, _ := exec.Command("nft", "list", "table", "inet", e.dp.Table()).CombinedOutput()
			e.tb.Logf("nft list table inet %s:\n%s", e.dp.Table(), out)
		}
	}
}

// net24 is the first three octets of the env's /24, for policies.
func (e *env) net24() string {
	return strings.TrimSuffix(e.prefix.Addr().String(), ".0")
}

// newPolicyEnv is the topology of TestPolicies: three namespaces, pods
// serving TCP and UDP on named ports, and the node. Hosts .16-.31 are the
// ipBlock tests' /28.
func newPolicyEnv(t *testing.T) *env {
	e := newEnv(t)
	e.ns = []netpol.Namespace{
		{Name: "default"},
		{Name: "shop", Labels: map[string]string{"tenant": "manning"}},
		{Name: "other", Labels: map[string]string{"tenant": "acme"}},
	}
	dns := netpol.ContainerPort{Name: "dns", Protocol: "UDP", Port: 53}
	e.addPod("default", "web", 17, map[string]string{"app": "webserver"}, netpol.ContainerPort{Name: "http", Protocol: "TCP", Port: 80}, dns)
	e.addPod("default", "db", 18, map[string]string{"app": "database"}, netpol.ContainerPort{Name: "pg", Protocol: "TCP", Port: 5432}, dns)
	e.addPod("default", "client", 33, map[string]string{"app": "client"}, dns)
	e.addPod("shop", "cart", 34, map[string]string{"app": "shopping-cart"}, netpol.ContainerPort{Name: "http", Protocol: "TCP", Port: 80}, dns)
	e.addPod("shop", "buyer", 20, map[string]string{"app": "buyer"}, dns)
	e.addPod("other", "buyer", 40, map[string]string{"app": "buyer"}, dns)
	e.addPod("other", "api", 41, map[string]string{"app": "api", "tier": "back"}, netpol.ContainerPort{Name: "http", Protocol: "TCP", Port: 8080}, dns)
	e.addNode()
	return e
}

// policyCases are the policies of TestPolicies with the ports to probe.
// NET is replaced by the env's /24 without its last octet.
var policyCases = []struct {
	name, policies string
	probes         []probeSpec
}{
	{"no policy: everything open", "", []probeSpec{tcp80, udp53}},
	{"seed default-deny", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
spec:
  podSelector:
`, []probeSpec{tcp80, udp53}},
	{"seed postgres-netpolicy", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: postgres-netpolicy
spec:
  podSelector:
    matchLabels:
      app: database
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: webserver
    ports:
    - port: 5432
`, []probeSpec{tcp5432, tcp80}},
	{"seed shoppingcart-netpolicy", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: shoppingcart-netpolicy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: shopping-cart
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          tenant: manning
    ports:
    - port: 80
`, []probeSpec{tcp80, tcp8080}},
	{"seed ipBlock (the test's /28)", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: ipblock-netpolicy
spec:
  podSelector:
    matchLabels:
      app: database
  ingress:
  - from:
    - ipBlock:
        cidr: NET.16/28
`, []probeSpec{tcp5432, udp53}},
	{"seed egress", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: egress-net-policy
spec:
  podSelector:
    matchLabels:
      app: webserver
  egress:
  - to:
    - podSelector:
        matchLabels:
          app: database
    ports:
    - port: 5432
`, []probeSpec{tcp5432, tcp80, udp53}},
	{"AND: namespaceSelector and podSelector in one peer", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: and, namespace: other}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {tenant: manning}}
      podSelector: {matchLabels: {app: buyer}}
`, []probeSpec{tcp8080}},
	{"OR: namespaceSelector and podSelector as two peers", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: or, namespace: other}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {tenant: manning}}
    - podSelector: {matchLabels: {app: buyer}}
`, []probeSpec{tcp8080}},
	{"matchExpressions and namespace name label", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: exprs, namespace: other}
spec:
  podSelector:
    matchExpressions:
    - {key: tier, operator: Exists}
  ingress:
  - from:
    - namespaceSelector:
        matchExpressions:
        - {key: kubernetes.io/metadata.name, operator: NotIn, values: [shop]}
      podSelector:
        matchExpressions:
        - {key: app, operator: In, values: [buyer, client]}
`, []probeSpec{tcp8080}},
	{"ipBlock except, and egress to the node by ipBlock only", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: except, namespace: default}
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock: {cidr: NET.0/24, except: [NET.16/28]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: out, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: NET.0/26, except: [NET.1/32, NET.32/30]}
`, []probeSpec{tcp80, udp53}},
	{"endPort range", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: range, namespace: other}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - ports:
    - {port: 32000, endPort: 32768}
    - {protocol: UDP}
`, []probeSpec{{31999, "TCP"}, {32000, "TCP"}, {32768, "TCP"}, {32769, "TCP"}, udp53}},
	{"named ports, ingress (TCP and UDP)", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: named, namespace: default}
spec:
  podSelector: {}
  ingress:
  - ports:
    - port: http
    - {port: dns, protocol: UDP}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: named, namespace: other}
spec:
  podSelector: {}
  ingress:
  - ports:
    - port: http
`, []probeSpec{tcp80, tcp8080, udp53, {53, "TCP"}}},
	{"named ports, egress: resolved on each destination pod, never the node", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: named-out, namespace: shop}
spec:
  podSelector: {matchLabels: {app: buyer}}
  policyTypes: [Egress]
  egress:
  - ports:
    - port: http
`, []probeSpec{tcp80, tcp8080}},
}

// TestPolicies programs each case's policies into the dataplane, one
// after the other over the same running pods (so every change is an
// incremental Sync), and checks that the probed matrix is the engine's.
func TestPolicies(t *testing.T) {
	e := newPolicyEnv(t)
	for _, tc := range policyCases {
		t.Run(tc.name, func(t *testing.T) {
			e.tb = t
			eng := e.engine(strings.ReplaceAll(tc.policies, "NET.", e.net24()+"."))
			st, d := e.sync(eng)
			t.Logf("Sync: %+v in %v", st, d)
			e.checkMatrix(eng, tc.probes...)
		})
	}
	e.tb = t
	// Back to no policy: the table goes.
	e.sync(e.engine(""))
	if out, _ := exec.Command("nft", "list", "tables").CombinedOutput(); strings.Contains(string(out), e.dp.Table()) {
		t.Errorf("table %s left after a Sync with no isolated pod:\n%s", e.dp.Table(), out)
	}
}

// TestPolicyChangeWhilePodsRun adds a policy and removes it again while
// the pods run: the probes right after each Sync returns see the change.
func TestPolicyChangeWhilePodsRun(t *testing.T) {
	e := newPolicyEnv(t)
	open := e.engine("")
	e.checkMatrix(open, tcp5432)
	deny := e.engine(policyCases[1].policies + "---" + policyCases[2].policies)
	st, d := e.sync(deny)
	t.Logf("adding default-deny and postgres-netpolicy: %+v in %v", st, d)
	e.checkMatrix(deny, tcp5432)
	pg := e.engine(policyCases[2].policies)
	st, d = e.sync(pg)
	t.Logf("removing default-deny: %+v in %v", st, d)
	// db's class changes (from both policies to postgres-netpolicy only),
	// and web and client are no longer isolated: their class goes.
	if st.Created || st.ClassesAdded != 1 || st.ClassesDeleted != 2 || st.PodsChanged != 3 {
		t.Errorf("Sync(removing one policy) = %+v, want an incremental update: 1 class added, 2 deleted, 3 pods changed", st)
	}
	e.checkMatrix(pg, tcp5432, tcp80)
	st, d = e.sync(open)
	t.Logf("removing postgres-netpolicy: %+v in %v", st, d)
	if !st.Removed {
		t.Errorf("Sync(no policy) = %+v, want the table removed", st)
	}
	e.checkMatrix(open, tcp5432, tcp80)
}

// TestPodStartedAfterPolicy starts pods once the policies are in place:
// the Sync that follows the pod's network setup isolates it.
func TestPodStartedAfterPolicy(t *testing.T) {
	e := newPolicyEnv(t)
	pols := policyCases[2].policies + "---" + policyCases[5].policies
	e.sync(e.engine(pols))
	e.addPod("default", "web2", 19, map[string]string{"app": "webserver"})
	e.addPod("default", "db2", 21, map[string]string{"app": "database"}, netpol.ContainerPort{Name: "pg", Protocol: "TCP", Port: 5432})
	e.addPod("default", "intruder", 35, map[string]string{"app": "intruder"})
	eng := e.engine(pols)
	st, d := e.sync(eng)
	t.Logf("Sync after three pods started: %+v in %v", st, d)
	if st.Created || st.ClassesAdded != 0 || st.PodsChanged != 3 {
		t.Errorf("Sync(new pods) = %+v, want only the pod maps changed (3 entries)", st)
	}
	e.checkMatrix(eng, tcp5432, tcp80)
}

// TestSyncRepairs rebuilds a table that someone changed by hand and
// leaves an up-to-date table alone.
func TestSyncRepairs(t *testing.T) {
	e := newPolicyEnv(t)
	eng := e.engine(policyCases[2].policies)
	e.sync(eng)
	if st, _ := e.sync(eng); st != (Stats{}) {
		t.Errorf("Sync(unchanged) = %+v, want no change", st)
	}
	if out, err := exec.Command("nft", "flush", "chain", "inet", e.dp.Table(), "forward").CombinedOutput(); err != nil {
		t.Fatalf("nft flush chain: %v: %s", err, out)
	}
	if st, _ := e.sync(eng); !st.Created {
		t.Errorf("Sync(after the forward chain was flushed) = %+v, want the table rebuilt", st)
	}
	e.checkMatrix(eng, tcp5432)
	out, err := exec.Command("nft", "list", "table", "inet", e.dp.Table()).CombinedOutput()
	if err != nil {
		t.Fatalf("nft list table: %v: %s", err, out)
	}
	for _, want := range []string{
		"ct state established,related accept",
		"ip daddr vmap @ingress-pods",
		"ip saddr . meta l4proto . th dport @ingress-",
		fmt.Sprintf("%s . tcp . 5432", e.addr(17)),
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("nft list table does not show %q:\n%s", want, out)
		}
	}
}
