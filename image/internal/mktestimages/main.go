// Command mktestimages builds podsec's test images (localhost/busybox:latest,
// :nonroot and :named-user) from a static busybox and loads them into the
// image store of a podsec state root, or writes them as an OCI layout.
//
//	go run ./image/internal/mktestimages --root /var/lib/podsec
//	go run ./image/internal/mktestimages --out /tmp/busybox-oci
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/podsec/podsec/image"
	"github.com/podsec/podsec/image/internal/testimages"
)

func main() {
	busybox := flag.String("busybox", "/bin/busybox", "static busybox binary")
	root := flag.String("root", "", "podsec state root whose image store gets the images")
	out := flag.String("out", "", "write an OCI image layout to this directory instead")
	flag.Parse()
	if err := run(*busybox, *root, *out); err != nil {
		fmt.Fprintf(os.Stderr, "mktestimages: error: %v\n", err)
		os.Exit(1)
	}
}

func run(busybox, root, out string) error {
	if (root == "") == (out == "") {
		return fmt.Errorf("give one of --root and --out")
	}
	if out != "" {
		return testimages.WriteLayout(out, busybox)
	}
	store, err := image.Open(filepath.Join(root, "images"))
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "podsec-testimages-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := testimages.WriteLayout(dir, busybox); err != nil {
		return err
	}
	imgs, err := store.Load(dir, os.Stderr)
	if err != nil {
		return err
	}
	for _, img := range imgs {
		fmt.Printf("Loaded image: %s\n", img.Ref)
	}
	return nil
}
