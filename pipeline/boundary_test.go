package pipeline_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// securityFields are the Pod's security settings outside the security
// contexts: the pipeline decides them once; the kernel side executes the
// plan and never reads them.
var securityFields = map[string]bool{"SecurityContext": true, "FSGroup": true, "RunAsUser": true, "Privileged": true,
	"HostPID": true, "HostNetwork": true, "HostIPC": true, "HostUsers": true, "ShareProcessNamespace": true}

// securityTypes are the k8s.io/api/core/v1 types of security settings:
// every field of theirs is a security field, and naming them at all is
// reading them.
var securityTypes = map[string]bool{"PodSecurityContext": true, "SecurityContext": true, "Capabilities": true,
	"SELinuxOptions": true, "SeccompProfile": true, "AppArmorProfile": true, "WindowsSecurityContextOptions": true, "Sysctl": true}

// kernelPackages execute plans.
var kernelPackages = []string{"runtime", "network", "oci", "supervisor", "netpolsync"}

const coreV1 = "k8s.io/api/core/v1"

// securityReads lists where type-checked code reads a security field of
// a k8s.io/api/core/v1 type or names a security type (a field of the
// package's own types of the same name, as probe.Target.HostNetwork, is
// plan data).
func securityReads(fset *token.FileSet, info *types.Info) []string {
	var found []string
	for sel, s := range info.Selections {
		v, ok := s.Obj().(*types.Var)
		if !ok || !v.IsField() || v.Pkg() == nil || v.Pkg().Path() != coreV1 {
			continue
		}
		recv := s.Recv()
		if p, ok := recv.(*types.Pointer); ok {
			recv = p.Elem()
		}
		named, _ := recv.(*types.Named)
		if securityFields[v.Name()] || (named != nil && securityTypes[named.Obj().Name()]) {
			found = append(found, fmt.Sprintf("%s: reads the Pod's %s", fset.Position(sel.Pos()), v.Name()))
		}
	}
	for id, obj := range info.Uses {
		if tn, ok := obj.(*types.TypeName); ok && tn.Pkg() != nil && tn.Pkg().Path() == coreV1 && securityTypes[tn.Name()] {
			found = append(found, fmt.Sprintf("%s: names %s.%s", fset.Position(id.Pos()), coreV1, tn.Name()))
		}
	}
	sort.Strings(found)
	return found
}

// TestKernelSideReadsNoSecurityField type-checks the kernel packages
// against their dependencies' export data and fails on any selector of a
// security field of a k8s.io/api/core/v1 type (a field of the package's
// own types of the same name, as probe.Target.HostNetwork, is plan data).
func TestKernelSideReadsNoSecurityField(t *testing.T) {
	cmd := exec.Command("go", "list", "-tags", "seccomp", "-export", "-deps", "-json=ImportPath,Dir,Export,GoFiles,Standard",
		"../runtime/...", "../network/...", "../oci/...", "../supervisor/...", "../netpolsync/...", "k8s.io/api/core/v1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath, Dir, Export string
		GoFiles                 []string
		Standard                bool
	}
	exports := map[string]string{}
	var ours []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		exports[p.ImportPath] = p.Export
		for _, k := range kernelPackages {
			if p.ImportPath == "github.com/podsec/podsec/"+k || strings.HasPrefix(p.ImportPath, "github.com/podsec/podsec/"+k+"/") {
				ours = append(ours, p)
			}
		}
	}
	if len(ours) < len(kernelPackages) {
		t.Fatalf("found %d kernel packages, want at least %d", len(ours), len(kernelPackages))
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) { return os.Open(exports[path]) })
	for _, p := range ours {
		var files []*ast.File
		for _, f := range p.GoFiles {
			af, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, af)
		}
		info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}, Uses: map[*ast.Ident]types.Object{}}
		conf := types.Config{Importer: imp, FakeImportC: true, Error: func(error) {}}
		conf.Check(p.ImportPath, fset, files, info)
		if len(info.Selections) == 0 {
			t.Errorf("%s: type-checking found no selector at all", p.ImportPath)
		}
		for _, f := range securityReads(fset, info) {
			t.Errorf("%s %s: take the decision from the plan (pipeline.Plan)", p.ImportPath, f)
		}
	}
	// The check itself finds what it looks for, through the same
	// importer: a package that reads fsGroup and a capability and names a
	// security context.
	control := `package control
import corev1 "k8s.io/api/core/v1"
func f(pod *corev1.Pod) (int64, int) {
	var sc *corev1.PodSecurityContext = pod.Spec.SecurityContext
	return *sc.FSGroup, len(pod.Spec.Containers[0].SecurityContext.Capabilities.Add)
}`
	af, err := parser.ParseFile(fset, "control.go", control, 0)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}, Uses: map[*ast.Ident]types.Object{}}
	if _, err := (&types.Config{Importer: imp}).Check("control", fset, []*ast.File{af}, info); err != nil {
		t.Fatalf("type-checking the control: %v", err)
	}
	got := strings.Join(securityReads(fset, info), "\n")
	for _, want := range []string{"names k8s.io/api/core/v1.PodSecurityContext", "reads the Pod's SecurityContext", "reads the Pod's FSGroup", "reads the Pod's Capabilities", "reads the Pod's Add"} {
		if !strings.Contains(got, want) {
			t.Errorf("securityReads(control) = %s\nwant a line %q", got, want)
		}
	}
}
