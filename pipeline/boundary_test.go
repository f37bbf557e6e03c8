package pipeline_test

import (
	"encoding/json"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// securityFields are the Pod's security settings: the pipeline decides
// them once; the kernel side executes the plan and never reads them.
var securityFields = map[string]bool{"SecurityContext": true, "FSGroup": true, "RunAsUser": true, "Privileged": true,
	"HostPID": true, "HostNetwork": true, "HostIPC": true, "HostUsers": true, "ShareProcessNamespace": true}

// kernelPackages execute plans.
var kernelPackages = []string{"runtime", "network", "oci", "supervisor"}

// TestKernelSideReadsNoSecurityField type-checks the kernel packages
// against their dependencies' export data and fails on any selector of a
// security field of a k8s.io/api/core/v1 type (a field of the package's
// own types of the same name, as probe.Target.HostNetwork, is plan data).
func TestKernelSideReadsNoSecurityField(t *testing.T) {
	cmd := exec.Command("go", "list", "-tags", "seccomp", "-export", "-deps", "-json=ImportPath,Dir,Export,GoFiles,Standard",
		"../runtime/...", "../network/...", "../oci/...", "../supervisor/...")
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
		info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}}
		conf := types.Config{Importer: imp, FakeImportC: true, Error: func(error) {}}
		conf.Check(p.ImportPath, fset, files, info)
		for sel, s := range info.Selections {
			v, ok := s.Obj().(*types.Var)
			if !ok || !v.IsField() || !securityFields[v.Name()] || v.Pkg() == nil || v.Pkg().Path() != "k8s.io/api/core/v1" {
				continue
			}
			t.Errorf("%s: %s reads the Pod's %s: take the decision from the plan (pipeline.Plan)", fset.Position(sel.Pos()), p.ImportPath, v.Name())
		}
	}
}
