package node

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/policy/admission"
	"github.com/podsec/podsec/policy/rbac"
)

// AdmitOptions are who asks for a pod and whether the decision is logged.
type AdmitOptions struct {
	// As and AsGroups are the requester, as kubectl's --as and --as-group
	// (pipeline.Requester); without As, the Unix user running the
	// program, in system:authenticated.
	As       string
	AsGroups []string
	// NoAudit leaves the decision out of <root>/audit.log: podsec spec
	// asks nothing of the cluster.
	NoAudit bool
}

// Admit is the pipeline's admission (pipeline.Admit) of a pod being
// created, with the objects stored under the node's root. Its warnings go
// to Config.Warnings; the decision, with its audit annotations, is
// appended to <root>/audit.log unless opts.NoAudit. A refusal is the
// result's error; the result's Pod has the PodSecurityPolicy defaults.
func (n *Node) Admit(pod *corev1.Pod, opts AdmitOptions) (admission.Result, error) {
	requester, err := pipeline.Requester(CurrentUser(), opts.As, opts.AsGroups)
	if err != nil {
		return admission.Result{}, err
	}
	st, err := n.Objects()
	if err != nil {
		return admission.Result{}, err
	}
	objs, err := st.AdmissionObjects()
	if err != nil {
		return admission.Result{}, err
	}
	res := pipeline.Admit(admission.Request{Pod: pod, User: requester, Operation: admission.Create}, objs)
	for _, w := range res.Warnings {
		fmt.Fprintf(n.cfg.Warnings, "Warning: %s\n", w)
	}
	if !opts.NoAudit {
		if err := appendAudit(n.root, requester, pod, res); err != nil {
			fmt.Fprintf(n.cfg.Warnings, "Warning: %v\n", err)
		}
	}
	if !res.Allowed {
		return res, res.Err
	}
	return res, nil
}

// Admitted is a pod the pipeline accepted for this node.
type Admitted struct {
	// Given is the pod as given; Pod is the admitted pod, the one that runs.
	Given, Pod *corev1.Pod
	// Result is admission's decision.
	Result admission.Result
}

// Admission is what the plan records of the admission.
func (a *Admitted) Admission() pipeline.Admission {
	adm := pipeline.Admission{Policy: a.Result.Policy, Warnings: a.Result.Warnings}
	if patch, err := admission.Patch(a.Given, a.Result.Pod); err == nil {
		adm.Patch = patch
	}
	return adm
}

// Prepare is the pipeline for a pod about to run here: the API server's
// validation (spec.ErrInvalidPod), admission, then this node's checks
// (pipeline.ErrNodeRefused) on the admitted pod.
func (n *Node) Prepare(pod *corev1.Pod, opts AdmitOptions) (*Admitted, error) {
	a, _, err := n.prepare(pod, opts)
	return a, err
}

func (n *Node) prepare(pod *corev1.Pod, opts AdmitOptions) (*Admitted, *pipeline.Node, error) {
	if err := pipeline.Validate(pod); err != nil {
		return nil, nil, err
	}
	res, err := n.Admit(pod, opts)
	if err != nil {
		return nil, nil, err
	}
	facts, err := n.Facts()
	if err != nil {
		return nil, nil, err
	}
	if err := pipeline.CheckNode(facts, res.Pod); err != nil {
		return nil, nil, err
	}
	return &Admitted{Given: pod, Pod: res.Pod, Result: res}, facts, nil
}

// Plan is Prepare, then the plan of the admitted pod with the objects its
// volumes read: what podsec spec prints and Run executes.
func (n *Node) Plan(pod *corev1.Pod, opts RunOptions) (*pipeline.Plan, error) {
	a, facts, err := n.prepare(pod, opts.Admit)
	if err != nil {
		return nil, err
	}
	return pipeline.Build(a.Pod, facts, a.Admission(), opts.objects())
}

// CurrentUser is the Unix user name running the program, or its uid when
// the user database has no entry (as in many containers).
func CurrentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}

// AuditEntry is one line of <root>/audit.log: one admission decision.
type AuditEntry struct {
	Time        time.Time         `json:"time"`
	Operation   string            `json:"operation"`
	User        string            `json:"user"`
	Groups      []string          `json:"groups,omitempty"`
	Namespace   string            `json:"namespace"`
	Pod         string            `json:"pod"`
	Allowed     bool              `json:"allowed"`
	Reason      string            `json:"reason,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// appendAudit logs an admission decision, which is where the audit mode of
// the Pod Security Standards reports.
func appendAudit(root string, requester rbac.UserInfo, pod *corev1.Pod, res admission.Result) error {
	e := AuditEntry{Time: time.Now().UTC(), Operation: string(admission.Create), User: requester.Name, Groups: requester.Groups,
		Namespace: pod.Namespace, Pod: pod.Name, Allowed: res.Allowed, Annotations: res.AuditAnnotations}
	if res.Err != nil {
		e.Reason = res.Err.Error()
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("writing the audit log: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(root, "audit.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("writing the audit log: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the audit log: %w", err)
	}
	return nil
}
