package seccomp

import (
	"encoding/json"
	"reflect"
	"runtime"
	"slices"
	"testing"

	moby "github.com/moby/profiles/seccomp"
)

// Localhost profiles go through podsec's own Docker-format conversion;
// fed moby's default profile, it must agree with moby's library, which
// builds RuntimeDefault.
func TestLocalhostConversionAgreesWithMoby(t *testing.T) {
	data, err := json.Marshal(moby.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	for _, caps := range [][]string{nil, {"CAP_CHOWN"}, {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE"}, allCaps} {
		got, err := parse(data, target{goarch: runtime.GOARCH, caps: caps, kernel: hostKernel})
		if err != nil {
			t.Fatalf("parse(moby's default profile, %v) error = %v", caps, err)
		}
		for i := range got.Syscalls {
			slices.Sort(got.Syscalls[i].Names)
		}
		if want := RuntimeDefault(caps); !reflect.DeepEqual(got, want) {
			t.Errorf("parse(moby's default profile, %v) =\n%+v\nwant RuntimeDefault(%v) =\n%+v", caps, got, caps, want)
		}
	}
}
