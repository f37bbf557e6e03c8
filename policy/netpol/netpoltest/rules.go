package netpoltest

// ruleCases are the rules' parts one by one: policyTypes, peers and their
// selectors, ipBlock, ports.
func ruleCases() []Case {
	return []Case{
		{Name: "policyTypes [Ingress] with no ingress denies all ingress, egress stays open", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: deny-in, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: []
`, Conns: []Conn{
			{"x/b", "x/a", 80, "TCP", false, "x/deny-in"},
			{"x/a", "y/a", 80, "TCP", true, "not isolated"},
		}},
		{Name: "policyTypes [Egress] only: ingress open, all egress denied", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: deny-out, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
`, Conns: []Conn{
			{"x/a", "x/b", 80, "TCP", false, "isolated for Egress by x/deny-out"},
			{"x/b", "x/a", 80, "TCP", true, "not isolated"},
		}},
		{Name: "egress rules without policyTypes default to [Ingress, Egress]", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: both, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  egress:
  - {}
`, Conns: []Conn{
			{"x/a", "203.0.113.5", 443, "TCP", true, "x/both egress[0] (to every address, port every port)"},
			{"x/b", "x/a", 80, "TCP", false, "isolated for Ingress by x/both"},
		}},
		{Name: "empty from and ports allow everything (allow-all ingress)", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: allow-all, namespace: x}
spec:
  podSelector: {}
  ingress:
  - {}
`, Conns: []Conn{
			{"203.0.113.5", "x/a", 1, "SCTP", true, "x/allow-all ingress[0] (from every address, port every port)"},
		}},
		{Name: "AND: namespaceSelector and podSelector in one peer", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: and, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: b}}
      podSelector: {matchLabels: {app: a}}
`, Conns: []Conn{
			{"y/a", "x/b", 80, "TCP", true, "x/and ingress[0] (from podSelector app=a AND namespaceSelector team=b"},
			{"y/b", "x/b", 80, "TCP", false, "x/and"},
			{"x/a", "x/b", 80, "TCP", false, "x/and"},
		}},
		{Name: "OR: namespaceSelector and podSelector as separate peers", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: or, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: b}}
    - podSelector: {matchLabels: {app: a}}
`, Conns: []Conn{
			{"y/a", "x/b", 80, "TCP", true, "x/or ingress[0] (from namespaceSelector team=b"},
			{"y/b", "x/b", 80, "TCP", true, "namespaceSelector team=b"},
			{"x/a", "x/b", 80, "TCP", true, "x/or ingress[0] (from podSelector app=a"},
			{"default/web", "x/b", 80, "TCP", false, "x/or"},
		}},
		{Name: "namespaceSelector {} selects every namespace, podSelector {} every pod", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: all-pods, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {}
`, Conns: []Conn{
			{"other/buyer", "x/a", 80, "TCP", true, "namespaceSelector {}"},
			{"203.0.113.5", "x/a", 80, "TCP", false, "x/all-pods"},
			{"node", "x/a", 80, "TCP", true, "from the node"},
		}},
		{Name: "matchExpressions: In, NotIn, Exists, DoesNotExist", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: exprs, namespace: x}
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
`, Conns: []Conn{
			{"y/b", "x/a", 80, "TCP", true, "x/exprs ingress[0]"},
			{"y/a", "x/a", 80, "TCP", false, "x/exprs"},         // has tier
			{"x/b", "x/a", 80, "TCP", false, "x/exprs"},         // env=prod
			{"other/buyer", "x/a", 80, "TCP", false, "x/exprs"}, // no team label
		}},
		{Name: "namespace name label kubernetes.io/metadata.name is set automatically", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: by-name, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}
`, Conns: []Conn{
			{"other/cart", "x/a", 80, "TCP", true, "x/by-name ingress[0]"},
			{"shop/cart", "x/a", 80, "TCP", false, "x/by-name"},
		}},
		{Name: "ipBlock except", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: except, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/16
        except: [10.0.1.0/24, 10.0.4.11/32]
`, Conns: []Conn{
			{"default/web", "x/a", 80, "TCP", true, "x/except ingress[0] (from ipBlock 10.0.0.0/16 except 10.0.1.0/24,10.0.4.11/32"},
			{"shop/buyer", "x/a", 80, "TCP", false, "x/except"},
			{"y/b", "x/a", 80, "TCP", false, "x/except"},
			{"y/a", "x/a", 80, "TCP", true, "x/except ingress[0]"},
			{"10.1.0.1", "x/a", 80, "TCP", false, "x/except"},
		}},
		{Name: "egress ipBlock except: the node and a range cut out of it", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: out, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.0/22, except: [10.0.0.1/32, 10.0.0.8/30]}
`, Conns: []Conn{
			{"shop/buyer", "default/client", 80, "TCP", true, "shop/out egress[0] (to ipBlock 10.0.0.0/22 except 10.0.0.1/32,10.0.0.8/30"},
			{"shop/cart", "shop/buyer", 53, "UDP", true, "shop/out egress[0]"},
			{"shop/buyer", "default/web", 80, "TCP", false, "isolated for Egress by shop/out"},
			{"shop/buyer", "node", 80, "TCP", false, "shop/out"},
			{"shop/buyer", "x/a", 80, "TCP", true, "shop/out egress[0]"},
			{"shop/buyer", "y/a", 80, "TCP", false, "shop/out"},
			{"x/a", "shop/buyer", 80, "TCP", true, "not isolated"},
		}},
		{Name: "matchExpressions on the namespace name label", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: by-name-expr, namespace: x}
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
`, Conns: []Conn{
			{"default/client", "x/a", 80, "TCP", true, "x/by-name-expr ingress[0]"},
			{"other/buyer", "x/b", 80, "TCP", true, "x/by-name-expr ingress[0]"},
			{"shop/buyer", "x/a", 80, "TCP", false, "x/by-name-expr"},
			{"default/web", "x/b", 80, "TCP", false, "x/by-name-expr"},
		}},
		{Name: "egress ipBlock matches non-pod addresses, selectors do not", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: out, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: 203.0.113.0/24}
  - to:
    - podSelector: {}
      namespaceSelector: {}
`, Conns: []Conn{
			{"x/a", "203.0.113.5", 443, "TCP", true, "x/out egress[0] (to ipBlock 203.0.113.0/24"},
			{"x/a", "198.51.100.1", 443, "TCP", false, "x/out"},
			{"x/a", "node", 443, "TCP", false, "x/out"},
			{"x/a", "default/web", 80, "TCP", true, "x/out egress[1]"},
		}},
		{Name: "ports: UDP, SCTP, protocol without port means every port", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: protos, namespace: x}
spec:
  podSelector: {}
  ingress:
  - ports:
    - {protocol: UDP, port: 53}
    - {protocol: SCTP}
`, Conns: []Conn{
			{"y/a", "x/a", 53, "UDP", true, "port 53/UDP"},
			{"y/a", "x/a", 53, "TCP", false, "x/protos"},
			{"y/a", "x/a", 54, "UDP", false, "x/protos"},
			{"y/a", "x/a", 9, "SCTP", true, "port every SCTP port"},
		}},
		{Name: "endPort range", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: range, namespace: x}
spec:
  podSelector: {}
  ingress:
  - ports:
    - {port: 32000, endPort: 32768}
    - {protocol: UDP}
`, Conns: []Conn{
			{"y/a", "x/a", 31999, "TCP", false, "x/range"},
			{"y/a", "x/a", 32000, "TCP", true, "port 32000-32768/TCP"},
			{"y/a", "x/a", 32768, "TCP", true, "port 32000-32768/TCP"},
			{"y/a", "x/a", 32769, "TCP", false, "x/range"},
			{"y/a", "x/a", 32000, "UDP", true, "port every UDP port"},
			{"y/a", "x/a", 53, "UDP", true, "port every UDP port"},
		}},
		{Name: "named ports resolve on the destination pod's containerPorts", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: named, namespace: default}
spec:
  podSelector: {}
  ingress:
  - ports:
    - port: pg
    - {port: dns, protocol: UDP}
    - port: http
`, Conns: []Conn{
			{"x/a", "default/db", 5432, "TCP", true, `named port "pg"/TCP`},
			{"x/a", "default/db", 53, "UDP", true, `named port "dns"/UDP`},
			{"x/a", "default/db", 53, "TCP", false, "default/named"},
			{"x/a", "default/db", 80, "TCP", false, "default/named"},
			{"x/a", "default/web", 80, "TCP", true, `named port "http"/TCP`},
			{"x/a", "default/web", 5432, "TCP", false, "default/named"},
			{"x/a", "default/client", 80, "TCP", false, "default/named"},
		}},
		{Name: "named port with an unset protocol means TCP", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: metrics, namespace: default}
spec:
  podSelector: {}
  ingress:
  - ports:
    - port: metrics
`, Conns: []Conn{
			{"x/a", "default/db", 9100, "TCP", true, `named port "metrics"/TCP`},
		}},
		{Name: "egress named ports never match addresses that are not pods'", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: named-out, namespace: "y"}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: 0.0.0.0/0}
    ports:
    - port: http
`, Conns: []Conn{
			{"y/a", "y/b", 81, "TCP", true, `y/named-out egress[0] (to ipBlock 0.0.0.0/0, port named port "http"/TCP)`},
			{"y/a", "default/web", 80, "TCP", true, "y/named-out egress[0]"},
			{"y/a", "default/web", 81, "TCP", false, "y/named-out"},
			{"y/a", "203.0.113.5", 80, "TCP", false, "y/named-out"},
			{"y/a", "node", 80, "TCP", false, "y/named-out"},
		}},
		{Name: "hostNetwork pods are not isolated", Policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {Name: web, namespace: default}
spec:
  podSelector: {matchLabels: {app: webserver}}
  policyTypes: [Ingress, Egress]
`, Conns: []Conn{
			{"x/a", "default/hostnet", 80, "TCP", true, "not a pod that policies isolate"},
			{"default/hostnet", "x/a", 80, "TCP", true, "not a pod"},
			{"x/a", "default/web", 80, "TCP", false, "default/web"},
		}},
	}
}
