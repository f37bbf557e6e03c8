// Command embed is a program built against podsec as a library: it opens
// a node on a state root and runs the pod of a manifest in the
// foreground, as "podsec run --network none" does (validation,
// admission with the objects stored under the root, the node's checks),
// and prints the containers' output and how the pod ended.
//
//	go build -tags seccomp ./examples/embed
//	./embed --root /var/lib/podsec -f pod.yaml
//
// Images come from the root's image store (<root>/images); those of the
// "localhost/" registry are never pulled.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/podsec/podsec/node"
	"github.com/podsec/podsec/spec"
)

// init lets libcontainer and the pod sandbox re-execute this program.
func init() { node.Init() }

func main() {
	root := flag.String("root", "/var/lib/podsec", "podsec state root")
	file := flag.String("f", "", "pod manifest (YAML or JSON) with its ConfigMaps and Secrets")
	flag.Parse()
	code, err := run(*root, *file)
	if err != nil {
		fmt.Fprintf(os.Stderr, "embed: %v\n", err)
	}
	os.Exit(code)
}

func run(root, file string) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		return 1, err
	}
	defer f.Close()
	objs, err := spec.DecodeObjects(f)
	if err != nil {
		return 1, err
	}
	if len(objs.Pods) != 1 {
		return 1, fmt.Errorf("%s: want one pod, found %d", file, len(objs.Pods))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.Open(node.Config{Root: root, Output: os.Stdout, Events: os.Stderr, Warnings: os.Stderr})
	if err != nil {
		return 1, err
	}
	defer n.Close(ctx)
	res, err := n.Run(ctx, objs.Pods[0], node.RunOptions{ConfigMaps: objs.ConfigMaps, Secrets: objs.Secrets})
	if err != nil {
		return max(res.ExitCode, 1), err
	}
	for _, c := range res.Containers {
		fmt.Printf("container %s exited with code %d\n", c.Name, c.ExitCode)
	}
	return res.ExitCode, nil
}
