package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"

	"github.com/podsec/podsec/image"
)

// podsecImage runs `podsec --root root image ARGS` in-process, with the
// image command on a root of its own so that the test does not depend on
// main.go's command list.
func podsecImage(t *testing.T, root string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &globals{root: root}
	top := &cobra.Command{Use: "podsec", SilenceUsage: true, SilenceErrors: true}
	top.AddCommand(newImageCommand(g))
	top.SetOut(&out)
	top.SetErr(&errb)
	top.SetArgs(append([]string{"image"}, args...))
	if err := top.Execute(); err != nil {
		errb.WriteString("error: " + strings.TrimSpace(err.Error()) + "\n")
		return 1, out.String(), errb.String()
	}
	return 0, out.String(), errb.String()
}

func randomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatalf("random.Image() = %v", err)
	}
	return img
}

func TestImageCommands(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "state")
	img := randomImage(t)
	id, _ := img.ConfigName()
	oci := filepath.Join(dir, "oci")
	p, err := layout.Write(oci, empty.Index)
	if err == nil {
		err = p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "localhost/r:1"}))
	}
	if err != nil {
		t.Fatalf("writing OCI layout: %v", err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, _ := name.ParseReference(host+"/podsec/r:2", name.Insecure)
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("remote.Write(%s) = %v", ref, err)
	}
	short := id.Hex[:12]

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // substrings, or regexps when they start with ^
		wantErr  []string
	}{
		{name: "load", args: []string{"load", oci}, wantOut: []string{"Loaded image: localhost/r:1\n"}, wantErr: []string{"unpacking"}},
		{name: "load again", args: []string{"load", oci}, wantOut: []string{"Loaded image: localhost/r:1\n"}, wantErr: []string{"already present"}},
		{name: "load missing", args: []string{"load", filepath.Join(dir, "nope")}, wantCode: 1, wantErr: []string{"error: loading " + filepath.Join(dir, "nope"), "no such file"}},
		{name: "load without path", args: []string{"load"}, wantCode: 1, wantErr: []string{"error: accepts 1 arg(s), received 0"}},
		{name: "pull plain http refused", args: []string{"pull", host + "/podsec/r:2"}, wantCode: 1, wantErr: []string{"error: pulling " + host + "/podsec/r:2", "--insecure"}},
		{name: "pull", args: []string{"pull", "--insecure", host + "/podsec/r:2"}, wantOut: []string{"Pulled image: " + host + "/podsec/r:2\n", "Digest: sha256:"}},
		{name: "ls", args: []string{"ls"}, wantOut: []string{
			`^REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE\s+CREATED\n`,
			`\n` + regexp.QuoteMeta(host) + `/podsec/r\s+2\s+` + short + `\s+\S+\s+\S+`,
			`\nlocalhost/r\s+1\s+` + short + `\s`}},
		{name: "ls wide", args: []string{"ls", "-o", "wide"}, wantOut: []string{`^REFERENCE\s+IMAGE ID\s+DIGEST\s+SIZE\s+CREATED\s+LAYERS\n`, `localhost/r:1\s+` + short + `\s+sha256:[0-9a-f]{64}\s+.*\s2\n`}},
		{name: "ls bad output", args: []string{"ls", "-o", "yaml"}, wantCode: 1, wantErr: []string{`error: unknown output format "yaml"`}},
		{name: "rm", args: []string{"rm", "localhost/r:1", "localhost/nope"}, wantCode: 1,
			wantOut: []string{"Deleted: localhost/r:1\n"}, wantErr: []string{"error: removing localhost/nope: image not found: localhost/nope:latest"}},
		{name: "rm by id", args: []string{"rm", short}, wantOut: []string{"Deleted: " + short + "\n"}},
		{name: "ls empty", args: []string{"ls"}, wantOut: []string{`^REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE\s+CREATED\n$`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := podsecImage(t, root, tc.args...)
			if code != tc.wantCode {
				t.Errorf("podsec image %v: exit %d, want %d (stderr %q)", tc.args, code, tc.wantCode, errs)
			}
			for _, w := range tc.wantOut {
				if !matches(out, w) {
					t.Errorf("podsec image %v: stdout %q does not contain %q", tc.args, out, w)
				}
			}
			for _, w := range tc.wantErr {
				if !matches(errs, w) {
					t.Errorf("podsec image %v: stderr %q does not contain %q", tc.args, errs, w)
				}
			}
		})
	}
}

func matches(s, want string) bool {
	if strings.HasPrefix(want, "^") || strings.ContainsAny(want, `\`) {
		return regexp.MustCompile(want).MatchString(s)
	}
	return strings.Contains(s, want)
}

func TestImageListJSON(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "state")
	oci := filepath.Join(dir, "oci")
	p, err := layout.Write(oci, empty.Index)
	if err == nil {
		err = p.AppendImage(randomImage(t), layout.WithAnnotations(map[string]string{"io.containerd.image.name": "docker.io/library/r:1"}))
	}
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := podsecImage(t, root, "load", oci); code != 0 {
		t.Fatalf("podsec image load: %s", errs)
	}
	code, out, errs := podsecImage(t, root, "ls", "-o", "json")
	if code != 0 {
		t.Fatalf("podsec image ls -o json: exit %d: %s", code, errs)
	}
	var got struct {
		Images []struct {
			Ref    string   `json:"ref"`
			ID     string   `json:"id"`
			Layers []string `json:"layers"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("podsec image ls -o json: %v in %q", err, out)
	}
	if len(got.Images) != 1 || got.Images[0].Ref != "docker.io/library/r:1" || len(got.Images[0].Layers) != 2 {
		t.Errorf("podsec image ls -o json = %+v", got)
	}
}

func TestPrintImageTable(t *testing.T) {
	now := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
	imgs := []*image.Image{
		{Ref: "docker.io/library/busybox:1.36", ID: "sha256:" + strings.Repeat("a", 64), Size: 4_300_000, Created: now.Add(-72 * time.Hour)},
		{Ref: "localhost/x@sha256:" + strings.Repeat("b", 64), ID: "sha256:" + strings.Repeat("c", 64), Size: 10},
	}
	var b bytes.Buffer
	if err := printImageTable(&b, imgs, false, now); err != nil {
		t.Fatal(err)
	}
	want := "REPOSITORY                  TAG      IMAGE ID       SIZE    CREATED\n" +
		"docker.io/library/busybox   1.36     aaaaaaaaaaaa   4.3MB   3 days ago\n" +
		"localhost/x                 <none>   cccccccccccc   10B     <unknown>\n"
	if b.String() != want {
		t.Errorf("printImageTable() =\n%s\nwant\n%s", b.String(), want)
	}
}
