// Package webhook serves PodSecurityPolicy and Pod Security Standards
// admission (package policy/admission) to a Kubernetes API server as an
// admission.k8s.io/v1 webhook over HTTPS.
//
// The server is built to survive the cluster that calls it: a webhook with
// failurePolicy: Fail that falls over stops pod creation in the whole
// cluster. So it bounds what one request and all requests together can
// take: the body size (413), the number of reviews decided at once (429
// with Retry-After past it, instead of queueing until the API server's 10s
// timeout), the memory of one review (the body is decoded once and the
// patch computed once), and read, write and idle timeouts on every
// connection. With a client CA it accepts only clients whose certificate
// that CA signed, as the API server presents one from its
// --admission-control-config-file kubeconfig.
//
// Its CPU per review is measured as a cluster runs it by
// BenchmarkWebhookProcess (the real binary on one core, an HTTP/2 client
// on the other): reviews are decided on worker goroutines whose stacks
// are already grown, the answer and the JSON Patch are written without
// reflection over their types (byte for byte what encoding/json wrote),
// buffers are pooled and log lines written in batches.
//
// The store is read from disk once per generation
// (store.Store.AdmissionObjects): a review costs a read of the store's
// generation token and the admission itself, and a change podsec apply
// writes decides the very next review.
package webhook
