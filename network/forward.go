package network

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/google/nftables/xt"
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
// Two state roots (--root) share the default conflist, hence the bridge
// and the subnet, and each adds its own block of these rules, marked with
// a comment naming the bridge and the root (a hash of the state
// directory's real path): a root's last pod takes its own block out and
// never another root's, whose pods the rules still let through. Any one
// block covers the whole subnet, so the order is what matters: each
// block's jumps go to the top of FORWARD and its accepts after the last
// jump of every block, so that no pod's traffic is accepted before it has
// been through CNI-ADMIN.
//
// A marker file in the state directory holds the comment of the root's
// block once it is added; the root's last pod's teardown (or Close) takes
// the block out and removes the marker. Setup and GC count the block in
// the kernel and add what is missing of it (a killed podsec, a reload of
// the node's firewall). They are read with one iptables
// -S and changed with one iptables-restore, under the node lock (node.go),
// so that the positions read are still right when the rules go in. A node
// whose FORWARD policy is ACCEPT (the default) and that has no CNI-ADMIN
// chain gets nothing, and no fork.
//
// Older podsec versions marked their rules with the bridge alone, and
// left an empty marker. Those rules may be another root's still, so they
// go only when the bridge goes: no pod of any root is then on it.

// cniAdminChain is the firewall plugin's chain for the administrator's
// rules.
const cniAdminChain = "CNI-ADMIN"

func (m *Manager) forwardMarker() string {
	return filepath.Join(m.cfg.StateDir, "forward-"+m.cfg.Bridge)
}

// forwardCommentPrefix starts the comment of every podsec FORWARD rule.
const forwardCommentPrefix = "podsec: pods of "

// legacyForwardComment marked the FORWARD rules of podsec versions that
// had one block per bridge, not per root.
func legacyForwardComment(bridge string) string { return forwardCommentPrefix + bridge }

// forwardComment marks the FORWARD rules of this state root's block.
func (m *Manager) forwardComment() string {
	sum := sha256.Sum256([]byte(m.stateDirReal()))
	return legacyForwardComment(m.cfg.Bridge) + ", root " + hex.EncodeToString(sum[:6])
}

// forwardRules are the rules of this root's block: the jumps to
// CNI-ADMIN (admin), then the accepts (accept).
func (m *Manager) forwardRules(admin, accept bool) (jumps, accepts [][]string) {
	comment := []string{"-m", "comment", "--comment", m.forwardComment()}
	if admin {
		jumps = [][]string{
			append([]string{"-s", m.cfg.Subnet}, append(comment, "-j", cniAdminChain)...),
			append([]string{"-d", m.cfg.Subnet}, append(comment, "-j", cniAdminChain)...)}
	}
	if accept {
		accepts = [][]string{
			append([]string{"-s", m.cfg.Subnet}, append(comment, "-j", "ACCEPT")...),
			append([]string{"-d", m.cfg.Subnet, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"}, append(comment, "-j", "ACCEPT")...)}
	}
	return jumps, accepts
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

// openForward adds this root's block when the node's policy drops or it
// has a CNI-ADMIN chain, and the marker does not say it is there. The
// caller holds the node lock.
//
// The marker alone does not say the rules are there: a podsec killed
// between writing it and adding them, an iptables-restore that failed
// with another pod of the root left, or a reload of the node's firewall
// (iptables -F FORWARD, a firewall script's iptables-restore) leaves a
// marker and no rules, and every later pod of the root then bypassed
// CNI-ADMIN. So the block is counted in the kernel (netlink, no fork) and
// added again when any of it is missing.
func (m *Manager) openForward(ctx context.Context) error {
	dropped, admin, err := forwardState()
	if err != nil {
		return fmt.Errorf("reading the node's FORWARD policy: %w", err)
	}
	if !dropped && !admin {
		return nil
	}
	comment := m.forwardComment()
	jumps, accepts := m.forwardRules(admin, dropped)
	if b, err := os.ReadFile(m.forwardMarker()); err == nil && string(b) == comment {
		if n, err := countForward(comment); err == nil && n >= len(jumps)+len(accepts) {
			return nil
		}
	}
	if err := os.WriteFile(m.forwardMarker(), []byte(comment), 0o600); err != nil {
		return fmt.Errorf("recording the FORWARD rules: %w", err)
	}
	have, err := forwardChain(ctx)
	if err != nil {
		return fmt.Errorf("letting pod traffic through FORWARD: %w", err)
	}
	if err := iptablesRestore(ctx, planForward(have, comment, jumps, accepts)); err != nil {
		return fmt.Errorf("letting pod traffic through FORWARD: %w", err)
	}
	return nil
}

// countForward counts the rules of iptables' FORWARD chain (table ip
// filter) that carry comment, which iptables-nft keeps in the rule's user
// data (or, from older versions, in an xt comment match).
func countForward(comment string) (int, error) {
	nc, err := nftables.New()
	if err != nil {
		return 0, err
	}
	t := &nftables.Table{Name: "filter", Family: nftables.TableFamilyIPv4}
	rules, err := nc.GetRules(t, &nftables.Chain{Name: "FORWARD", Table: t})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rules {
		if c, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok && c == comment {
			n++
			continue
		}
		for _, e := range r.Exprs {
			if mt, ok := e.(*expr.Match); ok && mt.Name == "comment" {
				if u, ok := mt.Info.(*xt.Unknown); ok && string(bytes.TrimRight(*u, "\x00")) == comment {
					n++
				}
			}
		}
	}
	return n, nil
}

// planForward gives the iptables-restore lines that add the rules of a
// block (comment) missing from FORWARD (have, in order): the accepts
// right after the last podsec jump to CNI-ADMIN, of any block, then the
// jumps at the top. Each is inserted at its place in reverse: the last
// inserted comes first.
func planForward(have []rule, comment string, jumps, accepts [][]string) []string {
	present := map[string]bool{}
	at := 1 // where the accepts go
	for i, r := range have {
		c := r.comment()
		if c == comment {
			present[ruleKey(r.args)] = true
		}
		if strings.HasPrefix(c, forwardCommentPrefix) && r.target() == cniAdminChain {
			at = i + 2
		}
	}
	var lines []string
	for _, b := range []struct {
		rules [][]string
		at    int
	}{{accepts, at}, {jumps, 1}} {
		for i := len(b.rules) - 1; i >= 0; i-- {
			if !present[ruleKey(b.rules[i])] {
				lines = append(lines, fmt.Sprintf("-I FORWARD %d %s", b.at, quoteArgs(b.rules[i])))
			}
		}
	}
	return lines
}

// forwardChain is FORWARD's rules, in order: one iptables -S instead of
// an iptables -C per rule (a fork each, 2-8 ms).
func forwardChain(ctx context.Context) ([]rule, error) {
	out, err := iptables(ctx, "-S", "FORWARD")
	if err != nil {
		return nil, err
	}
	var rules []rule
	for _, line := range strings.Split(out, "\n") {
		f := splitQuoted(line)
		if len(f) >= 2 && f[0] == "-A" && f[1] == "FORWARD" {
			rules = append(rules, rule{chain: f[1], args: f[2:], line: line})
		}
	}
	return rules, nil
}

// ourForwardRules are the rules of FORWARD that carry this root's
// comment.
func (m *Manager) ourForwardRules(ctx context.Context) ([]rule, error) {
	all, err := forwardChain(ctx)
	if err != nil {
		return nil, err
	}
	comment := m.forwardComment()
	var ours []rule
	for _, r := range all {
		if r.comment() == comment {
			ours = append(ours, r)
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

// closeForward takes out the block the marker names, with any
// duplicates two Setups at once made, and with bridgeGone (the bridge is
// gone or going, under the node lock: no pod of any root is on it) the
// rules of older podsec versions for the bridge too. The caller holds the
// node lock.
func (m *Manager) closeForward(ctx context.Context, bridgeGone bool) error {
	b, err := os.ReadFile(m.forwardMarker())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("reading the FORWARD rules' marker: %w", err)
	}
	// Twice: an older podsec sharing the bridge, without the node lock,
	// may delete a rule between the listing and the deletion, which then
	// fails as a whole.
	for try := 0; ; try++ {
		have, err := forwardChain(ctx)
		if err != nil {
			return err
		}
		var lines []string
		for _, r := range have {
			c := r.comment()
			if len(b) > 0 && c == string(b) || bridgeGone && c == legacyForwardComment(m.cfg.Bridge) {
				lines = append(lines, "-D FORWARD "+quoteArgs(r.args))
			}
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
