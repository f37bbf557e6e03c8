package pss

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/spec"
)

// conformanceDir holds pod-security-admission's fixtures with manifest.tsv,
// shared/ beside the repository (see shared/conformance/psa/README.md).
const conformanceDir = "../../../shared/conformance/psa"

// fixtureVersion is the version of the copied fixtures.
const fixtureVersion = "v1.37"

type manifestRow struct {
	path      string
	level     string            // the level the fixture was generated for
	expect    map[string]string // level -> allow, deny or invalid
	substring string
}

func readManifest(t *testing.T) []manifestRow {
	t.Helper()
	f, err := os.Open(filepath.Join(conformanceDir, "manifest.tsv"))
	if err != nil {
		if os.IsNotExist(err) && os.Getenv("CI") != "true" {
			t.Skipf("conformance fixtures not found at %s (shared/ beside the clone): %v", conformanceDir, err)
		}
		t.Fatalf("conformance fixtures: %v", err)
	}
	defer f.Close()
	var rows []manifestRow
	sc := bufio.NewScanner(f)
	for line := 0; sc.Scan(); line++ {
		if line == 0 || strings.TrimSpace(sc.Text()) == "" {
			continue // header
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 8 {
			t.Fatalf("manifest.tsv line %d: %d columns, want at least 8", line+1, len(c))
		}
		rows = append(rows, manifestRow{
			path:      c[0],
			level:     c[1],
			expect:    map[string]string{"privileged": c[4], "baseline": c[5], "restricted": c[6]},
			substring: c[7],
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading manifest.tsv: %v", err)
	}
	return rows
}

func readFixture(t *testing.T, path string) *corev1.Pod {
	t.Helper()
	f, err := os.Open(filepath.Join(conformanceDir, path))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	defer f.Close()
	pods, err := spec.DecodePods(f)
	if err != nil || len(pods) != 1 {
		t.Fatalf("DecodePods(%s) = %d pods, %v; want one pod", path, len(pods), err)
	}
	return pods[0]
}

// TestConformance runs every upstream fixture at every level and expects
// the result manifest.tsv gives. A pod marked invalid at a level is one
// the API server's validation refuses before admission runs: podsec's
// validation must refuse it.
func TestConformance(t *testing.T) {
	rows := readManifest(t)
	ev, err := NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	counts := map[string]int{}
	for _, row := range rows {
		listed[row.path] = true
		t.Run(row.path, func(t *testing.T) {
			pod := readFixture(t, row.path)
			for _, level := range []string{"privileged", "baseline", "restricted"} {
				want := row.expect[level]
				counts[level+" "+want]++
				switch want {
				case "allow", "deny":
					for _, version := range []string{fixtureVersion, "latest"} {
						// The error substring names the violated check at the
						// fixture's own level; at baseline, a restricted fixture
						// may break a baseline check with another reason
						// (restrictedvolumes19 is a hostPath volume).
						substring := row.substring
						if level != row.level {
							substring = ""
						}
						checkLevel(t, ev, pod, level, version, want == "allow", substring)
					}
				case "invalid":
					errs := spec.ValidatePod(pod, spec.ValidateOptions{})
					if len(errs) == 0 {
						t.Errorf("%s at %s: ValidatePod = no errors, want the pod refused before admission", row.path, level)
					}
					if !strings.Contains(errs.ToAggregate().Error(), row.substring) {
						t.Errorf("%s at %s: ValidatePod = %v, want an error about %s", row.path, level, errs, row.substring)
					}
				default:
					t.Fatalf("manifest.tsv: %s: unknown expectation %q at %s", row.path, want, level)
				}
			}
		})
	}
	// A fixture missing from the manifest would go untested.
	var stray []string
	err = filepath.WalkDir(conformanceDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(conformanceDir, p)
		if !d.IsDir() && strings.HasSuffix(p, ".yaml") && !listed[filepath.ToSlash(rel)] {
			stray = append(stray, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(stray)
	if len(stray) > 0 {
		t.Errorf("fixtures not in manifest.tsv: %v", stray)
	}
	// The README's totals.
	for key, want := range map[string]int{"privileged allow": 144, "privileged invalid": 4,
		"baseline allow": 77, "baseline deny": 71, "restricted allow": 23, "restricted deny": 125} {
		if counts[key] != want {
			t.Errorf("manifest.tsv: %d fixtures expected %q, want %d as README.md says", counts[key], key, want)
		}
	}
}

func checkLevel(t *testing.T, ev *Evaluator, pod *corev1.Pod, level, version string, allow bool, substring string) {
	t.Helper()
	labels := map[string]string{
		"pod-security.kubernetes.io/enforce":         level,
		"pod-security.kubernetes.io/enforce-version": version,
	}
	d := ev.Admit(labels, pod)
	if d.Allowed != allow {
		t.Errorf("Admit(%s:%s, %s) allowed = %v (%v), want %v", level, version, pod.Name, d.Allowed, d.Err, allow)
		return
	}
	if allow {
		if d.Err != nil {
			t.Errorf("Admit(%s:%s, %s) allowed with error %v", level, version, pod.Name, d.Err)
		}
		return
	}
	prefix := `pods "` + pod.Name + `" is forbidden: violates PodSecurity "` + level + ":" + version + `": `
	msg := d.Err.Error()
	if !strings.HasPrefix(msg, prefix) || len(msg) == len(prefix) || !strings.Contains(msg[len(prefix):], substring) {
		t.Errorf("Admit(%s:%s, %s) error = %q, want %q followed by a reason with %q", level, version, pod.Name, msg, prefix, substring)
	}
}
