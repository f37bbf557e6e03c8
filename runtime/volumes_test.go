package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFSGroupSharedVolume(t *testing.T) {
	// The seed's pod-with-shared-volume-fsgroup, checked from inside.
	podCase{name: "seed pod-with-shared-volume-fsgroup", manifest: `
apiVersion: v1
kind: Pod
metadata: {name: pod-with-shared-volume-fsgroup}
spec:
  securityContext:
    fsGroup: 555
    supplementalGroups: [666, 777]
  containers:
  - name: first
    image: localhost/busybox:latest
    command: ["sh", "-c", "id; stat -c '%A %g' /volume; echo foo > /volume/foo; stat -c 'foo %u %g' /volume/foo"]
    securityContext: {runAsUser: 1111}
    volumeMounts: [{name: shared-volume, mountPath: /volume}]
  - name: second
    image: localhost/busybox:latest
    command: ["sh", "-c", "sleep 1; id; echo bar > /volume/bar && stat -c 'bar %u %g' /volume/bar"]
    securityContext: {runAsUser: 2222}
    volumeMounts: [{name: shared-volume, mountPath: /volume}]
  volumes:
  - name: shared-volume
    emptyDir:
`, want: []string{
		"[first] uid=1111 gid=0(root) groups=0(root),555,666,777",
		"[first] drwxrwsrwx 555",
		"[first] foo 1111 555",
		"[second] uid=2222 gid=0(root) groups=0(root),555,666,777",
		"[second] bar 2222 555",
	}}.run(t)
}

func TestFSGroupWalk(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	must(t, os.Chmod(dir, 0o755))
	outside := filepath.Join(t.TempDir(), "outside")
	must(t, os.WriteFile(outside, nil, 0o600))
	must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "sub", "f"), nil, 0o600))
	must(t, os.Symlink(outside, filepath.Join(dir, "link")))
	if err := applyFSGroup(dir, 4242, false, false); err != nil {
		t.Fatalf("applyFSGroup: %v", err)
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{
		{dir, 0o775 | os.ModeSetgid},
		{filepath.Join(dir, "sub"), 0o770 | os.ModeSetgid},
		{filepath.Join(dir, "sub", "f"), 0o660},
	} {
		st := statT(t, c.path)
		if st.gid != 4242 || st.mode&(os.ModePerm|os.ModeSetgid) != c.mode {
			t.Errorf("applyFSGroup: %s has gid %d mode %v, want 4242 %v", c.path, st.gid, st.mode, c.mode)
		}
	}
	if st := statT(t, outside); st.gid == 4242 || st.mode.Perm() != 0o600 {
		t.Errorf("applyFSGroup followed a symlink out of the volume: %s gid %d mode %v", outside, st.gid, st.mode)
	}
	if st := lstatT(t, filepath.Join(dir, "link")); st.gid != 4242 {
		t.Errorf("applyFSGroup: the symlink itself has gid %d, want 4242", st.gid)
	}
}

func TestSubPath(t *testing.T) {
	requireRoot(t)
	host := t.TempDir()
	secret := t.TempDir()
	must(t, os.WriteFile(filepath.Join(secret, "token"), []byte("s3cret"), 0o600))
	must(t, os.MkdirAll(filepath.Join(host, "data"), 0o755))
	must(t, os.WriteFile(filepath.Join(host, "data", "hello"), []byte("hello from the host"), 0o644))
	must(t, os.Symlink(secret, filepath.Join(host, "escape")))
	must(t, os.Symlink("../../../../../../..", filepath.Join(host, "relescape")))
	must(t, os.Symlink("data", filepath.Join(host, "inside")))
	manifest := func(name, sub string) string {
		return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["sh", "-c", "ls /mnt; cat /mnt/hello /mnt/token 2>/dev/null; true"]
    volumeMounts: [{name: host, mountPath: /mnt, subPath: %s}]
  volumes: [{name: host, hostPath: {path: %s, type: Directory}}]
`, name, sub, host)
	}
	tests := []podCase{
		{name: "subPath inside the volume", manifest: manifest("subpath-ok", "data"), want: []string{"hello from the host"}},
		{name: "symlink inside the volume", manifest: manifest("subpath-inside", "inside"), want: []string{"hello from the host"}},
		{name: "absolute symlink out of the volume", manifest: manifest("subpath-abs", "escape"), err: "resolves outside its volume"},
		{name: "relative symlink out of the volume", manifest: manifest("subpath-rel", "relescape"), err: "resolves outside its volume"},
		{name: "symlink parent out of the volume", manifest: manifest("subpath-parent", "escape/token"), err: "resolves outside its volume"},
		{name: "missing subPath is created", manifest: manifest("subpath-new", "new/dir"), want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
	if st, err := os.Stat(filepath.Join(host, "new", "dir")); err != nil || !st.IsDir() {
		t.Errorf("missing subPath was not created as a directory: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(secret, "token")); string(b) != "s3cret" {
		t.Errorf("the secret outside the volume changed: %q", b)
	}
}

func TestHostPathTypes(t *testing.T) {
	requireRoot(t)
	base := t.TempDir()
	file := filepath.Join(base, "file")
	must(t, os.WriteFile(file, []byte("x"), 0o644))
	manifest := func(name, path, typ string) string {
		return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["sh", "-c", "stat -c '%%F' /mnt"]
    volumeMounts: [{name: h, mountPath: /mnt}]
  volumes: [{name: h, hostPath: {path: %s, type: %s}}]
`, name, path, typ)
	}
	tests := []podCase{
		{name: "Directory missing", manifest: manifest("hp-dir-missing", filepath.Join(base, "nope"), "Directory"), err: "does not exist"},
		{name: "Directory on a file", manifest: manifest("hp-dir-file", file, "Directory"), err: "is not a directory"},
		{name: "File", manifest: manifest("hp-file", file, "File"), want: []string{"regular file"}},
		{name: "DirectoryOrCreate", manifest: manifest("hp-dir-create", filepath.Join(base, "made"), "DirectoryOrCreate"), want: []string{"directory"}},
		{name: "FileOrCreate", manifest: manifest("hp-file-create", filepath.Join(base, "newfile"), "FileOrCreate"), want: []string{"regular empty file"}},
		{name: "Socket on a file", manifest: manifest("hp-socket", file, "Socket"), err: "is not a socket"},
		{name: "CharDevice", manifest: manifest("hp-chardev", "/dev/null", "CharDevice"), want: []string{"character special file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
	for p, mode := range map[string]os.FileMode{filepath.Join(base, "made"): os.ModeDir | 0o755, filepath.Join(base, "newfile"): 0o644} {
		if st, err := os.Stat(p); err != nil || st.Mode() != mode {
			t.Errorf("hostPath *OrCreate made %s with %v (%v), want %v", p, st.Mode(), err, mode)
		}
	}
}

func TestMemoryEmptyDir(t *testing.T) {
	podCase{name: "Memory emptyDir is a tmpfs with sizeLimit", manifest: `
apiVersion: v1
kind: Pod
metadata: {name: memvol}
spec:
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["sh", "-c", "grep ' /cache ' /proc/self/mountinfo; df -k /cache | tail -1"]
    volumeMounts: [{name: cache, mountPath: /cache}]
  volumes: [{name: cache, emptyDir: {medium: Memory, sizeLimit: 8Mi}}]
`, want: []string{"tmpfs", "8192"}}.run(t)
}

func TestSignalsStopThePod(t *testing.T) {
	requireRoot(t)
	// A container that ignores SIGTERM is killed after the grace period;
	// one that handles it ends at once.
	out, res, _, err := runPodWithStop(t, `
apiVersion: v1
kind: Pod
metadata: {name: stopper}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: polite
    image: localhost/busybox:latest
    command: ["sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done"]
  - name: stubborn
    image: localhost/busybox:latest
    command: ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"]
`)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.Contains(out, "[polite] got TERM") {
		t.Errorf("the polite container did not get SIGTERM: %q", out)
	}
	var codes []string
	for _, c := range res.Containers {
		codes = append(codes, fmt.Sprintf("%s=%d", c.Name, c.ExitCode))
	}
	if got := strings.Join(codes, ","); got != "polite=0,stubborn=137" {
		t.Errorf("exit codes %s, want polite=0,stubborn=137", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestProjectedVolumes(t *testing.T) {
	const objs = `
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data:
  app.conf: "listen 8080"
  other: "not mounted"
---
apiVersion: v1
kind: Secret
metadata: {name: web-secret}
stringData:
  password: hunter2
`
	tests := []podCase{
		{name: "configMap items, secret on tmpfs with defaultMode, downwardAPI labels, fsGroup", manifest: `
apiVersion: v1
kind: Pod
metadata: {name: projected, labels: {app: web, tier: "1"}}
spec:
  securityContext: {fsGroup: 1234}
  containers:
  - name: main
    image: localhost/busybox:latest
    command: ["sh", "-c", "ls /config; cat /config/app.conf; echo; stat -c '%a %g' /secret/password; cat /secret/password; echo; cat /podinfo/labels; echo; grep ' /secret ' /proc/self/mountinfo | grep -c tmpfs; touch /config/x 2>&1 || echo ro"]
    volumeMounts:
    - {name: config, mountPath: /config}
    - {name: secret, mountPath: /secret}
    - {name: podinfo, mountPath: /podinfo}
  volumes:
  - name: config
    configMap:
      name: web-config
      items: [{key: app.conf, path: app.conf}]
  - name: secret
    secret: {secretName: web-secret, defaultMode: 0400}
  - name: podinfo
    downwardAPI:
      items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]
` + objs, want: []string{"[main] app.conf\n[main] listen 8080", "[main] 440 1234", "[main] hunter2", `[main] app="web"`, `[main] tier="1"`, "Read-only file system", "[main] ro"},
			notWant: []string{"other"}},
		{name: "missing configMap", manifest: pod("nocm", busybox, "true", "volumeMounts: [{name: c, mountPath: /c}]", "volumes: [{name: c, configMap: {name: nope}}]"),
			err: `configmap "nope" not found`},
		{name: "optional missing configMap", manifest: pod("optcm", busybox, "ls /c | wc -l", "volumeMounts: [{name: c, mountPath: /c}]", "volumes: [{name: c, configMap: {name: nope, optional: true}}]"),
			want: []string{"[main] 0"}},
		{name: "missing key", manifest: pod("nokey", busybox, "true", "volumeMounts: [{name: c, mountPath: /c}]",
			"volumes: [{name: c, configMap: {name: web-config, items: [{key: nope, path: x}]}}]") + objs,
			err: `configmap "web-config" has no key "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
}
