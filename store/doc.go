// Package store keeps the cluster objects podsec admits pods with
// (Namespaces, ServiceAccounts, RBAC roles and bindings,
// PodSecurityPolicies, and the kinds later issues register) as JSON files
// under the state root:
//
//	<root>/objects/<plural>/<name>.json              cluster-scoped kinds
//	<root>/objects/<plural>/<namespace>/<name>.json  namespaced kinds
//
// Names and namespaces are validated (DNS-1123, or path segment names for
// RBAC objects) before they are used in a path, so no name can leave its
// directory, and every file is reached through an os.Root on
// <root>/objects, which refuses symlinks out of it. Writes go to a
// temporary file that is synced and renamed over the old one, then the
// directory is synced: a reader sees the old object or the new one, never
// part of one. Several podsec processes share the store through a flock on
// <root>/objects/.lock: shared for reads, exclusive for changes. Every
// change replaces <root>/objects/.generation, a random token, so that a
// long-lived reader (the webhook, an embedding node) keeps what it made of
// the objects until the token changes (AdmissionObjects).
//
// The kinds are an explicit table (Kinds); each entry says how to decode,
// default, name and validate its objects. Validation follows the API
// server's where podsec depends on it, with field paths.
//
// policy/ stays pure: it gets the objects from a Snapshot.
package store
