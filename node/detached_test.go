package node

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/podsec/podsec/supervisor"
)

// TestSupervisorOptions: a detached pod's supervisor gets the node's
// settings, the network as "cni" with its directories and table, or
// "none" without Config.CNI.
func TestSupervisorOptions(t *testing.T) {
	base := Config{Root: t.TempDir(), SeccompProfileRoot: "/p", SeccompDefault: "Unconfined", PidsLimit: 99,
		HousekeepingInterval: time.Minute, RestartBackoff: time.Second, UserNSBase: 1 << 20}
	cni := base
	cni.CNI = &CNI{ConfDir: "/c", BinDirs: []string{"/b"}, NetpolTable: "t"}
	common := supervisor.Options{BackoffBase: time.Second, SeccompProfileRoot: "/p", SeccompDefault: "Unconfined",
		PodPidsLimit: 99, HousekeepingInterval: time.Minute, UserNSBase: 1 << 20}
	withCNI := common
	withCNI.Network, withCNI.CNIConfDir, withCNI.CNIBinDirs, withCNI.NetpolTable = "cni", "/c", []string{"/b"}, "t"
	withoutCNI := common
	withoutCNI.Network = "none"
	for _, tc := range []struct {
		name string
		cfg  Config
		want supervisor.Options
	}{{"cni", cni, withCNI}, {"none", base, withoutCNI}} {
		n, err := Open(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := n.SupervisorOptions(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: SupervisorOptions() = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestStopUnknownPod: stopping or deleting a pod the node has no record
// of is the store's ErrNotFound, and nothing is reported deleted.
func TestStopUnknownPod(t *testing.T) {
	n, err := Open(Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.StopPod("default", "nope", time.Second); !errors.Is(err, supervisor.ErrNotFound) {
		t.Errorf("StopPod(nope) = %v, want ErrNotFound", err)
	}
	var deleted []string
	err = n.DeletePods("", []string{"nope"}, false, -1, func(name string) { deleted = append(deleted, name) })
	if !errors.Is(err, supervisor.ErrNotFound) || len(deleted) != 0 {
		t.Errorf("DeletePods(nope) = %v, deleted %v; want ErrNotFound, none", err, deleted)
	}
}
