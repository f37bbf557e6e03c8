package admission

import (
	"maps"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/policy/psp"
	"github.com/podsec/podsec/policy/pss"
	"github.com/podsec/podsec/policy/rbac"
)

// Operation is what a request does to the pod, in admission.k8s.io/v1's
// words.
type Operation string

// The operations PodSecurityPolicy and PodSecurity act on.
const (
	Create Operation = "CREATE"
	Update Operation = "UPDATE"
)

// Phase selects the admission phases Admit runs.
type Phase int

// The phases. A MutatingWebhookConfiguration calls the mutating phase, a
// ValidatingWebhookConfiguration the validating one; the API server runs
// every mutating plugin and webhook before any validating one.
const (
	// AllPhases runs the mutating phase, then the validating phase, as the
	// API server does for one request.
	AllPhases Phase = iota
	// Mutating runs PodSecurityPolicy selection with defaults, on CREATE
	// only.
	Mutating
	// Validating runs the Pod Security Standards, then PodSecurityPolicy
	// validation without defaults.
	Validating
)

// DefaultServiceAccount is the service account of a pod that names none,
// as the API server's ServiceAccount admission plugin sets it before
// PodSecurityPolicy runs.
const DefaultServiceAccount = "default"

// Request is one pod admission request.
type Request struct {
	// Pod is the pod as received. Admit does not change it.
	Pod *corev1.Pod
	// OldPod is the stored pod an UPDATE replaces; nil counts as a change
	// of everything.
	OldPod *corev1.Pod
	// Namespace is the request's namespace; when empty, the pod's, else
	// "default".
	Namespace string
	// User is who asks.
	User rbac.UserInfo
	// Operation is CREATE when empty.
	Operation Operation
	// Phase is AllPhases when zero.
	Phase Phase
	// Explain has Result.Policies say what every PodSecurityPolicy makes
	// of the pod, those the requester may not use too. Without it, only
	// the policies the requester may use are tried, as many as the
	// decision needs; the decision and its messages are the same.
	Explain bool
	// SubResource is the subresource of pods the request is for; empty
	// for the pod itself. Of the subresources, only SubResourceEphemeralContainers
	// is evaluated (as 1.24's PodSecurityPolicy and pod-security-admission
	// did); the others (status, binding, ...) do not change what runs and are
	// admitted unchanged.
	SubResource string
}

// SubResourceEphemeralContainers is the subresource through which
// "kubectl debug" adds a container to a running pod. The request's object
// is the whole pod, so it is evaluated as an update of the pod.
const SubResourceEphemeralContainers = "ephemeralcontainers"

// Objects are the cluster objects admission decides with.
type Objects struct {
	// PodSecurityPolicies, in any order. None turns PodSecurityPolicy
	// admission off.
	PodSecurityPolicies []*psp.PodSecurityPolicy
	// RBAC grants "use" of the policies.
	RBAC rbac.Objects
	// NamespaceLabels are the labels of each known namespace, by name. A
	// namespace that is not there has no labels.
	NamespaceLabels map[string]map[string]string

	// index is set by Indexed.
	index *index
}

// Audit annotation keys of the PodSecurityPolicy plugin, as 1.24 set them
// (auditKeyPrefix "podsecuritypolicy.policy.k8s.io").
const (
	AnnotationAdmitPolicy    = "podsecuritypolicy.policy.k8s.io/admit-policy"
	AnnotationValidatePolicy = "podsecuritypolicy.policy.k8s.io/validate-policy"
)

// Result is the outcome of Admit.
type Result struct {
	// Allowed is false when a plugin refused the pod.
	Allowed bool
	// Pod is the admitted pod: with the chosen policy's defaults and the
	// kubernetes.io/psp annotation after the mutating phase, a copy of the
	// request's otherwise. Nil when refused.
	Pod *corev1.Pod
	// Policy names the PodSecurityPolicy that admitted the pod; empty when
	// PodSecurityPolicy admission is off or did not run.
	Policy string
	// Err is the refusal, with the API server's text:
	//   pods "web" is forbidden: PodSecurityPolicy: unable to admit pod: [...]
	//   pods "web" is forbidden: violates PodSecurity "restricted:latest": ...
	// A PodSecurityPolicy refusal is a *psp.ForbiddenError.
	Err error
	// Warnings are the PodSecurity warn mode's messages, which kubectl
	// prints as "Warning: would violate PodSecurity ...".
	Warnings []string
	// AuditAnnotations are the annotations the plugins add to the request's
	// audit event, by key.
	AuditAnnotations map[string]string
	// Policies is what each PodSecurityPolicy tried made of the pod in the
	// last PodSecurityPolicy step, in the order tried: whether the
	// requester may use it, whether it would change the pod, and its
	// errors. Every policy with Request.Explain; otherwise those the
	// requester may use, up to the one that admitted the pod.
	Policies []psp.Result
}

// evaluator is built once: the check registry is the same for every call.
var evaluator = sync.OnceValues(pss.NewEvaluator)

// Admit decides one request. See the package doc for the order of the
// steps; the first refusal ends the request.
func Admit(req Request, objs Objects) Result {
	op := req.Operation
	if op == "" {
		op = Create
	}
	ns := namespaceOf(req)
	pod := req.Pod.DeepCopy()
	if pod.Namespace == "" {
		pod.Namespace = ns
	}
	res := Result{Allowed: true, Pod: pod, AuditAnnotations: map[string]string{}}
	if req.SubResource != "" && req.SubResource != SubResourceEphemeralContainers {
		return res
	}
	pspOn := len(objs.PodSecurityPolicies) > 0 && !(op == Update && onlyGCFieldsChanged(pod, req.OldPod))
	var ix *index
	var usable func(*psp.PodSecurityPolicy) bool
	if pspOn {
		ix = objs.indexed()
		use := ix.authz.PolicyUse(req.User, ns, serviceAccountOf(pod))
		usable = func(p *psp.PodSecurityPolicy) bool { return use.Allows(p.Name) }
	}

	if req.Phase != Validating && op == Create && pspOn {
		admit := ix.policies.Choose
		if req.Explain {
			admit = ix.policies.Admit
		}
		d, err := admit(pod, usable)
		res.Policies = d.Results
		if err != nil {
			return refuse(res, err)
		}
		res.Pod, res.Policy = d.Pod, d.Policy
		res.AuditAnnotations[AnnotationAdmitPolicy] = d.Policy
	}
	if req.Phase == Mutating {
		return res
	}

	if op == Create || significantPodUpdate(res.Pod, req.OldPod) {
		ev, err := evaluator()
		if err != nil {
			return refuse(res, err)
		}
		d := ev.Admit(objs.NamespaceLabels[ns], res.Pod)
		maps.Copy(res.AuditAnnotations, d.AuditAnnotations)
		res.Warnings = append(res.Warnings, d.Warnings...)
		if !d.Allowed {
			return refuse(res, d.Err)
		}
	}

	if pspOn {
		name, results, err := validatePSP(res.Pod, ix.policies, usable, req.Explain)
		// After a mutating step, its results say more about the choice.
		if err != nil || res.Policies == nil {
			res.Policies = results
		}
		if err != nil {
			return refuse(res, err)
		}
		res.Policy = name
		res.AuditAnnotations[AnnotationValidatePolicy] = name
	}
	return res
}

func refuse(res Result, err error) Result {
	res.Allowed, res.Pod, res.Err = false, nil, err
	return res
}

func namespaceOf(req Request) string {
	switch {
	case req.Namespace != "":
		return req.Namespace
	case req.Pod.Namespace != "":
		return req.Pod.Namespace
	}
	return "default"
}

func serviceAccountOf(pod *corev1.Pod) string {
	if sa := pod.Spec.ServiceAccountName; sa != "" {
		return sa
	}
	return DefaultServiceAccount
}
