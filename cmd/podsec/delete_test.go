package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDelete(t *testing.T) {
	c := newCLI(t)
	c.ok(pspManifest, "apply", "-f", "-")
	c.ok("", "create", "role", "r", "-n", "team", "--verb=get", "--resource=pods")

	if got, want := c.ok("", "delete", "psp", "default"), "podsecuritypolicy.policy \"default\" deleted\n"; got != want {
		t.Errorf("podsec delete psp default = %q, want %q", got, want)
	}
	code, out, errs := c.run("", "delete", "role", "r")
	if code != 1 || out != "" || !strings.Contains(errs, `error: roles.rbac.authorization.k8s.io "r" not found`) {
		t.Errorf("podsec delete role r (default namespace): exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if got := c.ok("", "delete", "role", "r", "-n", "team"); got != "role.rbac.authorization.k8s.io \"r\" deleted\n" {
		t.Errorf("podsec delete role r -n team = %q", got)
	}
	if _, err := os.Stat(filepath.Join(c.root, "objects/roles/team/r.json")); !os.IsNotExist(err) {
		t.Errorf("deleted Role still stored: %v", err)
	}
	if got := c.ok("", "delete", "role", "r", "-n", "team", "--ignore-not-found"); got != "" {
		t.Errorf("podsec delete --ignore-not-found = %q", got)
	}
	// -f deletes what the manifest names; default is gone already.
	code, out, errs = c.run(pspManifest, "delete", "-f", "-")
	if code != 1 || out != "podsecuritypolicy.policy \"privileged\" deleted\n" || !strings.Contains(errs, `podsecuritypolicies.policy "default" not found`) {
		t.Errorf("podsec delete -f: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for _, args := range [][]string{{"delete"}, {"delete", "psp"}, {"delete", "psp", "x", "-f", "-"}} {
		if code, _, errs := c.run("", args...); code != 1 || !strings.HasPrefix(errs, "error: ") {
			t.Errorf("podsec %v: exit %d, stderr %q; want a usage error", args, code, errs)
		}
	}
	if code, _, errs := c.run("", "delete", "clusterrole", "../../etc/passwd"); code != 1 || !strings.Contains(errs, "Invalid value") {
		t.Errorf("podsec delete clusterrole ../../etc/passwd: exit %d, stderr %q", code, errs)
	}
}
