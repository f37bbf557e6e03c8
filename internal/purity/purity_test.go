package purity

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// purePackages may not reach the kernel (STYLE.md).
var purePackages = []string{"spec", "seccomp", "policy/...", "pipeline"}

// forbidden are import path prefixes a pure package must not depend on.
var forbidden = []string{
	"golang.org/x/sys/unix",
	"github.com/opencontainers/runc/",
	"github.com/opencontainers/cgroups",
	"github.com/vishvananda/",
	"github.com/google/nftables",
	"github.com/containernetworking/",
	"os/exec",
}

// exempt packages' own dependencies are not looked at.
var exempt = map[string]bool{"github.com/moby/profiles/seccomp": true}

type pkg struct {
	ImportPath string
	Imports    []string
}

// deps lists the packages of patterns and all their dependencies.
func deps(t *testing.T, patterns ...string) map[string]pkg {
	t.Helper()
	args := append([]string{"list", "-tags", "seccomp", "-deps", "-json=ImportPath,Imports"}, patterns...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	all := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		all[p.ImportPath] = p
	}
	return all
}

func isForbidden(path string) bool {
	for _, f := range forbidden {
		if path == f || strings.HasPrefix(path, f) && strings.HasSuffix(f, "/") || strings.HasPrefix(path, f+"/") {
			return true
		}
	}
	return false
}

// violations walks the import graph from root and returns the chains that
// end in a forbidden package.
func violations(all map[string]pkg, root string) []string {
	var out []string
	seen := map[string]bool{root: true}
	var walk func(path string, chain []string)
	walk = func(path string, chain []string) {
		for _, imp := range all[path].Imports {
			if seen[imp] {
				continue
			}
			seen[imp] = true
			c := append(append([]string(nil), chain...), imp)
			if isForbidden(imp) {
				out = append(out, strings.Join(c, " -> "))
				continue
			}
			if !exempt[imp] {
				walk(imp, c)
			}
		}
	}
	walk(root, []string{root})
	return out
}

const module = "github.com/podsec/podsec/"

// TestPurePackagesReachNoKernel fails on any pure package that depends on
// the kernel side, naming the import chain.
func TestPurePackagesReachNoKernel(t *testing.T) {
	var patterns []string
	for _, p := range purePackages {
		patterns = append(patterns, "../../"+p)
	}
	all := deps(t, patterns...)
	n := 0
	for path := range all {
		if !strings.HasPrefix(path, module) || !isPure(path) {
			continue
		}
		n++
		for _, v := range violations(all, path) {
			t.Errorf("pure package %s reaches the kernel side: %s", strings.TrimPrefix(path, module), v)
		}
	}
	if n < len(purePackages) {
		t.Fatalf("found %d pure packages, want at least %d", n, len(purePackages))
	}
}

func isPure(path string) bool {
	rel := strings.TrimPrefix(path, module)
	for _, p := range purePackages {
		if base, ok := strings.CutSuffix(p, "/..."); ok {
			if rel == base || strings.HasPrefix(rel, base+"/") {
				return true
			}
		} else if rel == p {
			return true
		}
	}
	return false
}

// TestWalkerFindsKernelPackages keeps the check from passing vacuously:
// runtime, which drives libcontainer, must be found out.
func TestWalkerFindsKernelPackages(t *testing.T) {
	all := deps(t, "../../runtime")
	v := violations(all, module+"runtime")
	joined := strings.Join(v, "\n")
	for _, want := range []string{"golang.org/x/sys/unix", "github.com/opencontainers/runc/libcontainer"} {
		if !strings.Contains(joined, want) {
			t.Errorf("violations(runtime) = %q, want a chain to %s", v, want)
		}
	}
}
