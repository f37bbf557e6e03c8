package testimages

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/podsec/podsec/image"
	"github.com/podsec/podsec/spec"
)

const busybox = "/bin/busybox"

func requireBusybox(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(busybox); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: %v (scripts/setup installs busybox-static); CI=true: not skipping", busybox, err)
		}
		t.Skipf("%s: %v", busybox, err)
	}
}

// TestMatchesGolden keeps the images equal to testdata/images.json, which
// the spec package's golden tests read in their place.
func TestMatchesGolden(t *testing.T) {
	requireBusybox(t)
	b, err := os.ReadFile("../../../testdata/images.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden map[string]struct {
		Config spec.ImageConfig `json:"config"`
		Passwd string           `json:"passwd"`
		Group  string           `json:"group"`
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatalf("testdata/images.json: %v", err)
	}
	dir := t.TempDir()
	if err := WriteLayout(filepath.Join(dir, "oci"), busybox); err != nil {
		t.Fatalf("WriteLayout() = %v", err)
	}
	s, err := image.Open(filepath.Join(dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := s.Load(filepath.Join(dir, "oci"), nil)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if len(imgs) != len(golden) {
		t.Errorf("Load() = %d images, want the %d of images.json", len(imgs), len(golden))
	}
	for _, img := range imgs {
		g, ok := golden[img.Ref]
		if !ok {
			t.Errorf("image %s is not in images.json", img.Ref)
			continue
		}
		if !reflect.DeepEqual(img.Config, g.Config) {
			t.Errorf("%s config = %+v, images.json has %+v", img.Ref, img.Config, g.Config)
		}
		if len(img.Layers) != 1 {
			t.Fatalf("%s layers = %v, want 1", img.Ref, img.Layers)
		}
		for f, want := range map[string]string{"etc/passwd": g.Passwd, "etc/group": g.Group} {
			if got, err := os.ReadFile(filepath.Join(img.Layers[0], f)); err != nil || string(got) != want {
				t.Errorf("%s %s = %q, %v; images.json has %q", img.Ref, f, got, err, want)
			}
		}
	}
	if os.Geteuid() == 0 {
		out, err := exec.Command("chroot", imgs[0].Layers[0], "/bin/sh", "-c", "id -un; ls -ld /tmp").CombinedOutput()
		if err != nil || string(out[:5]) != "root\n" {
			t.Errorf("chroot layer sh -c id = %q, %v", out, err)
		}
	}
}

// TestReproducible: the same busybox gives the same images, so that
// `make images` run twice changes nothing.
func TestReproducible(t *testing.T) {
	requireBusybox(t)
	a, err := Images(busybox)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Images(busybox)
	for ref, img := range a {
		da, _ := img.Digest()
		db, _ := b[ref].Digest()
		if da != db {
			t.Errorf("Images() %s digest %s then %s", ref, da, db)
		}
	}
}
