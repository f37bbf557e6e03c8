package pipeline_test

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/spec"
)

// TestPlanFiles checks the files Build puts in the plan for configMap,
// secret and downwardAPI volumes: keys or items, modes from the item or
// defaultMode, fsGroup's read bits, and the errors of missing objects.
func TestPlanFiles(t *testing.T) {
	const objs = `
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {app.conf: "listen 8080", other: "x"}
binaryData: {bin: AAE=}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
stringData: {password: hunter2}
`
	pod := func(sc, volumes string) string {
		return `apiVersion: v1
kind: Pod
metadata: {name: p, uid: u-1, labels: {app: web, tier: "1"}, annotations: {a: "b\"c"}}
spec:
  securityContext: {` + sc + `}
  containers: [{name: main, image: busybox}]
  volumes:
` + volumes + objs
	}
	tests := []struct {
		name, manifest string
		want           []string // volume:path:mode:data, in plan order
		err            string
	}{
		{name: "configMap keys with the default mode, binaryData",
			manifest: pod("", "  - {name: c, configMap: {name: cfg}}"),
			want:     []string{"c:app.conf:644:listen 8080", "c:bin:644:\x00\x01", "c:other:644:x"}},
		{name: "configMap items with their modes and defaultMode",
			manifest: pod("", "  - {name: c, configMap: {name: cfg, defaultMode: 0600, items: [{key: other, path: d/o}, {key: app.conf, path: a, mode: 0400}]}}"),
			want:     []string{"c:a:400:listen 8080", "c:d/o:600:x"}},
		{name: "secret defaultMode with fsGroup gains group read",
			manifest: pod("fsGroup: 1234", "  - {name: s, secret: {secretName: sec, defaultMode: 0400}}"),
			want:     []string{"s:password:440:hunter2"}},
		{name: "downwardAPI fields, fsGroup on a 0600 item",
			manifest: pod("fsGroup: 7", "  - {name: d, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}, {path: \"n\", mode: 0600, fieldRef: {fieldPath: metadata.name}}, {path: an, fieldRef: {fieldPath: metadata.annotations}}, {path: uid, fieldRef: {fieldPath: metadata.uid}}]}}"),
			want:     []string{`d:labels:644:app="web"` + "\n" + `tier="1"`, "d:n:640:p", `d:an:644:a="b\"c"`, "d:uid:644:u-1"}},
		{name: "emptyDir and hostPath have no files",
			manifest: pod("fsGroup: 7", "  - {name: e, emptyDir: {}}\n  - {name: h, hostPath: {path: /tmp}}")},
		{name: "missing configMap",
			manifest: pod("", "  - {name: e, emptyDir: {}}\n  - {name: c, configMap: {name: nope}}"),
			err:      `spec.volumes[1]: volume "c": configmap "nope" not found: give it in the manifest with the pod`},
		{name: "optional missing secret",
			manifest: pod("", "  - {name: s, secret: {secretName: nope, optional: true}}")},
		{name: "missing key",
			manifest: pod("", "  - {name: c, configMap: {name: cfg, items: [{key: nope, path: x}]}}"),
			err:      `spec.volumes[0]: volume "c": configmap "cfg" has no key "nope"`},
		{name: "optional missing key",
			manifest: pod("", "  - {name: c, configMap: {name: cfg, optional: true, items: [{key: nope, path: x}, {key: other, path: \"y\"}]}}"),
			want:     []string{"c:y:644:x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := spec.DecodeObjects(strings.NewReader(tc.manifest))
			if err != nil {
				t.Fatal(err)
			}
			plan, err := pipeline.Build(o.Pods[0], &pipeline.Node{Root: "/r"}, pipeline.Admission{},
				pipeline.Objects{ConfigMaps: o.ConfigMaps, Secrets: o.Secrets})
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("Build() error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Build() = %v", err)
			}
			var got []string
			for _, v := range plan.Volumes {
				for _, f := range v.Files {
					got = append(got, fmt.Sprintf("%s:%s:%o:%s", v.Name, f.Path, f.Mode&fs.ModePerm, f.Data))
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("Build() files = %q, want %q", got, tc.want)
			}
		})
	}
}
