package seccompsplit

import (
	"fmt"
	"os"
	"testing"
)

// loadEarlyArg re-executes the test binary as a container's init would
// start: LoadEarly, then print its number of seccomp filters and exit 0,
// or print its error and exit 3.
const loadEarlyArg = "load-early-test"

// The test binary is re-executed to make early programs (seccompExport)
// and to load early filters (TestLoadEarly).
func init() {
	if len(os.Args) > 1 && os.Args[1] == ExportArg {
		ExportMain()
	}
	if len(os.Args) > 1 && os.Args[1] == loadEarlyArg {
		if err := LoadEarly(); err != nil {
			fmt.Print(err)
			os.Exit(3)
		}
		n, _ := seccompFilters("/proc/self/status")
		fmt.Print(n)
		os.Exit(0)
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

// earlyThreadsArg re-executes the test binary as an init under its
// early filter that goes on as libcontainer's does: LoadEarly, then
// threads the Go runtime starts (glibc registers each with rseq), files,
// a pipe and a timer; it prints "ok" and exits 0.
const earlyThreadsArg = "early-threads-test"

func init() {
	if len(os.Args) > 1 && os.Args[1] == earlyThreadsArg {
		if err := LoadEarly(); err != nil {
			fmt.Print(err)
			os.Exit(3)
		}
		if err := initLikeWork(); err != nil {
			fmt.Print(err)
			os.Exit(4)
		}
		fmt.Print("ok")
		os.Exit(0)
	}
}
