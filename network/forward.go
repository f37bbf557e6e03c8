package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

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
// The plugin sends pod traffic through the chain CNI-ADMIN before its
// accepts, where the node's administrator keeps rules of their own (a
// drop of the cloud's metadata address, of a node database): where that
// chain exists, the in-process network jumps to it first, for the
// subnet's traffic, on any node:
//
//	-s SUBNET -j CNI-ADMIN
//	-d SUBNET -j CNI-ADMIN
//
// Without those jumps the administrator's rules held through the CNI
// plugins and silently not in-process (TestRedteamNetworkCNIAdmin).
//
// A marker file in the state directory remembers them; the last pod's
// teardown (or Close) removes them. They are read with one iptables -S and
// changed with one iptables-restore. A node whose FORWARD policy is ACCEPT
// (the default) and that has no CNI-ADMIN chain gets nothing, and no fork.

// cniAdminChain is the firewall plugin's chain for the administrator's
// rules.
const cniAdminChain = "CNI-ADMIN"

func (m *Manager) forwardMarker() string {
	return filepath.Join(m.cfg.StateDir, "forward-"+m.cfg.Bridge)
}

// forwardComment marks the FORWARD rules of the in-process network.
func (m *Manager) forwardComment() string { return "podsec: pods of " + m.cfg.Bridge }

// forwardRules are the FORWARD rules of the in-process network, in the
// order they must be in: the jumps to CNI-ADMIN (admin), then the accepts
// (accept).
func (m *Manager) forwardRules(admin, accept bool) [][]string {
	comment := []string{"-m", "comment", "--comment", m.forwardComment()}
	var rules [][]string
	if admin {
		rules = append(rules,
			append([]string{"-s", m.cfg.Subnet}, append(comment, "-j", cniAdminChain)...),
			append([]string{"-d", m.cfg.Subnet}, append(comment, "-j", cniAdminChain)...))
	}
	if accept {
		rules = append(rules,
			append([]string{"-s", m.cfg.Subnet}, append(comment, "-j", "ACCEPT")...),
			append([]string{"-d", m.cfg.Subnet, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"}, append(comment, "-j", "ACCEPT")...))
	}
	return rules
}

// forwardState tells whether iptables' FORWARD chain (table ip filter,
// iptables-nft) drops by default and whether the CNI-ADMIN chain exists.
func forwardState() (dropped, admin bool, err error) {
	nc, err := nftables.New()
	if err != nil {
		return false, false, err
	}
	chains, err := nc.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return false, false, err
	}
	for _, c := range chains {
		if c.Table.Name != "filter" {
			continue
		}
		dropped = dropped || c.Name == "FORWARD" && c.Policy != nil && *c.Policy == nftables.ChainPolicyDrop
		admin = admin || c.Name == cniAdminChain
	}
	return dropped, admin, nil
}

// openForward adds the FORWARD rules when the node's policy drops or it
// has a CNI-ADMIN chain, and they are not there yet.
func (m *Manager) openForward(ctx context.Context) error {
	if _, err := os.Stat(m.forwardMarker()); err == nil {
		return nil
	}
	dropped, admin, err := forwardState()
	if err != nil {
		return fmt.Errorf("reading the node's FORWARD policy: %w", err)
	}
	if !dropped && !admin {
		return nil
	}
	if err := os.WriteFile(m.forwardMarker(), nil, 0o600); err != nil {
		return fmt.Errorf("recording the FORWARD rules: %w", err)
	}
	have, err := m.ourForwardRules(ctx)
	if err != nil {
		return fmt.Errorf("letting pod traffic through FORWARD: %w", err)
	}
	present := map[string]bool{}
	for _, r := range have {
		present[ruleKey(r.args)] = true
	}
	// Each is inserted at the top: the last inserted comes first.
	rules := m.forwardRules(admin, dropped)
	var lines []string
	for i := len(rules) - 1; i >= 0; i-- {
		if !present[ruleKey(rules[i])] {
			lines = append(lines, "-I FORWARD 1 "+quoteArgs(rules[i]))
		}
	}
	if err := iptablesRestore(ctx, lines); err != nil {
		return fmt.Errorf("letting pod traffic through FORWARD: %w", err)
	}
	return nil
}

// ourForwardRules are the rules of FORWARD that carry the in-process
// network's comment: one iptables -S instead of an iptables -C per rule
// (a fork each, 2-8 ms).
func (m *Manager) ourForwardRules(ctx context.Context) ([]rule, error) {
	out, err := iptables(ctx, "-S", "FORWARD")
	if err != nil {
		return nil, err
	}
	comment := m.forwardComment()
	var ours []rule
	for _, line := range strings.Split(out, "\n") {
		f := splitQuoted(line)
		if len(f) < 2 || f[0] != "-A" || f[1] != "FORWARD" {
			continue
		}
		for i := 2; i+1 < len(f); i++ {
			if f[i] == "--comment" && f[i+1] == comment {
				ours = append(ours, rule{chain: f[1], args: f[2:], line: line})
				break
			}
		}
	}
	return ours, nil
}

// ruleKey is a rule's arguments as one string, its addresses in CIDR's
// canonical form as iptables -S prints them.
func ruleKey(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if _, n, err := net.ParseCIDR(a); err == nil {
			out[i] = n.String()
		}
	}
	return strings.Join(out, "\x00")
}

// quoteArgs writes arguments as an iptables-restore line reads them.
func quoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if strings.ContainsAny(a, " \t\"\\") {
			out[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(a) + `"`
		}
	}
	return strings.Join(out, " ")
}

// closeForward removes the FORWARD rules openForward added, with any
// duplicates two Setups at once made.
func (m *Manager) closeForward(ctx context.Context) error {
	if _, err := os.Stat(m.forwardMarker()); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	// Twice: another podsec sharing the bridge may delete one of them
	// between the listing and the deletion, which then fails as a whole.
	for try := 0; ; try++ {
		have, err := m.ourForwardRules(ctx)
		if err != nil {
			return err
		}
		var lines []string
		for _, r := range have {
			lines = append(lines, "-D FORWARD "+quoteArgs(r.args))
		}
		if err = iptablesRestore(ctx, lines); err == nil {
			break
		} else if try == 1 {
			return err
		}
	}
	if err := os.Remove(m.forwardMarker()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
