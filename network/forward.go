package network

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/nftables"
)

// The default conflist's firewall plugin lets pod traffic through an
// iptables FORWARD chain whose policy is DROP (as Docker leaves it). An
// accept in a table of podsec's own cannot overrule a drop in another
// base chain, so on such a node the in-process network adds the plugin's
// two rules for the whole subnet to FORWARD, once, with iptables:
//
//	-s SUBNET -j ACCEPT
//	-d SUBNET -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
//
// A marker file in the state directory remembers them; Close removes
// them with the last pod. A node whose FORWARD policy is ACCEPT (the
// default) gets nothing, and no fork.

func (m *Manager) forwardMarker() string {
	return filepath.Join(m.cfg.StateDir, "forward-"+m.cfg.Bridge)
}

func (m *Manager) forwardRules() [][]string {
	comment := []string{"-m", "comment", "--comment", "podsec: pods of " + m.cfg.Bridge}
	return [][]string{
		append([]string{"-s", m.cfg.Subnet}, append(comment, "-j", "ACCEPT")...),
		append([]string{"-d", m.cfg.Subnet, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"}, append(comment, "-j", "ACCEPT")...),
	}
}

// forwardDropped tells whether iptables' FORWARD chain (table ip filter,
// iptables-nft) drops by default.
func forwardDropped() (bool, error) {
	nc, err := nftables.New()
	if err != nil {
		return false, err
	}
	chains, err := nc.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return false, err
	}
	for _, c := range chains {
		if c.Table.Name == "filter" && c.Name == "FORWARD" && c.Policy != nil && *c.Policy == nftables.ChainPolicyDrop {
			return true, nil
		}
	}
	return false, nil
}

// openForward adds the FORWARD rules when the node's policy drops and they
// are not there yet.
func (m *Manager) openForward(ctx context.Context) error {
	if _, err := os.Stat(m.forwardMarker()); err == nil {
		return nil
	}
	dropped, err := forwardDropped()
	if err != nil {
		return fmt.Errorf("reading the node's FORWARD policy: %w", err)
	}
	if !dropped {
		return nil
	}
	if err := os.WriteFile(m.forwardMarker(), nil, 0o600); err != nil {
		return fmt.Errorf("recording the FORWARD rules: %w", err)
	}
	for _, r := range m.forwardRules() {
		if _, err := iptables(ctx, append([]string{"-C", "FORWARD"}, r...)...); err == nil {
			continue
		}
		if _, err := iptables(ctx, append([]string{"-I", "FORWARD"}, r...)...); err != nil {
			return fmt.Errorf("letting pod traffic through FORWARD: %w", err)
		}
	}
	return nil
}

// closeForward removes the FORWARD rules openForward added.
func (m *Manager) closeForward(ctx context.Context) error {
	if _, err := os.Stat(m.forwardMarker()); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var errs []error
	for _, r := range m.forwardRules() {
		for range 10 { // duplicates of two Setups at once
			if _, err := iptables(ctx, append([]string{"-C", "FORWARD"}, r...)...); err != nil {
				break
			}
			if _, err := iptables(ctx, append([]string{"-D", "FORWARD"}, r...)...); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	if len(errs) == 0 {
		if err := os.Remove(m.forwardMarker()); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
