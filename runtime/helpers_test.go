package runtime

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podsec/podsec/spec"
)

type fileStat struct {
	mode os.FileMode
	gid  uint32
}

func statT(t *testing.T, p string) fileStat {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fileStat{st.Mode(), st.Sys().(*syscall.Stat_t).Gid}
}

func lstatT(t *testing.T, p string) fileStat {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fileStat{st.Mode(), st.Sys().(*syscall.Stat_t).Gid}
}

// runPodWithStop runs a pod and cancels it once every container printed
// "ready", as SIGINT does to podsec run.
func runPodWithStop(t *testing.T, manifest string) (string, Result, string, error) {
	t.Helper()
	pods, err := spec.DecodePods(strings.NewReader(manifest))
	if err != nil {
		t.Fatal(err)
	}
	root := testRoot(t)
	out := &syncBuffer{}
	rt, err := New(Config{Root: root, Images: testImages{}, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && strings.Count(out.String(), "ready") < len(pods[0].Spec.Containers) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	res, err := rt.Run(ctx, pods[0])
	assertClean(t, root, pods[0])
	return out.String(), res, root, err
}
