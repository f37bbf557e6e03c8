package netpol

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// conn is one synthetic connection and the verdict it must get. why is a
// substring of the deciding side's reason: the allowing rule, or the
// isolating policies of a denial.
type conn struct {
	from, to string
	port     int32
	proto    corev1.Protocol
	want     bool
	why      string
}

// engineCase is a set of policies and the verdicts they imply.
type engineCase struct {
	name     string
	policies string
	conns    []conn
}

const (
	seedDefaultDeny = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: default}
spec:
  podSelector:
`
	seedPostgres = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: postgres-netpolicy, namespace: default}
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
	seedShoppingCart = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: shoppingcart-netpolicy, namespace: shop}
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
	seedIPBlock = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ipblock-netpolicy, namespace: default}
spec:
  podSelector:
    matchLabels: {app: database}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/24
`
	seedEgress = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-net-policy, namespace: default}
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

func engineCases() []engineCase {
	return []engineCase{
		{name: "no policies: everything open", conns: []conn{
			{"default/web", "default/db", 5432, "TCP", true, "not isolated"},
			{"203.0.113.5", "x/a", 80, "UDP", true, "not isolated"},
		}},
		{name: "seed default-deny: podSelector {} selects every pod of the namespace, no ingress rule", policies: seedDefaultDeny, conns: []conn{
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
		{name: "seed postgres-netpolicy: only app=webserver reaches app=database on 5432", policies: seedPostgres, conns: []conn{
			{"default/web", "default/db", 5432, "TCP", true, "default/postgres-netpolicy ingress[0] (from podSelector app=webserver, port 5432/TCP)"},
			{"default/web", "default/db", 5433, "TCP", false, "isolated for Ingress by default/postgres-netpolicy"},
			{"default/web", "default/db", 5432, "UDP", false, "postgres-netpolicy"},
			{"default/client", "default/db", 5432, "TCP", false, "postgres-netpolicy"},
			{"x/a", "default/db", 5432, "TCP", false, "postgres-netpolicy"},
			{"default/client", "default/web", 80, "TCP", true, "not isolated"},
			{"203.0.113.5", "default/db", 5432, "TCP", false, "postgres-netpolicy"},
		}},
		{name: "podSelector peer is the policy's namespace only", policies: seedPostgres + "---" + strings.ReplaceAll(seedPostgres, "namespace: default", `namespace: "y"`), conns: []conn{
			{"default/web", "default/db", 5432, "TCP", true, "postgres-netpolicy ingress[0]"},
			// y has no webserver: its db-less policy selects nothing there
			{"y/a", "y/b", 80, "TCP", true, "not isolated"},
		}},
		{name: "hostNetwork pods are not selected by podSelector peers", policies: seedPostgres, conns: []conn{
			{"default/hostnet", "default/db", 5432, "TCP", true, "from the node"},
		}},
		{name: "seed shoppingcart-netpolicy: namespaces labelled tenant=manning", policies: seedShoppingCart, conns: []conn{
			{"shop/buyer", "shop/cart", 80, "TCP", true, "shop/shoppingcart-netpolicy ingress[0] (from namespaceSelector tenant=manning, port 80/TCP)"},
			{"shop/buyer", "shop/cart", 8080, "TCP", false, "shoppingcart-netpolicy"},
			{"other/buyer", "shop/cart", 80, "TCP", false, "shoppingcart-netpolicy"},
			{"default/web", "shop/cart", 80, "TCP", false, "shoppingcart-netpolicy"},
			{"other/buyer", "other/cart", 80, "TCP", true, "not isolated"},
		}},
		{name: "seed ipBlock: matches any address in range, pod IPs included, not others", policies: seedIPBlock, conns: []conn{
			{"default/web", "default/db", 9999, "UDP", true, "default/ipblock-netpolicy ingress[0] (from ipBlock 10.0.0.0/24, port every port)"},
			{"10.0.0.200", "default/db", 80, "TCP", true, "ipblock-netpolicy ingress[0]"},
			{"10.0.1.200", "default/db", 80, "TCP", false, "ipblock-netpolicy"},
			{"shop/buyer", "default/db", 80, "TCP", false, "ipblock-netpolicy"},
		}},
		{name: "seed egress: app=webserver sends only to app=database on 5432", policies: seedEgress, conns: []conn{
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
		{name: "egress and ingress must both allow", policies: seedEgress + "---" + seedDefaultDeny, conns: []conn{
			{"default/web", "default/db", 5432, "TCP", false, "default/default-deny"},
		}},
		{name: "rules of all policies selecting a pod add up", policies: seedPostgres + "---" + seedIPBlock + "---" + seedDefaultDeny, conns: []conn{
			{"shop/buyer", "default/db", 5432, "TCP", false, "default/default-deny, default/ipblock-netpolicy, default/postgres-netpolicy"},
			{"default/client", "default/db", 7, "TCP", true, "ipblock-netpolicy ingress[0]"},
			{"x/a", "default/db", 5432, "TCP", false, "default/default-deny, default/ipblock-netpolicy, default/postgres-netpolicy"},
		}},
		{name: "policyTypes [Ingress] with no ingress denies all ingress, egress stays open", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-in, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: []
`, conns: []conn{
			{"x/b", "x/a", 80, "TCP", false, "x/deny-in"},
			{"x/a", "y/a", 80, "TCP", true, "not isolated"},
		}},
		{name: "policyTypes [Egress] only: ingress open, all egress denied", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-out, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
`, conns: []conn{
			{"x/a", "x/b", 80, "TCP", false, "isolated for Egress by x/deny-out"},
			{"x/b", "x/a", 80, "TCP", true, "not isolated"},
		}},
		{name: "egress rules without policyTypes default to [Ingress, Egress]", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: both, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  egress:
  - {}
`, conns: []conn{
			{"x/a", "203.0.113.5", 443, "TCP", true, "x/both egress[0] (to every address, port every port)"},
			{"x/b", "x/a", 80, "TCP", false, "isolated for Ingress by x/both"},
		}},
		{name: "empty from and ports allow everything (allow-all ingress)", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: x}
spec:
  podSelector: {}
  ingress:
  - {}
`, conns: []conn{
			{"203.0.113.5", "x/a", 1, "SCTP", true, "x/allow-all ingress[0] (from every address, port every port)"},
		}},
		{name: "AND: namespaceSelector and podSelector in one peer", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: and, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: b}}
      podSelector: {matchLabels: {app: a}}
`, conns: []conn{
			{"y/a", "x/b", 80, "TCP", true, "x/and ingress[0] (from podSelector app=a AND namespaceSelector team=b"},
			{"y/b", "x/b", 80, "TCP", false, "x/and"},
			{"x/a", "x/b", 80, "TCP", false, "x/and"},
		}},
		{name: "OR: namespaceSelector and podSelector as separate peers", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: or, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: b}}
    - podSelector: {matchLabels: {app: a}}
`, conns: []conn{
			{"y/a", "x/b", 80, "TCP", true, "x/or ingress[0] (from namespaceSelector team=b"},
			{"y/b", "x/b", 80, "TCP", true, "namespaceSelector team=b"},
			{"x/a", "x/b", 80, "TCP", true, "x/or ingress[0] (from podSelector app=a"},
			{"default/web", "x/b", 80, "TCP", false, "x/or"},
		}},
		{name: "namespaceSelector {} selects every namespace, podSelector {} every pod", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: all-pods, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {}
`, conns: []conn{
			{"other/buyer", "x/a", 80, "TCP", true, "namespaceSelector {}"},
			{"203.0.113.5", "x/a", 80, "TCP", false, "x/all-pods"},
			{"node", "x/a", 80, "TCP", true, "from the node"},
		}},
		{name: "matchExpressions: In, NotIn, Exists, DoesNotExist", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: exprs, namespace: x}
spec:
  podSelector:
    matchExpressions:
    - {key: app, operator: In, values: [a, b]}
  ingress:
  - from:
    - namespaceSelector:
        matchExpressions:
        - {key: env, operator: NotIn, values: [prod]}
        - {key: team, operator: Exists}
      podSelector:
        matchExpressions:
        - {key: tier, operator: DoesNotExist}
`, conns: []conn{
			{"y/b", "x/a", 80, "TCP", true, "x/exprs ingress[0]"},
			{"y/a", "x/a", 80, "TCP", false, "x/exprs"},         // has tier
			{"x/b", "x/a", 80, "TCP", false, "x/exprs"},         // env=prod
			{"other/buyer", "x/a", 80, "TCP", false, "x/exprs"}, // no team label
		}},
		{name: "namespace name label kubernetes.io/metadata.name is set automatically", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: by-name, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}
`, conns: []conn{
			{"other/cart", "x/a", 80, "TCP", true, "x/by-name ingress[0]"},
			{"shop/cart", "x/a", 80, "TCP", false, "x/by-name"},
		}},
		{name: "ipBlock except", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: except, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/16
        except: [10.0.1.0/24, 10.0.4.11/32]
`, conns: []conn{
			{"default/web", "x/a", 80, "TCP", true, "x/except ingress[0] (from ipBlock 10.0.0.0/16 except 10.0.1.0/24,10.0.4.11/32"},
			{"shop/buyer", "x/a", 80, "TCP", false, "x/except"},
			{"y/b", "x/a", 80, "TCP", false, "x/except"},
			{"y/a", "x/a", 80, "TCP", true, "x/except ingress[0]"},
			{"10.1.0.1", "x/a", 80, "TCP", false, "x/except"},
		}},
		{name: "egress ipBlock matches non-pod addresses, selectors do not", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: out, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: 203.0.113.0/24}
  - to:
    - podSelector: {}
      namespaceSelector: {}
`, conns: []conn{
			{"x/a", "203.0.113.5", 443, "TCP", true, "x/out egress[0] (to ipBlock 203.0.113.0/24"},
			{"x/a", "198.51.100.1", 443, "TCP", false, "x/out"},
			{"x/a", "node", 443, "TCP", false, "x/out"},
			{"x/a", "default/web", 80, "TCP", true, "x/out egress[1]"},
		}},
		{name: "ports: UDP, SCTP, protocol without port means every port", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: protos, namespace: x}
spec:
  podSelector: {}
  ingress:
  - ports:
    - {protocol: UDP, port: 53}
    - {protocol: SCTP}
`, conns: []conn{
			{"y/a", "x/a", 53, "UDP", true, "port 53/UDP"},
			{"y/a", "x/a", 53, "TCP", false, "x/protos"},
			{"y/a", "x/a", 54, "UDP", false, "x/protos"},
			{"y/a", "x/a", 9, "SCTP", true, "port every SCTP port"},
		}},
		{name: "endPort range", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: range, namespace: x}
spec:
  podSelector: {}
  ingress:
  - ports:
    - {port: 32000, endPort: 32768}
`, conns: []conn{
			{"y/a", "x/a", 31999, "TCP", false, "x/range"},
			{"y/a", "x/a", 32000, "TCP", true, "port 32000-32768/TCP"},
			{"y/a", "x/a", 32768, "TCP", true, "port 32000-32768/TCP"},
			{"y/a", "x/a", 32769, "TCP", false, "x/range"},
			{"y/a", "x/a", 32000, "UDP", false, "x/range"},
		}},
		{name: "named ports resolve on the destination pod's containerPorts", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: named, namespace: default}
spec:
  podSelector: {}
  ingress:
  - ports:
    - port: pg
    - {port: dns, protocol: UDP}
    - port: http
`, conns: []conn{
			{"x/a", "default/db", 5432, "TCP", true, `named port "pg"/TCP`},
			{"x/a", "default/db", 53, "UDP", true, `named port "dns"/UDP`},
			{"x/a", "default/db", 53, "TCP", false, "default/named"},
			{"x/a", "default/db", 80, "TCP", false, "default/named"},
			{"x/a", "default/web", 80, "TCP", true, `named port "http"/TCP`},
			{"x/a", "default/web", 5432, "TCP", false, "default/named"},
			{"x/a", "default/client", 80, "TCP", false, "default/named"},
		}},
		{name: "named port with an unset protocol means TCP", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: metrics, namespace: default}
spec:
  podSelector: {}
  ingress:
  - ports:
    - port: metrics
`, conns: []conn{
			{"x/a", "default/db", 9100, "TCP", true, `named port "metrics"/TCP`},
		}},
		{name: "egress named ports never match addresses that are not pods'", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: named-out, namespace: "y"}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: 0.0.0.0/0}
    ports:
    - port: http
`, conns: []conn{
			{"y/a", "y/b", 81, "TCP", true, `y/named-out egress[0] (to ipBlock 0.0.0.0/0, port named port "http"/TCP)`},
			{"y/a", "default/web", 80, "TCP", true, "y/named-out egress[0]"},
			{"y/a", "default/web", 81, "TCP", false, "y/named-out"},
			{"y/a", "203.0.113.5", 80, "TCP", false, "y/named-out"},
		}},
		{name: "hostNetwork pods are not isolated", policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: default}
spec:
  podSelector: {matchLabels: {app: webserver}}
  policyTypes: [Ingress, Egress]
`, conns: []conn{
			{"x/a", "default/hostnet", 80, "TCP", true, "not a pod that policies isolate"},
			{"default/hostnet", "x/a", 80, "TCP", true, "not a pod"},
			{"x/a", "default/web", 80, "TCP", false, "default/web"},
		}},
	}
}
