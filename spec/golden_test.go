package spec_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/seccomp"
	"github.com/podsec/podsec/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/specs")

const (
	podsDir  = "../testdata/pods"
	specsDir = "../testdata/specs"
)

// testImage is an entry of testdata/images.json: what `make images` builds.
type testImage struct {
	Config spec.ImageConfig `json:"config"`
	Passwd string           `json:"passwd"`
	Group  string           `json:"group"`
}

func loadImages(t testing.TB) map[string]testImage {
	t.Helper()
	b, err := os.ReadFile("../testdata/images.json")
	if err != nil {
		t.Fatal(err)
	}
	var imgs map[string]testImage
	if err := json.Unmarshal(b, &imgs); err != nil {
		t.Fatalf("testdata/images.json: %v", err)
	}
	return imgs
}

// goldenOptions are fixed node options, so goldens do not depend on the
// machine that runs the tests.
func goldenOptions() spec.Options {
	return spec.Options{
		SeccompDefault:  corev1.SeccompProfileTypeRuntimeDefault,
		Seccomp:         seccomp.Profiles{Root: "../seccomp/testdata/profiles"},
		NodeMemoryBytes: 8 << 30,
		NodeName:        "node-1",
		PodIP:           "10.88.0.5",
		HostIP:          "192.0.2.10",
		// Shows "rro" on read-only volume mounts, as on Linux 5.12 and later.
		RecursiveReadOnly: true,
		PidsLimit:         4096,
	}
}

// goldenInput builds the input of one container as the runtime would.
func goldenInput(pod *corev1.Pod, objs *spec.Objects, name string, imgs map[string]testImage) spec.Input {
	in := spec.Input{
		Pod:           pod,
		ContainerName: name,
		Options:       goldenOptions(),
	}
	// The places are the plan's, as the runtime makes them.
	if plan, err := pipeline.Build(pod, &pipeline.Node{Root: "/var/lib/podsec", Spec: in.Options}, pipeline.Admission{},
		pipeline.Objects{ConfigMaps: objs.ConfigMaps, Secrets: objs.Secrets}); err == nil {
		if c, err := plan.Container(name); err == nil {
			in.Paths = c.Paths
		}
	}
	c, _ := spec.Find(&in)
	if img, ok := imgs[c.C.Image]; ok {
		cfg := img.Config
		in.Image = &cfg
		in.Users = &spec.UserDB{Passwd: []byte(img.Passwd), Group: []byte(img.Group)}
	}
	return in
}

type goldenEntry struct {
	Container string      `json:"container"`
	Spec      *specs.Spec `json:"spec"`
}

func TestGolden(t *testing.T) {
	imgs := loadImages(t)
	pods, err := filepath.Glob(filepath.Join(podsDir, "*.yaml"))
	if err != nil || len(pods) == 0 {
		t.Fatalf("no pods in %s: %v", podsDir, err)
	}
	want := map[string]bool{}
	for _, file := range pods {
		base := strings.TrimSuffix(filepath.Base(file), ".yaml")
		golden := filepath.Join(specsDir, base+".json")
		want[golden] = true
		t.Run(base, func(t *testing.T) {
			got := translateFile(t, file, imgs)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			w, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("missing golden file (run go test ./spec -update): %v", err)
			}
			if !bytes.Equal(got, w) {
				t.Errorf("Translate(%s) differs from %s (run go test ./spec -update and review the diff)\n%s", file, golden, firstDiff(got, w))
			}
		})
	}
	stray, _ := filepath.Glob(filepath.Join(specsDir, "*.json"))
	sort.Strings(stray)
	for _, g := range stray {
		if !want[g] {
			t.Errorf("stray golden file %s has no pod in %s", g, podsDir)
		}
	}
}

func translateFile(t *testing.T, file string, imgs map[string]testImage) []byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	objs, err := spec.DecodeObjects(f)
	if err != nil {
		t.Fatalf("DecodeObjects(%s) = %v", file, err)
	}
	pods := objs.Pods
	var out []goldenEntry
	for _, pod := range pods {
		if errs := spec.ValidatePod(pod, spec.ValidateOptions{}); len(errs) > 0 {
			t.Fatalf("ValidatePod(%s) = %v, want no errors", file, errs)
		}
		for _, name := range spec.ContainerNames(pod) {
			s, err := spec.Translate(goldenInput(pod, objs, name, imgs))
			if err != nil {
				t.Fatalf("Translate(%s, %s) = %v", file, name, err)
			}
			out = append(out, goldenEntry{Container: name, Spec: s})
		}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  got:  %s\n  want: %s", i+1, gl, wl)
		}
	}
	return ""
}
