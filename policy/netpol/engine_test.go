package netpol

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/policy/netpol/netpoltest"
)

func TestAllowed(t *testing.T) {
	for _, tc := range netpoltest.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			e, err := New(Input{Namespaces: testNamespaces, Pods: testPods(), Policies: policies(t, tc.Policies)})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			for _, c := range tc.Conns {
				v := e.Allowed(endpoint(t, e, c.From), endpoint(t, e, c.To), c.Port, c.Proto)
				if v.Allowed != c.Want {
					t.Errorf("Allowed(%s -> %s:%d/%s) = %v, want %v\n%s", c.From, c.To, c.Port, c.Proto, v.Allowed, c.Want, v.Explain())
					continue
				}
				if c.Why != "" && !strings.Contains(v.Explain(), c.Why) {
					t.Errorf("Allowed(%s -> %s:%d/%s).Explain() does not say %q:\n%s", c.From, c.To, c.Port, c.Proto, c.Why, v.Explain())
				}
			}
		})
	}
}

func TestExplainNamesPoliciesOfBothSides(t *testing.T) {
	e, err := New(Input{Namespaces: testNamespaces, Pods: testPods(), Policies: policies(t, netpoltest.SeedEgress+"---"+netpoltest.SeedPostgres)})
	if err != nil {
		t.Fatal(err)
	}
	v := e.Allowed(endpoint(t, e, "default/web"), endpoint(t, e, "default/db"), 5432, "")
	got := v.Explain()
	for _, want := range []string{
		"ALLOWED",
		"Egress of default/web: allows\n    policies: default/egress-net-policy\n    allowed by default/egress-net-policy egress[0]",
		"Ingress of default/db: allows\n    policies: default/postgres-netpolicy\n    allowed by default/postgres-netpolicy ingress[0]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Explain() = %q, want it to contain %q", got, want)
		}
	}
	if v.Egress.Rule == nil || v.Egress.Rule.Policy != "default/egress-net-policy" || v.Ingress.Rule == nil || v.Ingress.Rule.Index != 0 {
		t.Errorf("Allowed(web -> db:5432) rules = %+v, %+v", v.Egress.Rule, v.Ingress.Rule)
	}
}

func TestMatrix(t *testing.T) {
	e, err := New(Input{Namespaces: testNamespaces, Pods: testPods(), Policies: policies(t, netpoltest.SeedPostgres)})
	if err != nil {
		t.Fatal(err)
	}
	pods := []*Pod{findPod(t, e, "default/web"), findPod(t, e, "default/db"), findPod(t, e, "default/client")}
	m := e.Matrix(pods, 5432, corev1.ProtocolTCP)
	// sorted: client, db, web
	want := [][]bool{
		{true, false, true},
		{true, true, true},
		{true, true, true},
	}
	for i := range want {
		for j := range want[i] {
			if m.Allowed[i][j] != want[i][j] {
				t.Errorf("Matrix[%s][%s] = %v, want %v", m.Pods[i].Key(), m.Pods[j].Key(), m.Allowed[i][j], want[i][j])
			}
		}
	}
	obs := NewMatrix(pods, 5432, "TCP")
	for i := range obs.Allowed {
		for j := range obs.Allowed[i] {
			obs.Allowed[i][j] = true
		}
	}
	if d := m.Diff(obs); len(d) != 1 || d[0] != "default/client -> default/db: want denied, got allowed" {
		t.Errorf("Diff = %q", d)
	}
	var b strings.Builder
	if err := m.Write(&b, obs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), ".!") || !strings.Contains(b.String(), "1 difference(s)") {
		t.Errorf("Write with observed does not mark the difference:\n%s", b.String())
	}
}

func TestValidatePolicy(t *testing.T) {
	bad := policiesNoValidate(t, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress, Sideways]
  ingress:
  - from:
    - {}
    - ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}
      podSelector: {}
    ports:
    - {port: http, endPort: 90}
    - {port: 90, endPort: 80}
    - {protocol: ICMP}
    - {port: 70000}
`)
	errs := ValidatePolicy(bad[0])
	want := []string{
		"spec.ingress[0].ports[0].endPort: Forbidden",
		"spec.ingress[0].ports[1].endPort: Invalid value: 80",
		"spec.ingress[0].ports[2].protocol: Unsupported value: \"ICMP\"",
		"spec.ingress[0].ports[3].port: Invalid value: 70000",
		"spec.ingress[0].from[0]: Required value",
		"spec.ingress[0].from[1]: Forbidden",
		"spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: \"11.0.0.0/8\"",
		"spec.policyTypes[1]: Unsupported value: \"Sideways\"",
	}
	got := errs.ToAggregate().Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("ValidatePolicy(bad) = %s\nwant it to contain %q", got, w)
		}
	}
	if len(errs) != len(want) {
		t.Errorf("ValidatePolicy(bad) has %d errors, want %d: %s", len(errs), len(want), got)
	}
}

func TestDefault(t *testing.T) {
	np := policies(t, netpoltest.SeedEgress)[0]
	Default(np)
	if got := np.Spec.PolicyTypes; len(got) != 2 {
		t.Errorf("Default(egress).PolicyTypes = %v, want [Ingress Egress]", got)
	}
	if p := np.Spec.Egress[0].Ports[0].Protocol; p == nil || *p != corev1.ProtocolTCP {
		t.Errorf("Default(egress) protocol = %v, want TCP", p)
	}
}
