package netpoltest

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Conn is one connection and the verdict it must get. From and To are
// "namespace/name" of a pod of Cluster, "node", or an address. Why is a
// substring of the deciding side's reason: the allowing rule, or the
// isolating policies of a denial.
type Conn struct {
	From, To string
	Port     int32
	Proto    corev1.Protocol
	Want     bool
	Why      string
}

// Case is a set of policies (YAML documents separated by "---") and the
// verdicts they imply.
type Case struct {
	Name     string
	Policies string
	Conns    []Conn
}

// The seed policies, by their names in the Kubernetes documentation's
// examples; the dataplane's tests combine them.
const (
	SeedDefaultDeny = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: default-deny, namespace: default}
spec:
  podSelector:
`
	SeedPostgres = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: postgres-netpolicy, namespace: default}
spec:
  podSelector:
    matchLabels: {app: database}
  ingress:
  - from:
    - podSelector:
        matchLabels: {app: webserver}
    ports:
    - port: 5432
`
	SeedShoppingCart = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: shoppingcart-netpolicy, namespace: shop}
spec:
  podSelector:
    matchLabels: {app: shopping-cart}
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {tenant: manning}
    ports:
    - port: 80
`
	SeedIPBlock = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: ipblock-netpolicy, namespace: default}
spec:
  podSelector:
    matchLabels: {app: database}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/24
`
	SeedEgress = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: egress-net-policy, namespace: default}
spec:
  podSelector:
    matchLabels: {app: webserver}
  egress:
  - to:
    - podSelector:
        matchLabels: {app: database}
    ports:
    - port: 5432
`
)

// Cases are the NetworkPolicy cases, each run by the verdict engine
// (policy/netpol: every Conn gets its verdict and reason) and by the
// nftables dataplane (network/netpol: the pods of Cluster probed for real
// on the ports the Conns name, the observed matrix the engine's).
func Cases() []Case {
	return append(seedCases(), ruleCases()...)
}

// seedCases are the documentation's examples and their combinations.
func seedCases() []Case {
	return []Case{
		{Name: "no Policies: everything open", Conns: []Conn{
			{"default/web", "default/db", 5432, "TCP", true, "not isolated"},
			{"203.0.113.5", "x/a", 80, "UDP", true, "not isolated"},
		}},
		{Name: "seed default-deny: podSelector {} selects every pod of the namespace, no ingress rule", Policies: SeedDefaultDeny, Conns: []Conn{
			{"default/web", "default/db", 5432, "TCP", false, "isolated for Ingress by default/default-deny"},
			{"shop/buyer", "default/web", 80, "TCP", false, "default/default-deny"},
			{"203.0.113.5", "default/client", 80, "TCP", false, "default/default-deny"},
			{"default/web", "shop/cart", 8080, "TCP", true, "not isolated"},
			{"default/web", "203.0.113.5", 80, "TCP", true, "is not a pod"},
			{"node", "default/db", 5432, "TCP", true, "from the node"},
			{"default/hostnet", "default/db", 5432, "TCP", true, "from the node"},
			{"default/db", "default/hostnet", 80, "TCP", true, "not a pod that policies isolate"},
			{"default/db", "default/db", 5432, "TCP", true, ""},
		}},
		{Name: "seed postgres-netpolicy: only app=webserver reaches app=database on 5432", Policies: SeedPostgres, Conns: []Conn{
			{"default/web", "default/db", 5432, "TCP", true, "default/postgres-netpolicy ingress[0] (from podSelector app=webserver, port 5432/TCP)"},
			{"default/web", "default/db", 5433, "TCP", false, "isolated for Ingress by default/postgres-netpolicy"},
			{"default/web", "default/db", 5432, "UDP", false, "postgres-netpolicy"},
			{"default/client", "default/db", 5432, "TCP", false, "postgres-netpolicy"},
			{"x/a", "default/db", 5432, "TCP", false, "postgres-netpolicy"},
			{"default/client", "default/web", 80, "TCP", true, "not isolated"},
			{"203.0.113.5", "default/db", 5432, "TCP", false, "postgres-netpolicy"},
		}},
		{Name: "podSelector peer is the policy's namespace only", Policies: SeedPostgres + "---" + strings.ReplaceAll(SeedPostgres, "namespace: default", `namespace: "y"`), Conns: []Conn{
			{"default/web", "default/db", 5432, "TCP", true, "postgres-netpolicy ingress[0]"},
			// y has no webserver: its db-less policy selects nothing there
			{"y/a", "y/b", 80, "TCP", true, "not isolated"},
		}},
		{Name: "hostNetwork pods are not selected by podSelector peers", Policies: SeedPostgres, Conns: []Conn{
			{"default/hostnet", "default/db", 5432, "TCP", true, "from the node"},
		}},
		{Name: "seed shoppingcart-netpolicy: namespaces labelled tenant=manning", Policies: SeedShoppingCart, Conns: []Conn{
			{"shop/buyer", "shop/cart", 80, "TCP", true, "shop/shoppingcart-netpolicy ingress[0] (from namespaceSelector tenant=manning, port 80/TCP)"},
			{"shop/buyer", "shop/cart", 8080, "TCP", false, "shoppingcart-netpolicy"},
			{"other/buyer", "shop/cart", 80, "TCP", false, "shoppingcart-netpolicy"},
			{"default/web", "shop/cart", 80, "TCP", false, "shoppingcart-netpolicy"},
			{"other/buyer", "other/cart", 80, "TCP", true, "not isolated"},
		}},
		{Name: "seed ipBlock: matches any address in range, pod IPs included, not others", Policies: SeedIPBlock, Conns: []Conn{
			{"default/web", "default/db", 9999, "UDP", true, "default/ipblock-netpolicy ingress[0] (from ipBlock 10.0.0.0/24, port every port)"},
			{"10.0.0.200", "default/db", 80, "TCP", true, "ipblock-netpolicy ingress[0]"},
			{"10.0.1.200", "default/db", 80, "TCP", false, "ipblock-netpolicy"},
			{"shop/buyer", "default/db", 80, "TCP", false, "ipblock-netpolicy"},
		}},
		{Name: "seed egress: app=webserver sends only to app=database on 5432", Policies: SeedEgress, Conns: []Conn{
			{"default/web", "default/db", 5432, "TCP", true, "default/egress-net-policy egress[0] (to podSelector app=database, port 5432/TCP)"},
			{"default/web", "default/db", 80, "TCP", false, "isolated for Egress by default/egress-net-policy"},
			{"default/web", "default/client", 5432, "TCP", false, "egress-net-policy"},
			{"default/web", "203.0.113.5", 5432, "TCP", false, "egress-net-policy"},
			{"default/web", "node", 5432, "TCP", false, "egress-net-policy"},
			// Without policyTypes, the seed's egress example also isolates
			// app=webserver for ingress (policyTypes defaults to
			// [Ingress, Egress]) and has no ingress rule.
			{"default/client", "default/web", 80, "TCP", false, "isolated for Ingress by default/egress-net-policy"},
			{"default/web", "default/client", 80, "TCP", false, "isolated for Egress by default/egress-net-policy"},
			{"default/client", "default/db", 80, "TCP", true, "not isolated"},
		}},
		{Name: "egress and ingress must both allow", Policies: SeedEgress + "---" + SeedDefaultDeny, Conns: []Conn{
			{"default/web", "default/db", 5432, "TCP", false, "default/default-deny"},
		}},
		{Name: "rules of all policies selecting a pod add up", Policies: SeedPostgres + "---" + SeedIPBlock + "---" + SeedDefaultDeny, Conns: []Conn{
			{"shop/buyer", "default/db", 5432, "TCP", false, "default/default-deny, default/ipblock-netpolicy, default/postgres-netpolicy"},
			{"default/client", "default/db", 7, "TCP", true, "ipblock-netpolicy ingress[0]"},
			{"x/a", "default/db", 5432, "TCP", false, "default/default-deny, default/ipblock-netpolicy, default/postgres-netpolicy"},
		}},
	}
}
