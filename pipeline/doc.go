// Package pipeline is the one path from a decoded manifest to a plan:
// validate (the API server's rules), admit (PodSecurityPolicy with RBAC,
// then the Pod Security Standards), check the node (what this node can
// mount and enforce), and translate into a Plan. Every entry point calls
// it: podsec run, run -d and the supervisor, spec, validate, admit, the
// webhook (admission only) and package node, where programs that embed
// podsec start (node.Open; node.Prepare and node.Plan run these steps in
// order, and the runtime executes the plan Build makes).
//
// The package is pure, like spec/ and policy/: the node's facts come in as
// data (Node), gathered by the kernel side (runtime.NodeFacts), as do the
// ConfigMaps and Secrets a pod's volumes read (Objects) and the node's
// files its /etc files start from (NodeFiles). The Plan goes out as data
// the kernel side executes without reading a securityContext field again:
// the containers' OCI specs, the sandbox's namespaces, each volume's
// source, ownership and files (modes after defaultMode and fsGroup), the
// host ports, the user namespace and what admission changed.
package pipeline
