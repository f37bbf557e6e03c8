package seccompsplit

import (
	"encoding/json"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
)

// TestExportProfileRefusingStop: a bundle's profile may refuse, with an
// errno, every call the export helper makes after loading it (tgkill to
// stop, exit_group to end). The export must still read the program back
// rather than wait for good for a helper that can neither stop nor end
// (podsec-runtime create hung so, the helper spinning as an orphan).
func TestExportProfileRefusingStop(t *testing.T) {
	cfg := &configs.Seccomp{DefaultAction: configs.Errno, DefaultErrnoRet: new(uint(1)),
		Syscalls: []*configs.Syscall{{Name: "read", Action: configs.Allow}}}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := seccompExport(b)
	if err != nil || len(prog) == 0 || len(prog)%8 != 0 {
		t.Fatalf("seccompExport(errno for all but read) = %d bytes, %v; want the program", len(prog), err)
	}
}
