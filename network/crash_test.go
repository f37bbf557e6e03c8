package network

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestTeardownAfterKilledTeardown: a Teardown killed right after it
// marked the record pending, before the tables were refilled without the
// pod, leaves a pending record and the pod's hostPort DNAT and guard
// entries in the tables. The next Teardown (podsec stop, delete, or a
// restarted podsec) finishes it, and takes the pod out of the tables as
// well. Before, a pending record was taken to be a Setup's that never
// reached the tables: the DNAT stayed, to an address handed out again, and
// so did the guard's entries for the pod's veth name. Root B's pod keeps
// its own rules throughout.
func TestTeardownAfterKilledTeardown(t *testing.T) {
	e := newEnv(t, BackendInProcess)
	ctx := context.Background()
	port := freePort(t, "TCP")
	for _, last := range []bool{false, true} {
		t.Run(fmt.Sprintf("last pod %v", last), func(t *testing.T) {
			if !last {
				if _, err := e.m.Setup(ctx, ref("stays"), e.newNetNS(), nil); err != nil {
					t.Fatalf("Setup(stays): %v", err)
				}
				defer func() {
					if err := e.m.Teardown(ctx, ref("stays")); err != nil {
						t.Errorf("Teardown(stays): %v", err)
					}
				}()
			}
			att, err := e.m.Setup(ctx, ref("a"), e.newNetNS(), []PortMapping{{HostPort: port, ContainerPort: 8080, Protocol: "TCP"}})
			if err != nil {
				t.Fatalf("Setup(a): %v", err)
			}
			// What the killed Teardown left: the record marked pending,
			// the tables as they were.
			rec, err := e.m.readRecord(ref("a"))
			if err != nil || rec == nil {
				t.Fatalf("readRecord(a) = %v, %v", rec, err)
			}
			rec.Pending = true
			if err := e.m.writeRecord(rec); err != nil {
				t.Fatal(err)
			}
			if err := e.m.Teardown(ctx, ref("a")); err != nil {
				t.Fatalf("Teardown(a) after a killed Teardown: %v", err)
			}
			rules := ruleset(t)
			for _, s := range []string{fmt.Sprintf("dport %d ", port), att.IP.String(), att.HostIf} {
				if strings.Contains(rules, s) {
					t.Errorf("rules naming %q of pod a left after its Teardown:\n%s", s, grep(rules, s))
				}
			}
		})
	}
}
