// Package pipeline is the one path from a decoded manifest to a plan:
// validate (the API server's rules), admit (PodSecurityPolicy with RBAC,
// then the Pod Security Standards), check the node (what this node can
// mount and enforce), and translate into a Plan. Every entry point calls
// it: podsec run, run -d and the supervisor, spec, validate, admit, the
// webhook (admission only) and the runtime package.
//
// The package is pure, like spec/ and policy/: the node's facts come in as
// data (Node), gathered by the kernel side (runtime.NodeFacts), and the
// Plan goes out as data the kernel side executes without reading a
// securityContext field again.
package pipeline
