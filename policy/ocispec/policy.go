package ocispec

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"sigs.k8s.io/yaml"
)

// Level is a Pod Security Standards level.
type Level string

// The levels, from the most to the least permissive.
const (
	Privileged Level = "privileged"
	Baseline   Level = "baseline"
	Restricted Level = "restricted"
)

// rank orders the levels: a check of level L applies to a policy whose
// level ranks at least L.
func (l Level) rank() int {
	switch l {
	case Baseline:
		return 1
	case Restricted:
		return 2
	}
	return 0
}

// Valid reports whether l is one of the three levels.
func (l Level) Valid() bool {
	return l == Privileged || l == Baseline || l == Restricted
}

// Policy is the node's policy for the specs a runtime runs.
type Policy struct {
	// Level is the Pod Security Standards level every spec is held to.
	Level Level `json:"level"`
	// AllowedBindSources are the node directories bind mounts may come
	// from (and the directories below them), besides the bundle. Unset:
	// DefaultBindSources. An empty list allows only the bundle.
	AllowedBindSources []string `json:"allowedBindSources,omitempty"`
	// AllowedRootPrefixes are the node directories a root.path may be in,
	// besides the bundle. Unset: DefaultRootPrefixes.
	AllowedRootPrefixes []string `json:"allowedRootPrefixes,omitempty"`
	// AllowedSyscalls are syscalls a seccomp profile may allow
	// unconditionally at baseline and restricted although RuntimeDefault
	// refuses them or allows them only with conditions: an
	// administrator's explicit acceptance of an engine's weaker default
	// profile (containerd 1.6's allows io_uring and every socket family,
	// podman 4.3's keyctl, unshare, mount). Unset: none.
	AllowedSyscalls []string `json:"allowedSyscalls,omitempty"`
}

// ParsePolicy reads a policy file (YAML or JSON):
//
//	# /etc/podsec/runtime-policy.yaml
//	level: baseline
//	allowedBindSources: [/var/lib/containerd, /run/containerd]  # optional
//	allowedRootPrefixes: [/run/containerd/io.containerd.runtime.v2.task]  # optional
//
// Unknown fields, an invalid level and a prefix that is not an absolute
// path are errors: a node policy that does not say what its administrator
// meant must not be read as a weaker one.
func ParsePolicy(data []byte) (Policy, error) {
	var p Policy
	if len(bytes.TrimSpace(data)) == 0 {
		return p, errors.New("empty policy: want at least \"level: privileged|baseline|restricted\"")
	}
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return p, fmt.Errorf("decoding policy: %w", err)
	}
	if !p.Level.Valid() {
		return p, fmt.Errorf("level: Unsupported value: %q: supported values: \"privileged\", \"baseline\", \"restricted\"", p.Level)
	}
	var err error
	if p.AllowedBindSources, err = cleanPrefixes("allowedBindSources", p.AllowedBindSources); err != nil {
		return p, err
	}
	if p.AllowedRootPrefixes, err = cleanPrefixes("allowedRootPrefixes", p.AllowedRootPrefixes); err != nil {
		return p, err
	}
	return p, nil
}

// Options are the host's facts the checks need.
type Options struct {
	// HostNamespace reports whether the namespace at path (of type typ) is
	// the runtime's own, that is the host's. Nil: no path is the host's.
	HostNamespace func(typ specs.LinuxNamespaceType, path string) bool
	// AppArmor is true when AppArmor is enabled on the host: an empty
	// process.apparmorProfile then runs the process unconfined.
	AppArmor bool
	// BundleDir is the bundle directory, absolute: a relative root.path
	// or bind source is relative to it, and it is the container's own,
	// so root.path and bind sources may be below it. Empty: unknown, and
	// relative paths are taken to be in the bundle.
	BundleDir string
	// RealPath resolves the symbolic links of a node path, as the kernel
	// will when the runtime mounts it (the runtime's side does the I/O:
	// this package cannot). The checks judge the resolved path, so that a
	// symlink under an allowed directory pointing at the node's / is
	// refused. It gets an absolute path as written ("dir/link/.." is the
	// parent of link's target, not dir). Nil: the path is judged as
	// written, cleaned; an error: the path is allowed nowhere, since the
	// kernel may still reach something through it (a magic link).
	RealPath func(path string) (string, error)
}

// Violation is one field of a spec that breaks the policy.
type Violation struct {
	// Check is the id of the check, as pod-security-admission names it.
	Check string
	// Field is the spec field, e.g. process.capabilities.bounding.
	Field string
	// What is the offending value, e.g. CAP_SYS_ADMIN.
	What string
	// Plural makes the message say "are" rather than "is".
	Plural bool
	// Reason is the rule, e.g. non-default capabilities.
	Reason string
}

// Message is the violation as the user reads it under level.
func (v Violation) Message(level Level) string {
	verb := "is"
	if v.Plural {
		verb = "are"
	}
	return fmt.Sprintf("%s: %s %s not allowed by the node policy %q: %s", v.Field, v.What, verb, level, v.Reason)
}

// RefusedError is the refusal of a spec: every violation, in check order.
type RefusedError struct {
	Level      Level
	Violations []Violation
}

func (e *RefusedError) Error() string {
	msgs := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		msgs[i] = v.Message(e.Level)
	}
	return strings.Join(msgs, "; ")
}

// ErrRefused is matched by every *RefusedError with errors.Is.
var ErrRefused = errors.New("refused by the node policy")

// Is makes errors.Is(err, ErrRefused) true for a refusal.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Check holds a whole spec to the policy. It returns nil or a
// *RefusedError with every violation.
func (p Policy) Check(s *specs.Spec, opts Options) error {
	if s == nil {
		return nil
	}
	return p.run(&input{spec: s, proc: s.Process, field: "process", opts: opts, pol: &p})
}

// CheckProcess holds a process added to a running container (exec) to the
// policy: the checks of the process's own fields. Field paths start with
// "process", the name of the --process file's object.
func (p Policy) CheckProcess(proc *specs.Process, opts Options) error {
	if proc == nil {
		return nil
	}
	return p.run(&input{proc: proc, field: "process", opts: opts, pol: &p})
}

func (p Policy) run(in *input) error {
	var vs []Violation
	for _, c := range checks {
		if c.level.rank() > p.Level.rank() {
			continue
		}
		for _, v := range c.fn(in) {
			v.Check = c.id
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return nil
	}
	return &RefusedError{Level: p.Level, Violations: vs}
}

// input is what a check reads. spec is nil when only a process is held
// to the policy (exec).
type input struct {
	spec  *specs.Spec
	proc  *specs.Process
	field string
	opts  Options
	pol   *Policy
}

// linux is the spec's linux section, or an empty one.
func (in *input) linux() *specs.Linux {
	if in.spec == nil || in.spec.Linux == nil {
		return &specs.Linux{}
	}
	return in.spec.Linux
}

// list says values as the message's What and whether it is plural,
// shortening a long list.
func list(values []string) (string, bool) {
	const max = 6
	if len(values) > max {
		return fmt.Sprintf("%s and %d more", strings.Join(values[:max], ", "), len(values)-max), true
	}
	return strings.Join(values, ", "), len(values) > 1
}

// violation builds a violation of values.
func violation(field string, values []string, reason string) Violation {
	what, plural := list(values)
	return Violation{Field: field, What: what, Plural: plural, Reason: reason}
}
