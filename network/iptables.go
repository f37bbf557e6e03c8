package network

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"time"
)

// iptablesTimeout bounds every iptables command.
const iptablesTimeout = 10 * time.Second

func iptables(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, iptablesTimeout)
	defer cancel()
	// -w: wait for the xtables lock rather than fail when a plugin holds it.
	cmd := exec.CommandContext(ctx, "iptables", append([]string{"-w", "5"}, args...)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("iptables %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.String(), nil
}

// iptablesRestore applies lines ("-I FORWARD 1 ...", "-D FORWARD ...") to
// the filter table in one iptables-restore --noflush: one fork, one
// transaction. No lines, no fork.
func iptablesRestore(ctx context.Context, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, iptablesTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "iptables-restore", "-w", "5", "--noflush")
	cmd.Stdin = strings.NewReader("*filter\n" + strings.Join(lines, "\n") + "\nCOMMIT\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("iptables-restore (%s): %w: %s", strings.Join(lines, "; "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// rule is one "-A CHAIN ..." line of iptables -S, split like a shell does.
type rule struct {
	chain string
	args  []string
	line  string
}

// listRules gives the rules of a table (iptables -S), and the chains it has.
func listRules(ctx context.Context, table string) (rules []rule, chains map[string]bool, err error) {
	out, err := iptables(ctx, "-t", table, "-S")
	if err != nil {
		return nil, nil, err
	}
	chains = map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		f := splitQuoted(line)
		switch {
		case len(f) >= 2 && (f[0] == "-N" || f[0] == "-P"):
			chains[f[1]] = true
		case len(f) >= 2 && f[0] == "-A":
			rules = append(rules, rule{chain: f[1], args: f[2:], line: line})
		}
	}
	return rules, chains, nil
}

// splitQuoted splits a line of iptables -S output: words, or double-quoted
// strings in which \" and \\ stand for themselves.
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			quoted = !quoted
			in = true
		case !quoted && (c == ' ' || c == '\t'):
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// comment is the rule's --comment, or "".
func (r rule) comment() string {
	for i := 0; i+1 < len(r.args); i++ {
		if r.args[i] == "--comment" {
			return r.args[i+1]
		}
	}
	return ""
}

func (r rule) target() string {
	for i := 0; i+1 < len(r.args); i++ {
		if r.args[i] == "-j" || r.args[i] == "-g" {
			return r.args[i+1]
		}
	}
	return ""
}

// sharedChains are the chains every CNI attachment of the node uses; they
// are removed only by removeSharedChains.
var sharedChains = map[string]bool{
	"CNI-HOSTPORT-DNAT": true, "CNI-HOSTPORT-SETMARK": true, "CNI-HOSTPORT-MASQ": true,
	"CNI-HOSTPORT-SNAT": true, "CNI-FORWARD": true, "CNI-ADMIN": true,
}

// sweepContainer removes every iptables rule that names a CNI container ID
// (the comments "name: ... id: ..." of bridge's ipMasq and portmap), and the
// per-container chains they jump to, and the firewall plugin's rules for
// the pod's IP in CNI-FORWARD. DEL does all this when the pod's netns
// exists and ADD had succeeded; but without the netns the bridge plugin
// cannot know the pod's addresses and skips its masquerade rules, and
// after a failed ADD libcni has no result to give the firewall plugin. ip
// may be nil; the caller holds the node lock, so no other pod has it yet.
func sweepContainer(ctx context.Context, containerID string, ip net.IP) error {
	needle := fmt.Sprintf("id: %q", containerID)
	var errs []error
	for _, table := range []string{"nat", "filter"} {
		rules, _, err := listRules(ctx, table)
		if err != nil {
			return err
		}
		drop := map[string]bool{}
		for _, r := range rules {
			if !(strings.Contains(r.line, containerID) && strings.Contains(strings.Join(r.args, " "), needle)) &&
				!(r.chain == "CNI-FORWARD" && ipRule(r, ip)) {
				continue
			}
			if t := r.target(); strings.HasPrefix(t, "CNI-") && !sharedChains[t] {
				drop[t] = true
			}
			if drop[r.chain] {
				continue // flushed with its chain below
			}
			if _, err := iptables(ctx, append([]string{"-t", table, "-D", r.chain}, r.args...)...); err != nil {
				errs = append(errs, err)
			}
		}
		for c := range drop {
			if _, err := iptables(ctx, "-t", table, "-F", c); err != nil {
				errs = append(errs, err)
				continue
			}
			if _, err := iptables(ctx, "-t", table, "-X", c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// removeSharedChains removes CNI's node-wide chains when no attachment of
// any CNI user of the node uses them: portmap's CNI-HOSTPORT-* when
// CNI-HOSTPORT-DNAT is empty and no CNI-DN-* chain remains, and firewall's
// CNI-FORWARD and CNI-ADMIN when they hold nothing but CNI-FORWARD's jump
// to CNI-ADMIN. The caller holds the node lock exclusively.
func removeSharedChains(ctx context.Context) error {
	var errs []error
	for _, t := range []struct {
		table  string
		chains []string // removal order: referrers first
		idle   func(rules []rule, chains map[string]bool) bool
	}{
		{"nat", []string{"CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK"},
			func(rules []rule, chains map[string]bool) bool {
				for c := range chains {
					if strings.HasPrefix(c, "CNI-DN-") {
						return false
					}
				}
				for _, r := range rules {
					if r.chain == "CNI-HOSTPORT-DNAT" || r.chain == "CNI-HOSTPORT-SNAT" {
						return false
					}
				}
				return true
			}},
		{"filter", []string{"CNI-FORWARD", "CNI-ADMIN"},
			func(rules []rule, _ map[string]bool) bool {
				for _, r := range rules {
					if r.chain == "CNI-ADMIN" || (r.chain == "CNI-FORWARD" && r.target() != "CNI-ADMIN") {
						return false
					}
				}
				return true
			}},
	} {
		rules, chains, err := listRules(ctx, t.table)
		if err != nil {
			return err
		}
		if !t.idle(rules, chains) {
			continue
		}
		ours := map[string]bool{}
		for _, c := range t.chains {
			ours[c] = chains[c]
		}
		// Jumps into the chains from the built-in chains go first.
		for _, r := range rules {
			if ours[r.target()] && !ours[r.chain] {
				if _, err := iptables(ctx, append([]string{"-t", t.table, "-D", r.chain}, r.args...)...); err != nil {
					errs = append(errs, err)
				}
			}
		}
		for _, c := range t.chains {
			if ours[c] {
				if _, err := iptables(ctx, "-t", t.table, "-F", c); err != nil {
					errs = append(errs, err)
				}
			}
		}
		for _, c := range t.chains {
			if ours[c] {
				// EBUSY: a jump to it was added meanwhile (another
				// runtime's network, another podsec's FORWARD rules):
				// it is in use again, and stays.
				if _, err := iptables(ctx, "-t", t.table, "-X", c); err != nil && !strings.Contains(err.Error(), "resource busy") {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// ipRule reports whether a rule matches exactly the address ip as its
// source or destination, as the firewall plugin's per-pod rules do.
func ipRule(r rule, ip net.IP) bool {
	if ip == nil {
		return false
	}
	for i := 0; i+1 < len(r.args); i++ {
		if (r.args[i] == "-s" || r.args[i] == "-d") && r.args[i+1] == ip.String()+"/32" {
			return true
		}
	}
	return false
}
