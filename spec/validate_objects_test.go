package spec

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeObjectsValidatesKeys(t *testing.T) {
	const pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: main, image: busybox}]}\n---\n"
	tests := []struct {
		name, doc string
		want      []string // empty: accepted
	}{
		{name: "plain keys", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a.conf: x, KEY_1: \"v\", -k: z}\n"},
		{name: "atomic writer's name", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {..data: x}\n",
			want: []string{`ConfigMap "cfg" is invalid: data[..data]: Invalid value: "..data": must not start with '..'`}},
		{name: "slash and dot-dot", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a/b: x}\nbinaryData: {'..': eA==}\n",
			want: []string{`data[a/b]: Invalid value: "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
				`binaryData[..]: Invalid value: "..": must not be '..'`}},
		{name: "duplicate across data and binaryData", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {k: x}\nbinaryData: {k: eA==}\n",
			want: []string{`data[k]: Invalid value: "k": duplicate of key present in binaryData`}},
		{name: "secret stringData", doc: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {../x: \"v\"}\n",
			want: []string{`Secret "s" is invalid: data[../x]: Invalid value: "../x": a valid config key must consist`}},
		{name: "secret too large", doc: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: " + strings.Repeat("x", 1<<20) + ", b: \"v\"}\n",
			want: []string{`Secret "s" is invalid: data: Too long: may not be more than 1048576 bytes`}},
		{name: "bad name", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Cfg_1}\n",
			want: []string{`ConfigMap "Cfg_1" is invalid: metadata.name: Invalid value: "Cfg_1"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeObjects(strings.NewReader(pod + tc.doc))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("DecodeObjects(%s) = %v, want accepted", tc.name, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidManifest) {
				t.Fatalf("DecodeObjects(%s) = %v, want %v", tc.name, err, ErrInvalidManifest)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) || !strings.HasPrefix(err.Error(), "document 2: ") {
					t.Errorf("DecodeObjects(%s) = %v, want document 2 with %q", tc.name, err, w)
				}
			}
		})
	}
}
