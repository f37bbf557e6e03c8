package ocispec

import (
	"fmt"
	"strings"
)

// selinuxTypes are the SELinux types baseline allows ("" leaves the
// runtime's).
var selinuxTypes = set("", "container_t", "container_init_t", "container_kvm_t", "container_engine_t")

// checkSELinux: setting a custom SELinux type is disallowed.
//
// Spec: process.selinuxLabel and linux.mountLabel ("user:role:type:level").
// Allowed: the types container_t, container_init_t, container_kvm_t and
// container_engine_t. The user and role are the runtime's to fill in, so
// they are not checked.
func checkSELinux(in *input) []Violation {
	var vs []Violation
	label := func(field, l string) {
		if l == "" {
			return
		}
		parts := strings.SplitN(l, ":", 4)
		typ := ""
		if len(parts) >= 3 {
			typ = parts[2]
		}
		if len(parts) < 3 || !selinuxTypes[typ] {
			vs = append(vs, Violation{Field: field, What: fmt.Sprintf("SELinux label %q", l), Reason: "seLinuxOptions"})
		}
	}
	if in.proc != nil {
		label(in.field+".selinuxLabel", in.proc.SelinuxLabel)
	}
	if in.spec != nil {
		label("linux.mountLabel", in.linux().MountLabel)
	}
	return vs
}

// checkAppArmor: overriding or disabling the default AppArmor profile is
// disallowed.
//
// Spec: process.apparmorProfile. Allowed: any profile but "unconfined";
// empty only where AppArmor is not enabled (Options.AppArmor), since an
// empty profile runs the process unconfined.
func checkAppArmor(in *input) []Violation {
	if in.proc == nil {
		return nil
	}
	switch p := in.proc.ApparmorProfile; {
	case p == "unconfined":
		return []Violation{{Field: in.field + ".apparmorProfile", What: `"unconfined"`, Reason: "appArmorProfile"}}
	case p == "" && in.opts.AppArmor:
		return []Violation{{Field: in.field + ".apparmorProfile", What: "unset (unconfined on this AppArmor host)", Reason: "appArmorProfile"}}
	}
	return nil
}
