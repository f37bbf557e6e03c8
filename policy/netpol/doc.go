// Package netpol is the NetworkPolicy verdict engine: given namespaces,
// pods and networking.k8s.io/v1 NetworkPolicies, it decides whether a
// connection is allowed and why (Engine.Allowed, Verdict.Explain), builds
// the reachability matrix of a set of pods (Engine.Matrix), and compiles
// the policies into the form the kernel dataplane (network/netpol) loads
// (Engine.Compile). It is pure: no I/O, no syscalls.
//
// # Semantics
//
// They follow the Kubernetes API documentation and the upstream
// conformance cases (cyclonus):
//
//   - A pod that no policy selects for a direction (by spec.podSelector in
//     the policy's namespace and an effective policyType of that
//     direction) is open in that direction. The rules of every policy
//     selecting a pod add up; a policy selecting a pod with no rule of the
//     direction denies all of it (default deny).
//   - policyTypes defaults to Ingress, plus Egress when spec.egress is not
//     empty (EffectivePolicyTypes).
//   - A connection needs the source's egress and the destination's
//     ingress to allow it.
//   - Peers: podSelector alone selects pods of the policy's namespace;
//     namespaceSelector alone every pod of the selected namespaces; both in
//     one peer, their AND; separate peers, their OR; {} selects all. An
//     ipBlock matches any address of its cidr outside its excepts, pod
//     addresses included; selectors never match addresses that are not
//     pods'. A rule without peers matches every address.
//   - Ports are destination ports; the protocol defaults to TCP; a ports
//     entry without a port matches every port of its protocol; endPort
//     makes a range; a named port resolves on the destination pod's
//     containerPorts (name and protocol) and never matches an address that
//     is not a pod's. A rule without ports matches every port and
//     protocol.
//   - Traffic from the node to its pods is always allowed. hostNetwork
//     pods have the node's network: no policy isolates them, and as peers
//     they are the node (selectors do not match them, ipBlocks do).
//   - A pod's traffic to itself stays in the pod and is always allowed.
//
// Replies of allowed connections are the dataplane's concern (connection
// tracking): the engine decides connections, not packets.
package netpol
