package pipeline_test

import (
	"strings"
	"testing"

	"github.com/podsec/podsec/pipeline"
	"github.com/podsec/podsec/spec"
)

// TestEtcFiles checks the pod's /etc files the plan makes: the pod's name
// on its IP (a loopback address of its own without one), the node's hosts
// file and name with hostNetwork, hostAliases appended, and resolv.conf
// from the node's.
func TestEtcFiles(t *testing.T) {
	const node = "nameserver 192.0.2.53\nsearch example.org\n"
	tests := []struct {
		name, podSpec, ip string
		wantHosts         []string
		wantHostname      string
	}{
		{name: "pod network", ip: "10.88.0.5", podSpec: "hostAliases: [{ip: 192.0.2.1, hostnames: [a, b]}]",
			wantHosts: []string{"127.0.0.1\tlocalhost\n", "10.88.0.5\tweb\n", "192.0.2.1\ta\n192.0.2.1\tb\n"}, wantHostname: "web\n"},
		{name: "no pod network", podSpec: "hostname: h1",
			wantHosts: []string{"127.0.1.1\th1\n"}, wantHostname: "h1\n"},
		{name: "hostNetwork", ip: "10.88.0.5", podSpec: "hostNetwork: true\n  hostAliases: [{ip: 192.0.2.1, hostnames: [a]}]",
			wantHosts: []string{"NODE HOSTS\n192.0.2.1\ta\n"}, wantHostname: "node-1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := spec.DecodeObjects(strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  " + tc.podSpec +
				"\n  containers: [{name: main, image: busybox}]\n"))
			if err != nil {
				t.Fatal(err)
			}
			plan, err := pipeline.Build(o.Pods[0], &pipeline.Node{Root: "/r"}, pipeline.Admission{}, pipeline.Objects{})
			if err != nil {
				t.Fatal(err)
			}
			ef := plan.EtcFiles(tc.ip, pipeline.NodeFiles{Hostname: "node-1", Hosts: []byte("NODE HOSTS\n"), ResolvConf: []byte(node)})
			for _, w := range tc.wantHosts {
				if !strings.Contains(string(ef.Hosts), w) {
					t.Errorf("EtcFiles(%q).Hosts = %q, want it to hold %q", tc.ip, ef.Hosts, w)
				}
			}
			if string(ef.Hostname) != tc.wantHostname {
				t.Errorf("EtcFiles(%q).Hostname = %q, want %q", tc.ip, ef.Hostname, tc.wantHostname)
			}
			if !strings.Contains(string(ef.ResolvConf), "nameserver 192.0.2.53") {
				t.Errorf("EtcFiles(%q).ResolvConf = %q, want the node's nameserver", tc.ip, ef.ResolvConf)
			}
		})
	}
}
