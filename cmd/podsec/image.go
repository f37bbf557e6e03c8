package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/podsec/podsec/image"
)

func newImageCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "manage the node's local images",
		Long: `image manages podsec's local image store, under <root>/images: images loaded
from archives or pulled from registries, with their layers unpacked once and
shared between images.

Everything an image carries is untrusted and held to limits while it streams
(image load, image pull, and the pulls of run):
  --max-manifest-size  a manifest or index, index.json of a layout (default 4MiB)
  --max-config-size    an image config (default 8MiB)
  --max-layer-size     a layer's unpacked size, and its compressed size (default 1GiB)
  --max-layer-files    the entries of one layer (default 500000)
A layer's compressed digest and diffID are checked as it streams; a layer that
fails a check or goes over a limit leaves nothing in the store. The files of an
OCI layout must be regular files reached without symlinks; a fifo, device or
symlink is refused by name.`,
		Example: `  # Load the images of a docker save tar
  podsec image load busybox.tar

  # Pull an image and list the store
  podsec image pull busybox:1.36
  podsec image ls`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newImageLoadCommand(g), newImagePullCommand(g), newImageListCommand(g), newImageRemoveCommand(g))
	return cmd
}

// nodeImageLimits are the --max-* flags of the commands that store
// images, kept in globals.
type nodeImageLimits = image.Limits

// openImageStore is the node's image store (node.ImageRoot) with the
// command's image limits.
func openImageStore(cmd *cobra.Command, g *globals) (*image.Store, error) {
	n, err := openNode(cmd, g)
	if err != nil {
		return nil, err
	}
	return n.Images()
}

// addImageLimitFlags adds the image limits to a command that stores
// images. The names follow the --max-* style of the kubelet's
// --max-pods and the registry's manifest size limit.
func addImageLimitFlags(cmd *cobra.Command, g *globals) {
	g.imageLimits = image.DefaultLimits()
	l, f := &g.imageLimits, cmd.Flags()
	f.Var((*byteSize)(&l.MaxManifestSize), "max-manifest-size", "largest manifest or image index (an OCI layout's index.json included) read from an image")
	f.Var((*byteSize)(&l.MaxConfigSize), "max-config-size", "largest image config read from an image")
	f.Var((*byteSize)(&l.MaxLayerSize), "max-layer-size", "largest unpacked size of one layer (and largest compressed size)")
	f.Int64Var(&l.MaxLayerFiles, "max-layer-files", l.MaxLayerFiles, "most entries (files, directories, links) in one layer")
}

// imageLimitArgs passes the image limits on to a supervisor.
func imageLimitArgs(g *globals) []string {
	l := g.imageLimits
	return []string{
		"--max-manifest-size", fmt.Sprint(l.MaxManifestSize), "--max-config-size", fmt.Sprint(l.MaxConfigSize),
		"--max-layer-size", fmt.Sprint(l.MaxLayerSize), "--max-layer-files", fmt.Sprint(l.MaxLayerFiles),
	}
}

// byteSize is a size flag: a number of bytes or a size with a binary
// unit (512k, 4MiB, 1g).
type byteSize int64

func (b *byteSize) String() string { return units.BytesSize(float64(*b)) }

func (b *byteSize) Set(s string) error {
	v, err := units.RAMInBytes(s)
	if err != nil {
		return fmt.Errorf("want a size such as 4MiB: %w", err)
	}
	*b = byteSize(v)
	return nil
}

func (b *byteSize) Type() string { return "size" }

func newImageLoadCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "load PATH",
		Short: "load images from an OCI layout, an oci-archive or a docker save tar",
		Long: `load stores the images of PATH: an OCI image layout directory, an oci-archive
or a docker save tar. Every image must be named (RepoTags of docker save, or
the annotations io.containerd.image.name or org.opencontainers.image.ref.name
of an OCI layout). Layers already in the store are not unpacked again.`,
		Example: `  # A docker save tar
  docker save busybox:1.36 -o busybox.tar && podsec image load busybox.tar

  # An OCI layout directory written by skopeo
  skopeo copy docker://busybox:1.36 oci:busybox-oci:docker.io/library/busybox:1.36
  podsec image load busybox-oci`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openImageStore(cmd, g)
			if err != nil {
				return err
			}
			imgs, err := s.Load(args[0], cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			for _, img := range imgs {
				fmt.Fprintf(cmd.OutOrStdout(), "Loaded image: %s\n", img.Ref)
			}
			return nil
		},
	}
	addImageLimitFlags(cmd, g)
	return cmd
}

func newImagePullCommand(g *globals) *cobra.Command {
	var opts image.PullOptions
	cmd := &cobra.Command{
		Use:   "pull REF",
		Short: "pull an image from its registry",
		Long: `pull fetches an image from its registry into the store, with a progress bar
on standard error when it is a terminal and plain lines otherwise. Credentials
come from the docker config (~/.docker/config.json). Plain HTTP is refused
unless --insecure is given.`,
		Example: `  # From Docker Hub
  podsec image pull busybox:1.36

  # From a registry without TLS on this machine
  podsec image pull --insecure 127.0.0.1:5000/busybox:latest`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openImageStore(cmd, g)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			opts.Progress = cmd.ErrOrStderr()
			img, err := s.Pull(ctx, args[0], opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Pulled image: %s\nDigest: %s\n", img.Ref, img.Digest)
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.Insecure, "insecure", false, "allow plain http to the registry")
	addImageLimitFlags(cmd, g)
	cmd.Flags().StringVar(&opts.Platform, "platform", "", "platform of a multi-platform image, os/arch[/variant] (default linux and this machine's architecture)")
	return cmd
}

func newImageListCommand(g *globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "list the images of the store",
		Example: `  # A table of references
  podsec image ls

  # With digests and layer counts, or as JSON
  podsec image ls -o wide
  podsec image ls -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "wide" && output != "json" {
				return fmt.Errorf("unknown output format %q: want wide or json", output)
			}
			s, err := openImageStore(cmd, g)
			if err != nil {
				return err
			}
			imgs, err := s.List()
			if err != nil {
				return err
			}
			if output == "json" {
				return printImagesJSON(cmd.OutOrStdout(), imgs)
			}
			return printImageTable(cmd.OutOrStdout(), imgs, output == "wide", time.Now())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: wide or json")
	return cmd
}

func printImageTable(out io.Writer, imgs []*image.Image, wide bool, now time.Time) error {
	tw := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
	if wide {
		fmt.Fprintln(tw, "REFERENCE\tIMAGE ID\tDIGEST\tSIZE\tCREATED\tLAYERS")
	} else {
		fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tSIZE\tCREATED")
	}
	for _, img := range imgs {
		id := shortImageID(img.ID)
		size, created := units.HumanSize(float64(img.Size)), imageAge(img.Created, now)
		if wide {
			digest := img.Digest
			if digest == "" {
				digest = "<none>"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", img.Ref, id, digest, size, created, len(img.Layers))
			continue
		}
		repo, tag := splitImageRef(img.Ref)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", repo, tag, id, size, created)
	}
	return tw.Flush()
}

// splitImageRef splits a normalized reference into repository and tag; a
// digest reference has the tag <none>, as docker shows it.
func splitImageRef(ref string) (repo, tag string) {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		return ref[:i], "<none>"
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i+1:]
	}
	return ref, "<none>"
}

func shortImageID(id string) string {
	h := strings.TrimPrefix(id, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

func imageAge(t, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return units.HumanDuration(now.Sub(t)) + " ago"
}

// imageJSON is one image of `image ls -o json`.
type imageJSON struct {
	Ref     string      `json:"ref"`
	ID      string      `json:"id"`
	Digest  string      `json:"digest,omitempty"`
	Size    int64       `json:"size"`
	Created *time.Time  `json:"created,omitempty"`
	Config  interface{} `json:"config"`
	Layers  []string    `json:"layers"`
}

func printImagesJSON(out io.Writer, imgs []*image.Image) error {
	list := make([]imageJSON, 0, len(imgs))
	for _, img := range imgs {
		j := imageJSON{Ref: img.Ref, ID: img.ID, Digest: img.Digest, Size: img.Size, Config: img.Config, Layers: img.Layers}
		if !img.Created.IsZero() {
			c := img.Created.UTC()
			j.Created = &c
		}
		list = append(list, j)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]interface{}{"images": list})
}

func newImageRemoveCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "rm REF...",
		Aliases: []string{"remove", "rmi"},
		Short:   "remove image references and the layers no image uses any more",
		Long: `rm removes each reference (an image ID or a prefix of 12 hex digits or more
removes every reference of that image), then deletes the blobs and unpacked
layers that no remaining image uses. Removing an image that a running
container uses is not checked here.`,
		Example: `  # Remove one image
  podsec image rm busybox:1.36

  # Remove by image ID
  podsec image rm 3f57d9401f8d`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openImageStore(cmd, g)
			if err != nil {
				return err
			}
			var errs []error
			for _, ref := range args {
				if err := s.Remove(ref); err != nil {
					errs = append(errs, fmt.Errorf("removing %s: %w", ref, err))
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted: %s\n", ref)
			}
			return errors.Join(errs...)
		},
	}
}
