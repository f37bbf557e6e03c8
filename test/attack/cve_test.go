package attack

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"github.com/podsec/podsec/test/harness"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCVE2019_5736ExeOverwrite: a container process catches the runtime
// entering the container (podsec exec, and an executable "#!/proc/self/exe"
// that makes the runtime's init run itself again inside the container),
// holds its /proc/PID/exe and tries to reopen it for writing, to rewrite
// the node's podsec binary. Every executable caught must be a sealed
// clone: neither the node's binary nor writable.
func TestCVE2019_5736ExeOverwrite(t *testing.T) {
	n := harness.NewNode(t)
	before := fileSum(t, n.Bin)
	var st syscall.Stat_t
	if err := syscall.Stat(n.Bin, &st); err != nil {
		t.Fatal(err)
	}
	n.RunDetached(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: exe}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [/attacker/attacker, watchexe, "12", /w/sentinel]
    securityContext:
      capabilities: {add: [SYS_PTRACE]}
    volumeMounts:
    - {name: attacker, mountPath: /attacker, readOnly: true}
    - {name: w, mountPath: /w}
  volumes:
  - {name: w, emptyDir: {}}
  - name: attacker
    hostPath: {path: "{{ATTACKER}}", type: Directory}
`))
	n.WaitLog("exe", "main", "watching", 10*time.Second)
	n.Podsec("exec", "exe", "--", "sh", "-c", `printf '#!/proc/self/exe\n' >/w/evil; chmod 755 /w/evil`)
	for i := 0; i < 5; i++ {
		n.Podsec("exec", "exe", "--", "/w/evil")
		n.Podsec("exec", "exe", "--", "/bin/true")
	}
	n.Podsec("exec", "exe", "--", "touch", "/w/sentinel")
	out := n.WaitLog("exe", "main", " watchexe", 20*time.Second)
	if !strings.Contains(out, "OK watchexe") {
		t.Fatalf("the attack got through or was not tried:\n%s", out)
	}
	harness.ExpectLine(t, out, "caught ")
	harness.ExpectNoText(t, out, fmt.Sprintf("dev:ino %d:%d\n", st.Dev, st.Ino))
	if after := fileSum(t, n.Bin); !bytes.Equal(before, after) {
		t.Fatalf("the node's podsec binary %s changed", n.Bin)
	}
}

func fileSum(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return s[:]
}

// TestCVE2024_21626LeakedDescriptors: a container whose workingDir is one
// of the runtime's descriptors (/proc/self/fd/N) would start with its
// working directory on the node; a leaked directory descriptor would let
// any process walk ".." from it. Each container either is refused or
// starts with nothing of the node reachable from its cwd or descriptors.
func TestCVE2024_21626LeakedDescriptors(t *testing.T) {
	n := harness.NewNode(t)
	marker, secret := nodeMarker(t)
	for fd := 3; fd <= 10; fd++ {
		out, err := n.Run(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: cwd-fd%d}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    workingDir: /proc/self/fd/%d
    command: [/attacker/attacker, fdwalk, %q]%s%s
`, fd, fd, marker, harness.AttackerMount, harness.AttackerVolume))
		harness.ExpectNoText(t, out, secret)
		if err == nil {
			harness.ExpectLine(t, out, "[main] OK fdwalk")
			if regexp.MustCompile(`\[main\] cwd /proc/self/fd/`).MatchString(out) {
				t.Errorf("fd %d: the container started in a descriptor's directory:\n%s", fd, out)
			}
		}
	}
	// No workingDir trick: a plain container has no descriptor of the node.
	out := n.MustRun(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: fds}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/busybox:latest
    command: [/attacker/attacker, fdwalk, %q]%s%s
`, marker, harness.AttackerMount, harness.AttackerVolume))
	harness.ExpectLine(t, out, "[main] OK fdwalk")
}

// TestCVE2017_1002101SubPathSymlink: a container plants a symlink in a
// shared volume pointing at the node's filesystem, and a later container
// mounts it as a subPath. The mount must be refused, never a bind of the
// node's directory.
func TestCVE2017_1002101SubPathSymlink(t *testing.T) {
	n := harness.NewNode(t)
	marker, secret := nodeMarker(t)
	dir := marker[:strings.LastIndex(marker, "/")]
	for _, target := range []string{dir, "../../../../../../../../../.." + dir, "/"} {
		out, err := n.Run(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: subpath}
spec:
  restartPolicy: Never
  initContainers:
  - name: plant
    image: localhost/busybox:latest
    command: [ln, -s, %q, /vol/evil]
    volumeMounts: [{name: vol, mountPath: /vol}]
  containers:
  - name: read
    image: localhost/busybox:latest
    command: [sh, -c, "cat /mnt/secret; ls /mnt"]
    volumeMounts: [{name: vol, mountPath: /mnt, subPath: evil}]
  volumes:
  - {name: vol, emptyDir: {}}
`, target))
		harness.ExpectNoText(t, out, secret)
		if err == nil {
			t.Errorf("symlink to %s: the subPath mount was not refused:\n%s", target, out)
		}
	}
}

// TestCVE2021_30465MountTargetRace: one container swaps a directory of a
// shared volume with a symlink to "/" while the runtime mounts another
// volume on that directory for the next containers. Whatever wins the
// race, the volume lands inside the container and nothing of the node
// becomes visible.
func TestCVE2021_30465MountTargetRace(t *testing.T) {
	n := harness.NewNode(t)
	marker, secret := nodeMarker(t)
	var victims strings.Builder
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&victims, `
  - name: victim%d
    image: localhost/busybox:latest
    command: [sh, -c, "cat /shared/dir/vol2-marker; cat %s; /attacker/attacker fdwalk %s"]
    volumeMounts:
    - {name: shared, mountPath: /shared}
    - {name: vol2, mountPath: /shared/dir}
    - {name: attacker, mountPath: /attacker, readOnly: true}`, i, marker, marker)
	}
	out, _ := n.Run(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: race}
spec:
  restartPolicy: Never
  initContainers:
  - name: prepare
    image: localhost/busybox:latest
    command: [sh, -c, "echo from-vol2 >/vol2/vol2-marker; mkdir -p /shared/dir"]
    volumeMounts:
    - {name: vol2, mountPath: /vol2}
    - {name: shared, mountPath: /shared}
  containers:
  - name: racer
    image: localhost/busybox:latest
    command: [/attacker/attacker, swapdir, "5", /shared/dir]
    volumeMounts:
    - {name: shared, mountPath: /shared}
    - {name: attacker, mountPath: /attacker, readOnly: true}%s
  volumes:
  - {name: shared, emptyDir: {}}
  - {name: vol2, emptyDir: {}}
  - name: attacker
    hostPath: {path: "{{ATTACKER}}", type: Directory}
`, victims.String()))
	harness.ExpectNoText(t, out, secret)
	harness.ExpectLine(t, out, "[racer] racing")
	// Either a victim was refused because its mount target had become a
	// symlink, or it found the volume where it belongs.
	if !strings.Contains(out, "from-vol2") && !strings.Contains(out, `to rootfs at "/shared/dir"`) {
		t.Fatalf("no victim was started or refused: the race was not run:\n%s", out)
	}
}
