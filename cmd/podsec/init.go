package main

import "github.com/podsec/podsec/node"

// init turns this process into a container's init when libcontainer
// re-executes podsec as "podsec init", or into a pod sandbox for
// "podsec sandbox-init" (node.Init). It must run before flag parsing.
func init() { node.Init() }
