package runtime

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"

	_ "github.com/opencontainers/runc/libcontainer/nsenter"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/spec"
)

// The test binary is re-executed by libcontainer ("init") and as a pod
// sandbox, as the podsec binary is.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		goruntime.GOMAXPROCS(1)
		goruntime.LockOSThread()
		ContainerInit()
	}
	if len(os.Args) > 1 && os.Args[1] == SandboxArg {
		SandboxMain()
	}
	if len(os.Args) > 1 && os.Args[1] == SeccompExportArg {
		SeccompExportMain()
	}
	// Keep the main thread to the main goroutine: libcontainer joins a
	// container's mount namespace on a locked thread that the Go runtime
	// ends afterwards, unless it is the main thread, which would then stay
	// in the container's namespace (and pin its mounts) for good.
	goruntime.LockOSThread()
}

// testLayer is a busybox rootfs built once per test binary from Debian's
// busybox-static, with the users of the project's test images.
var testLayer string

const testPasswd = "root:x:0:0:root:/root:/bin/sh\nguest:x:405:100:guest:/dev/null:/sbin/nologin\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
const testGroup = "root:x:0:root\nusers:x:100:guest\nwheel:x:10:root,app\napp:x:1000:\nnogroup:x:65534:\n"

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "podsec-layer-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := buildBusyboxLayer(dir); err != nil {
			fmt.Fprintln(os.Stderr, "building the busybox test layer:", err)
			return 1
		}
		testLayer = dir
		return m.Run()
	}()
	os.Exit(code)
}

func buildBusyboxLayer(dir string) error {
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("busybox-static is needed (make setup installs it): %w", err)
	}
	for _, d := range []string{"bin", "etc", "root", "home/app", "proc", "sys", "dev", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := os.Chown(filepath.Join(dir, "home/app"), 1000, 1000); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), bb, 0o755); err != nil {
		return err
	}
	list, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return fmt.Errorf("listing busybox applets: %w", err)
	}
	for _, a := range strings.Fields(string(list)) {
		if a == "busybox" || strings.Contains(a, "/") {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/passwd"), []byte(testPasswd), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "etc/group"), []byte(testGroup), 0o644)
}

// testImages serves the busybox layer under the project's test image names.
type testImages struct{}

func (testImages) Ensure(_ context.Context, ref string, _ corev1.PullPolicy) (*Image, error) {
	cfg := spec.ImageConfig{Cmd: []string{"sh"}, Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/bin"}}
	switch ref {
	case "localhost/busybox:latest":
	case "localhost/busybox:nonroot":
		cfg.User, cfg.WorkingDir = "1000", "/home/app"
	case "localhost/busybox:named-user":
		cfg.User, cfg.Entrypoint, cfg.Cmd = "guest", []string{"/bin/sh", "-c"}, []string{"id"}
	default:
		return nil, fmt.Errorf("image %q not found", ref)
	}
	return &Image{Config: cfg, Layers: []string{testLayer}}, nil
}

// syncBuffer collects output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// requireRoot fails on CI and skips elsewhere when not root: integration
// tests must run on CI.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("integration tests need root on CI")
	}
	t.Skip("integration tests need root")
}

// runPod runs a pod manifest to its end in a fresh state root and returns
// its output, its result, and the root to inspect afterwards.
func runPod(t *testing.T, manifest string) (string, Result, string, error) {
	t.Helper()
	requireRoot(t)
	objs, err := spec.DecodeObjects(strings.NewReader(manifest))
	if err != nil {
		t.Fatalf("DecodeObjects: %v", err)
	}
	pods := objs.Pods
	if errs := spec.ValidatePod(pods[0], spec.ValidateOptions{}); len(errs) > 0 {
		t.Fatalf("ValidatePod: %v", errs)
	}
	root := testRoot(t)
	out := &syncBuffer{}
	rt, err := New(Config{Root: root, Images: testImages{}, Output: out, SeccompProfileRoot: "../seccomp/testdata/profiles"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	res, err := rt.Run(context.Background(), pods[0], WithConfigMaps(objs.ConfigMaps...), WithSecrets(objs.Secrets...))
	assertClean(t, root, pods[0])
	return out.String(), res, root, err
}

// assertClean checks that a pod left nothing: no mounts below its
// directory, no pod directory, no libcontainer state, no cgroup.
func assertClean(t *testing.T, root string, pod *corev1.Pod) {
	t.Helper()
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "pods", pod.Namespace, pod.Name)
	if strings.Contains(string(mi), dir+"/") {
		t.Errorf("mounts left below %s:\n%s", dir, grepLines(string(mi), dir+"/"))
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("pod directory left: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Join(root, "libcontainer"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), pod.Namespace+"_"+pod.Name+"_") {
			t.Errorf("libcontainer state left: %s", e.Name())
		}
	}
	rel := filepath.Dir(Layout{}.CgroupsPath(pod.Namespace, pod.Name, "x"))
	if left, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", rel)); len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// testRoot is a fresh state root; t.TempDir's names hold the test's name,
// which may have commas, which a state root may not.
func testRoot(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp("", "podsec-root-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeAll(root); err != nil {
			t.Error(err)
		}
	})
	return root
}
