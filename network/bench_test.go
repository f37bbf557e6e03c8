package network

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkSetupTeardown measures the network of pods: Setup then Teardown
// of one pod with a hostPort, and of 20 pods set up in a row then torn down.
func BenchmarkSetupTeardown(b *testing.B) {
	for _, be := range backends {
		for _, n := range []int{1, 20} {
			b.Run(fmt.Sprintf("%s/pods=%d", be, n), func(b *testing.B) {
				e := newEnv(b, be)
				ctx := context.Background()
				nss := make([]string, n)
				for i := range nss {
					nss[i] = e.newNetNS()
				}
				port := freePort(b, "TCP")
				b.ResetTimer()
				for b.Loop() {
					for i, ns := range nss {
						var ports []PortMapping
						if i == 0 {
							ports = []PortMapping{{HostPort: port, ContainerPort: 80}}
						}
						if _, err := e.m.Setup(ctx, ref(fmt.Sprintf("bench-%d", i)), ns, ports); err != nil {
							b.Fatalf("Setup: %v", err)
						}
					}
					for i := range nss {
						if err := e.m.Teardown(ctx, ref(fmt.Sprintf("bench-%d", i))); err != nil {
							b.Fatalf("Teardown: %v", err)
						}
					}
				}
			})
		}
	}
}
