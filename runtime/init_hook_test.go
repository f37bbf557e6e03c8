package runtime

import (
	"os"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
)

// noContainerInitMemfd names a memfd that makes the test binary's
// container init skip ContainerInit and run libcontainer's init alone, as
// a program that embeds runtime but forgot its init hook would: the
// early filter is then never loaded, whatever ContainerInit would do, and
// only the parent's count of filters stands between the container's
// process and the late filter alone (TestEarlyFilterNotLoaded).
const noContainerInitMemfd = "podsec-test-no-container-init"

// This init runs before main_test.go's, which calls ContainerInit (Go runs
// a package's init functions in the order of its file names).
func init() {
	if len(os.Args) < 2 || os.Args[1] != "init" {
		return
	}
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		if link, _ := os.Readlink("/proc/self/fd/" + e.Name()); strings.HasPrefix(link, "/memfd:"+noContainerInitMemfd+" ") {
			libcontainer.Init()
		}
	}
}
