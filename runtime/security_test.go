package runtime

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// podCase is a pod run for real, checked from inside by its output.
type podCase struct {
	name     string
	manifest string
	want     []string // lines (or parts) the output must hold
	notWant  []string
	exit     int
	err      string // substring of Run's error
}

func (tc podCase) run(t *testing.T) {
	t.Helper()
	out, res, _, err := runPod(t, tc.manifest)
	if tc.err != "" {
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Fatalf("Run(%s) error = %v, want %q (output %q)", tc.name, err, tc.err, out)
		}
		return
	}
	if err != nil {
		t.Fatalf("Run(%s) = %v (output %q)", tc.name, err, out)
	}
	if res.ExitCode != tc.exit {
		t.Errorf("Run(%s) exit code = %d, want %d (output %q)", tc.name, res.ExitCode, tc.exit, out)
	}
	for _, w := range tc.want {
		if !strings.Contains(out, w) {
			t.Errorf("Run(%s) output does not hold %q:\n%s", tc.name, w, out)
		}
	}
	for _, w := range tc.notWant {
		if strings.Contains(out, w) {
			t.Errorf("Run(%s) output holds %q:\n%s", tc.name, w, out)
		}
	}
}

// pod is a one-container pod running script in sh, with extra YAML for the
// container's securityContext and the pod's spec.
func pod(name, image, script, containerExtra, specExtra string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
%s
  containers:
  - name: main
    image: %s
    command: ["sh", "-c", %q]
%s
`, name, indent(specExtra, "  "), image, script, indent(containerExtra, "    "))
}

func indent(s, by string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := range lines {
		lines[i] = by + lines[i]
	}
	return strings.Join(lines, "\n")
}

const busybox = "localhost/busybox:latest"

// status prints the lines of /proc/self/status the tests read.
const status = `grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status`

func TestSecurityContext(t *testing.T) {
	tests := []podCase{
		{name: "default root capability mask", manifest: pod("defaults", busybox, status, "", ""),
			want: []string{"CapEff:\t00000000a80425fb", "CapBnd:\t00000000a80425fb", "CapPrm:\t00000000a80425fb", "CapInh:\t0000000000000000", "CapAmb:\t0000000000000000", "NoNewPrivs:\t0", "Seccomp:\t2",
				// RuntimeDefault in two filters: the early one, from the
				// seccomp cache, and the late one (seccomp_split_linux.go).
				"Seccomp_filters:\t2"}},
		{name: "seed pod-add-settime-capability", manifest: pod("settime", busybox, status, "securityContext: {capabilities: {add: [SYS_TIME]}}", ""),
			// CAP_SYS_TIME is bit 25: 0xa80425fb | 1<<25.
			want: []string{"CapEff:\t00000000aa0425fb", "CapBnd:\t00000000aa0425fb"}},
		{name: "seed pod-drop-chown-capability", manifest: pod("dropchown", busybox, status+"; chown 1 /tmp || echo chown-refused", "securityContext: {capabilities: {drop: [CHOWN]}}", ""),
			want: []string{"CapEff:\t00000000a80425fa", "chown-refused"}},
		{name: "drop ALL", manifest: pod("dropall", busybox, status, "securityContext: {capabilities: {drop: [ALL]}}", ""),
			want: []string{"CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "CapPrm:\t0000000000000000"}},
		{name: "non-root user loses added capabilities at exec", manifest: pod("nonrootcaps", busybox, status, "securityContext: {runAsUser: 1000, capabilities: {add: [SYS_TIME]}}", ""),
			want: []string{"CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "CapBnd:\t00000000aa0425fb", "Seccomp_filters:\t2"}},
		{name: "privileged", manifest: pod("privileged", busybox, status+"; ls /dev/kmsg && touch /sys/kernel/uevent_helper 2>/dev/null; grep -c ' /sys .*rw' /proc/self/mountinfo", "securityContext: {privileged: true}", ""),
			want: []string{"CapEff:\t" + ownBounding(), "CapBnd:\t" + ownBounding(), "Seccomp:\t0", "/dev/kmsg"}},
		{name: "allowPrivilegeEscalation false sets no_new_privs", manifest: pod("nnp", busybox, status, "securityContext: {allowPrivilegeEscalation: false}", ""),
			want: []string{"NoNewPrivs:\t1", "Seccomp_filters:\t2"}},
		{name: "seed pod-as-user-guest", manifest: pod("guest", busybox, "id", "securityContext: {runAsUser: 405}", ""),
			want: []string{"uid=405(guest) gid=100(users) groups=100(users)"}},
		{name: "image USER 1000 and its groups", manifest: pod("nonroot", "localhost/busybox:nonroot", "id; pwd", "", ""),
			want: []string{"uid=1000(app) gid=1000(app) groups=10(wheel),1000(app)", "/home/app"}},
		{name: "seed pod-with-readonly-filesystem", manifest: pod("readonly", busybox,
			"touch /x 2>&1 || echo root-refused; touch /volume/x && echo volume-written",
			"securityContext: {readOnlyRootFilesystem: true}\nvolumeMounts: [{name: my-volume, mountPath: /volume}]", "volumes: [{name: my-volume, emptyDir: {}}]"),
			want: []string{"Read-only file system", "root-refused", "volume-written"}},
		{name: "readOnly volume mount", manifest: pod("rovolume", busybox, "touch /v/x 2>&1 || echo refused",
			"volumeMounts: [{name: v, mountPath: /v, readOnly: true}]", "volumes: [{name: v, emptyDir: {}}]"),
			want: []string{"Read-only file system", "refused"}},
		{name: "masked /proc/keys and read-only /proc/sys", manifest: pod("masked", busybox,
			"stat -c %F /proc/keys; echo 1 > /proc/sys/kernel/domainname 2>&1 || echo procsys-refused; grep ' /proc/sys ' /proc/self/mountinfo | grep -c ' ro,'", "", ""),
			want: []string{"character special file", "procsys-refused", "1"}},
		{name: "RuntimeDefault blocks unshare without CAP_SYS_ADMIN", manifest: pod("seccomp", busybox, "unshare -U true 2>&1 || echo unshare-refused", "", ""),
			want: []string{"Operation not permitted", "unshare-refused"}},
		{name: "Unconfined lets unshare through", manifest: pod("unconfined", busybox, "unshare -U true && echo unshare-ok; "+status,
			"securityContext: {seccompProfile: {type: Unconfined}}", ""),
			want: []string{"unshare-ok", "Seccomp:\t0", "Seccomp_filters:\t0"}},
		{name: "Localhost profile denies mkdir", manifest: pod("localhost", busybox, "mkdir /tmp/d 2>&1 || echo mkdir-refused; touch /tmp/f && echo touch-ok",
			"securityContext: {seccompProfile: {type: Localhost, localhostProfile: deny-mkdir.json}}", ""),
			want: []string{"mkdir-refused", "touch-ok"}},
		{name: "sysctls in the pod's namespaces", manifest: pod("sysctls", busybox, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shm_rmid_forced", "",
			"securityContext: {sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: '80'}, {name: kernel.shm_rmid_forced, value: '1'}]}"),
			want: []string{"80\n", "[main] 1"}},
		{name: "hostname is the pod's name", manifest: pod("my-pod-name", busybox, "hostname; cat /etc/hostname", "", ""),
			want: []string{"[main] my-pod-name\n[main] my-pod-name"}},
		{name: "exit code of the container", manifest: pod("exit3", busybox, "exit 3", "", ""), exit: 3},
		// podsec's own descriptors (state, pipes, sockets) must not leak in:
		// ls sees 0, 1, 2 and the directory it reads.
		{name: "no leaked file descriptors", manifest: pod("fds", busybox, "ls /proc/self/fd | wc -l", "", ""),
			want: []string{"[main] 4\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
}

func TestRunAsNonRoot(t *testing.T) {
	tests := []podCase{
		{name: "image runs as root", manifest: pod("nr-root", busybox, "id", "securityContext: {runAsNonRoot: true}", ""),
			err: "container has runAsNonRoot and image will run as root"},
		{name: "runAsUser 0", manifest: pod("nr-zero", "localhost/busybox:nonroot", "id", "securityContext: {runAsNonRoot: true, runAsUser: 0}", ""),
			err: "container's runAsUser breaks non-root policy"},
		{name: "image user is a name", manifest: pod("nr-named", "localhost/busybox:named-user", "id", "securityContext: {runAsNonRoot: true}", ""),
			err: "image has non-numeric user (guest), cannot verify user is non-root"},
		{name: "numeric non-root image user passes", manifest: pod("nr-ok", "localhost/busybox:nonroot", "id -u", "", "securityContext: {runAsNonRoot: true}"),
			want: []string{"[main] 1000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
}

func TestHostNamespaces(t *testing.T) {
	requireRoot(t)
	host := map[string]string{}
	for _, ns := range []string{"pid", "ipc", "net", "uts"} {
		l, err := os.Readlink("/proc/self/ns/" + ns)
		if err != nil {
			t.Fatal(err)
		}
		host[ns] = l
	}
	script := "for n in pid ipc net uts; do echo $n=$(readlink /proc/self/ns/$n); done"
	shared := podCase{name: "hostPID hostIPC hostNetwork", manifest: pod("hostns", busybox, script, "", "hostPID: true\nhostIPC: true\nhostNetwork: true"),
		want: []string{"pid=" + host["pid"], "ipc=" + host["ipc"], "net=" + host["net"], "uts=" + host["uts"]}}
	own := podCase{name: "own namespaces", manifest: pod("ownns", busybox, script, "", ""),
		notWant: []string{"pid=" + host["pid"], "ipc=" + host["ipc"], "net=" + host["net"], "uts=" + host["uts"]},
		want:    []string{"pid=pid:", "net=net:"}}
	t.Run(shared.name, shared.run)
	t.Run(own.name, own.run)
}

func TestPodSharing(t *testing.T) {
	tests := []podCase{
		{name: "shareProcessNamespace", manifest: `
apiVersion: v1
kind: Pod
metadata: {name: sharepid}
spec:
  shareProcessNamespace: true
  containers:
  - name: sleeper
    image: localhost/busybox:latest
    command: ["sleep", "3"]
  - name: watcher
    image: localhost/busybox:latest
    command: ["sh", "-c", "sleep 1; ps -o pid,user,args"]
`, want: []string{"1 nobody", "sleep 3"},
			// The sandbox's command line does not tell where podsec's state is.
			notWant: []string{"podsec-root-"}},
		{name: "init containers feed app containers through an emptyDir", manifest: `
apiVersion: v1
kind: Pod
metadata: {name: initfeed}
spec:
  initContainers:
  - name: first
    image: localhost/busybox:latest
    command: ["sh", "-c", "echo one > /work/log"]
    volumeMounts: [{name: work, mountPath: /work}]
  - name: second
    image: localhost/busybox:latest
    command: ["sh", "-c", "echo two >> /work/log"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: localhost/busybox:latest
    command: ["sh", "-c", "cat /work/log"]
    volumeMounts: [{name: work, mountPath: /work}]
  volumes: [{name: work, emptyDir: {}}]
`, want: []string{"[app] one\n[app] two"}},
		{name: "a failing init container stops the pod", manifest: `
apiVersion: v1
kind: Pod
metadata: {name: initfail}
spec:
  initContainers:
  - name: broken
    image: localhost/busybox:latest
    command: ["sh", "-c", "exit 7"]
  containers:
  - name: app
    image: localhost/busybox:latest
    command: ["echo", "must-not-run"]
`, err: `init container "broken" failed with exit code 7`},
		{name: "exit code of the first failing app container", manifest: `
apiVersion: v1
kind: Pod
metadata: {name: appfail}
spec:
  containers:
  - name: ok
    image: localhost/busybox:latest
    command: ["true"]
  - name: bad
    image: localhost/busybox:latest
    command: ["sh", "-c", "exit 5"]
`, exit: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
}

func TestSharedNamespacesAreEqual(t *testing.T) {
	// a outlives b's start: the kernel reuses a freed namespace's inode
	// number, so a pid namespace gone before the next is made can show
	// the same number.
	out, _, _, err := runPod(t, `
apiVersion: v1
kind: Pod
metadata: {name: sharing2}
spec:
  containers:
  - name: a
    image: localhost/busybox:latest
    command: ["sh", "-c", "echo ns net=$(readlink /proc/self/ns/net) ipc=$(readlink /proc/self/ns/ipc) uts=$(readlink /proc/self/ns/uts) pid=$(readlink /proc/self/ns/pid); sleep 2"]
  - name: b
    image: localhost/busybox:latest
    command: ["sh", "-c", "echo ns net=$(readlink /proc/self/ns/net) ipc=$(readlink /proc/self/ns/ipc) uts=$(readlink /proc/self/ns/uts) pid=$(readlink /proc/self/ns/pid)"]
`)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		_, rest, ok := strings.Cut(line, "] ns ")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(rest) {
			k, v, _ := strings.Cut(f, "=")
			if vals[k] == nil {
				vals[k] = map[string]bool{}
			}
			vals[k][v] = true
		}
	}
	for _, k := range []string{"net", "ipc", "uts"} {
		if len(vals[k]) != 1 {
			t.Errorf("containers of a pod in %d %s namespaces, want 1: %s", len(vals[k]), k, out)
		}
	}
	if len(vals["pid"]) != 2 {
		t.Errorf("containers of a pod without shareProcessNamespace in %d pid namespaces, want 2: %s", len(vals["pid"]), out)
	}
}

// ownBounding is this process's bounding set as /proc/self/status prints
// it: a privileged container gets exactly that.
func ownBounding() string {
	b, _ := boundingSet()
	return fmt.Sprintf("%016x", b)
}

func TestDNSFiles(t *testing.T) {
	podCase{name: "dnsPolicy None with dnsConfig and hostAliases", manifest: pod("dns", busybox, "cat /etc/resolv.conf /etc/hosts", "",
		"dnsPolicy: None\ndnsConfig: {nameservers: [192.0.2.1], searches: [svc.example], options: [{name: ndots, value: '5'}]}\nhostAliases: [{ip: 192.0.2.7, hostnames: [db.local, cache.local]}]"),
		want: []string{"[main] nameserver 192.0.2.1", "[main] search svc.example", "[main] options ndots:5", "[main] 192.0.2.7\tdb.local", "[main] 192.0.2.7\tcache.local", "\tdns"}}.run(t)
}
