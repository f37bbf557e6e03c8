package network

import "errors"

var (
	// ErrPortConflict: a hostPort/protocol/hostIP the pod asks for is
	// already held by another pod of this node.
	ErrPortConflict = errors.New("host port conflict")
	// ErrPortInUse: a hostPort is bound on the node by something that is not
	// a podsec pod.
	ErrPortInUse = errors.New("port in use on the node")
	// ErrAttached: the pod already has a network attachment.
	ErrAttached = errors.New("pod already has a network attachment")
	// ErrInvalid: a PodRef or a port mapping is not valid.
	ErrInvalid = errors.New("invalid network request")
	// ErrSubnetOverlap: the pod subnet overlaps a route of the node.
	ErrSubnetOverlap = errors.New("pod subnet overlaps a route of the node")
	// ErrExhausted: the pod subnet has no free address left.
	ErrExhausted = errors.New("pod subnet exhausted")
)

// ErrNotAttached: the pod has no recorded network attachment.
var ErrNotAttached = errors.New("pod has no network attachment")
