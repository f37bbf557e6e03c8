package lc

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidateProcessCapabilities(t *testing.T) {
	proc := func(c *specs.LinuxCapabilities) *specs.Process {
		return &specs.Process{Cwd: "/", Args: []string{"sh"}, Capabilities: c}
	}
	for _, tc := range []struct {
		name string
		caps *specs.LinuxCapabilities
		want string // "" for no error
	}{
		{"none", nil, ""},
		{"known", &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE"}, Effective: []string{"CAP_NET_BIND_SERVICE"}}, ""},
		{"unknown in bounding", &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN", "CAP_TEST"}},
			`process.capabilities.bounding[1]: Unsupported value: "CAP_TEST": not a Linux capability`},
		{"lower case is not a name", &specs.LinuxCapabilities{Ambient: []string{"cap_chown"}},
			`process.capabilities.ambient[0]: Unsupported value: "cap_chown"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateProcess(proc(tc.caps))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("ValidateProcess = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("ValidateProcess = %v, want %q", err, tc.want)
			}
		})
	}
}
