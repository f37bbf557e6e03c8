package seccompsplit

import (
	"os"
	"testing"
)

// The test binary is re-executed to make early programs (seccompExport).
func init() {
	if len(os.Args) > 1 && os.Args[1] == ExportArg {
		ExportMain()
	}
}

// requireRoot skips a test that needs root, except on CI, where it fails.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("these tests need root on CI")
	}
	t.Skip("these tests need root")
}
