package ocispec

// checkPrivilegeEscalation: privilege escalation (setuid binaries, file
// capabilities) must be disallowed.
//
// Spec: process.noNewPrivileges. Allowed: true.
func checkPrivilegeEscalation(in *input) []Violation {
	if in.proc == nil || in.proc.NoNewPrivileges {
		return nil
	}
	return []Violation{{Field: in.field + ".noNewPrivileges", What: "false", Reason: "allowPrivilegeEscalation != false"}}
}

// checkRunAsNonRoot: containers must run as a non-root user.
//
// Spec: process.user.uid. Allowed: any uid but 0. (A user namespace's uid
// 0 is not the host's, but restricted asks for a non-root user whatever
// the namespace, as pod-security-admission does for runAsUser.)
func checkRunAsNonRoot(in *input) []Violation {
	if in.proc == nil || in.proc.User.UID != 0 {
		return nil
	}
	return []Violation{{Field: in.field + ".user.uid", What: "0 (root)", Reason: "runAsNonRoot != true"}}
}
