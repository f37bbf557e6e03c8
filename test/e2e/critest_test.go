//go:build e2e

package e2e

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// minPodsecPasses is the floor of critest cases podsec-runtime must pass
// through containerd 1.6 (runc passes as many here: the rest are features
// containerd 1.6 lacks, its idempotence answers, the image pinned by a
// digest no stand-in can have, and busybox's ls).
const minPodsecPasses = 90

// critestResult is one critest case's outcome.
type critestResult struct {
	Status  string // passed, failed, skipped, ...
	Message string // the failure's message and text, or why it skipped
}

// junitReport is the part of ginkgo's JUnit report read here.
type junitReport struct {
	Suites []struct {
		Cases []struct {
			Name    string `xml:"name,attr"`
			Status  string `xml:"status,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestCritest runs cri-tools's critest through Debian's containerd 1.6's
// CRI (TestCritestContainerd2 does the same through containerd 2) with
// the handlers runc and podsec (podsec-runtime, node policy privileged),
// case by case: podsec-runtime must pass every case runc passes, and at
// least minPodsecPasses. Then, on a containerd configured for a baseline
// node (deploy/containerd/runtime-policy.yaml, unset_seccomp_profile on),
// with podsec: every case that now fails must fail with podsec's refusal,
// the privileged ones among them, and every other case must pass as before.
func TestCritest(t *testing.T) {
	if os.Geteuid() != 0 {
		need(t, "root")
	}
	r := runCritest(t, debianContainerd(t))
	t.Logf("critest runc:              %s", totals(r.runc))
	t.Logf("critest podsec-runtime:    %s", totals(r.podsec))
	t.Logf("critest podsec at baseline: %s", totals(r.baseline))

	compareHandlers(t, r.runc, r.podsec, minPodsecPasses)

	checkBaseline(t, r.podsec, r.baseline, r.policy)
}

// critestRuns are critest's outcomes through one containerd, by handler.
type critestRuns struct {
	runc, podsec map[string]critestResult // node policy privileged
	baseline     map[string]critestResult // podsec on a baseline node
	policy       string                   // that node's policy file
}

// runCritest runs critest with runc and podsec on a privileged node, then
// with podsec on a baseline node, each a containerd of its own.
func runCritest(t *testing.T, cd containerdBin) critestRuns {
	t.Helper()
	critest := e2eBin(t, "critest")
	registry := serveCRIImages(t)
	var r critestRuns
	t.Run("privileged", func(t *testing.T) {
		node := startCRINode(t, registry, cd, false)
		r.runc = node.critest(t, critest, "runc")
		r.podsec = node.critest(t, critest, "podsec")
	})
	t.Run("baseline", func(t *testing.T) {
		node := startCRINode(t, registry, cd, true)
		r.baseline = node.critest(t, critest, "podsec")
		r.policy = node.policy
	})
	if r.runc == nil || r.podsec == nil || r.baseline == nil {
		t.Fatal("critest did not run with every handler")
	}
	return r
}

// checkBaseline compares the cases podsec-runtime passes on a privileged
// node with the same cases on a baseline node: every case that no longer
// passes must fail with podsec's refusal, every privileged container must
// be refused, and the pod sandboxes must still run.
func checkBaseline(t *testing.T, podsec, baseline map[string]critestResult, policy string) {
	t.Helper()
	refusal := "(node policy in " + policy + ")"
	var refused []string
	for _, name := range sortedNames(podsec) {
		if podsec[name].Status != "passed" || baseline[name].Status == "passed" {
			continue
		}
		if !strings.Contains(baseline[name].Message, refusal) {
			t.Errorf("critest %q: passes with podsec-runtime, %s at baseline without podsec's refusal: %s",
				name, or(baseline[name].Status, "missing"), firstLine(baseline[name].Message))
			continue
		}
		refused = append(refused, name+"\n      "+refusalReasons(baseline[name].Message))
	}
	t.Logf("refused at baseline with podsec's message (%d):\n  %s", len(refused), strings.Join(refused, "\n  "))
	privileged := 0
	for _, name := range sortedNames(podsec) {
		if podsec[name].Status == "passed" && isPrivilegedCase(name) {
			privileged++
			if baseline[name].Status == "passed" {
				t.Errorf("critest %q: a privileged container ran at baseline", name)
			}
		}
	}
	// The sandboxes themselves (containerd's pause, RuntimeDefault through
	// unset_seccomp_profile) must run at baseline.
	for _, name := range sortedNames(podsec) {
		if strings.Contains(name, "PodSandbox runtime should support basic operations on PodSandbox") &&
			podsec[name].Status == "passed" && baseline[name].Status != "passed" {
			t.Errorf("critest %q: a pod sandbox did not run at baseline: %s", name, firstLine(baseline[name].Message))
		}
	}
	if privileged == 0 && os.Getenv("E2E_CRITEST_FOCUS") == "" {
		t.Errorf("no privileged critest case passed with podsec-runtime: nothing shows the baseline refusing one")
	}
}

// compareHandlers fails the test for every critest case that passes with
// runc and not with podsec-runtime, and when podsec-runtime passes fewer
// than runc or than min.
func compareHandlers(t *testing.T, runc, podsec map[string]critestResult, min int) {
	t.Helper()
	for _, name := range sortedNames(runc) {
		if runc[name].Status == "passed" && podsec[name].Status != "passed" {
			t.Errorf("critest %q: passes with runc, %s with podsec-runtime: %s", name, or(podsec[name].Status, "missing"), firstLine(podsec[name].Message))
		}
	}
	if os.Getenv("E2E_CRITEST_FOCUS") != "" {
		return
	}
	if n := count(podsec, "passed"); n < min || n < count(runc, "passed") {
		t.Errorf("podsec-runtime passes %d critest cases, want at least %d and runc's %d", n, min, count(runc, "passed"))
	}
}

// refusalReasons is the list of violations of podsec's refusal in a
// critest failure: the text between "create failed: " and " (node policy".
func refusalReasons(msg string) string {
	_, after, ok := strings.Cut(msg, "create failed: ")
	if !ok {
		return firstLine(msg)
	}
	before, _, _ := strings.Cut(after, " (node policy in ")
	return strings.ReplaceAll(before, `\"`, `"`)
}

// isPrivilegedCase tells the critest cases whose container is privileged.
func isPrivilegedCase(name string) bool {
	return strings.Contains(name, "when privileged") || strings.Contains(name, "Privileged is true")
}

// critest runs the whole critest suite with one runtime handler and gives
// each case's outcome; its output is in the node's directory.
func (n *criNode) critest(t *testing.T, bin, handler string) map[string]critestResult {
	t.Helper()
	dir := filepath.Join(n.dir, "critest-"+handler)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "junit.xml")
	logPath := filepath.Join(dir, "critest.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"-runtime-endpoint", n.endpoint, "-image-endpoint", n.endpoint, "-runtime-handler", handler,
		"-config", filepath.Join(dir, "none.yaml"),
		"-ginkgo.junit-report", report, "-ginkgo.no-color", "-ginkgo.succinct")
	if focus := os.Getenv("E2E_CRITEST_FOCUS"); focus != "" {
		cmd.Args = append(cmd.Args, "-ginkgo.focus", focus)
	}
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logf, logf
	began := time.Now()
	runErr := cmd.Run() // critest exits non-zero when a case fails: the report says which
	t.Logf("critest with handler %s: %s (exit: %v; log %s)", handler, time.Since(began).Round(time.Second), runErr, logPath)
	if keep := os.Getenv("E2E_CRITEST_OUT"); keep != "" {
		// Kept for reading after the run: the node's directory is removed.
		_ = os.MkdirAll(keep, 0o755)
		for _, f := range []string{report, logPath} {
			if b, err := os.ReadFile(f); err == nil {
				_ = os.WriteFile(filepath.Join(keep, strings.ReplaceAll(t.Name(), "/", "-")+"-"+handler+"-"+filepath.Base(f)), b, 0o644)
			}
		}
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("critest with handler %s wrote no report (%v): %v\n%s", handler, runErr, err, tail(logPath, 40))
	}
	var r junitReport
	if err := xml.Unmarshal(data, &r); err != nil {
		t.Fatalf("critest's report %s: %v", report, err)
	}
	out := map[string]critestResult{}
	for _, s := range r.Suites {
		for _, c := range s.Cases {
			res := critestResult{Status: c.Status}
			if c.Failure != nil {
				res.Message = c.Failure.Message + "\n" + c.Failure.Text
			}
			if c.Error != nil {
				res.Message += c.Error.Message + "\n" + c.Error.Text
			}
			if c.Skipped != nil {
				res.Message += c.Skipped.Message
			}
			if !strings.HasPrefix(c.Name, "[It] ") {
				// [BeforeSuite] and the like: not cases, but the run is
				// worthless without them.
				if c.Status != "passed" && c.Status != "skipped" {
					t.Fatalf("critest with handler %s: %s %s: %s", handler, c.Name, c.Status, firstLine(res.Message))
				}
				continue
			}
			out[c.Name] = res
		}
	}
	if len(out) == 0 {
		t.Fatalf("critest with handler %s: no case in %s", handler, report)
	}
	return out
}

func totals(rs map[string]critestResult) string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped (%d cases)",
		count(rs, "passed"), len(rs)-count(rs, "passed")-count(rs, "skipped"), count(rs, "skipped"), len(rs))
}

func count(rs map[string]critestResult, status string) int {
	n := 0
	for _, r := range rs {
		if r.Status == status {
			n++
		}
	}
	return n
}

func sortedNames(rs map[string]critestResult) []string {
	names := make([]string, 0, len(rs))
	for n := range rs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
