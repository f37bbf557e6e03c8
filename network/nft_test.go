package network

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// nftTable is a table of nft's JSON ruleset, with what makes it non-empty.
type nftTable struct {
	family, name string
	busy         bool // rules, chains of its own, or a policy other than accept
}

// nftTables lists the node's nft tables. iptables-nft creates the ip nat,
// ip filter and ip6 nat tables when the plugins first run, and nothing in
// iptables removes them.
func nftTables(tb testing.TB) map[string]*nftTable {
	tb.Helper()
	out, err := exec.Command("nft", "-j", "list", "ruleset").Output()
	if err != nil {
		tb.Fatalf("nft -j list ruleset: %v", err)
	}
	var rs struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(out, &rs); err != nil {
		tb.Fatalf("decoding nft's ruleset: %v", err)
	}
	tables := map[string]*nftTable{}
	get := func(family, name string) *nftTable {
		k := family + " " + name
		if tables[k] == nil {
			tables[k] = &nftTable{family: family, name: name}
		}
		return tables[k]
	}
	for _, obj := range rs.Nftables {
		var o struct {
			Family, Name, Table, Hook, Policy string
		}
		switch {
		case obj["table"] != nil:
			json.Unmarshal(obj["table"], &o)
			get(o.Family, o.Name)
		case obj["chain"] != nil:
			json.Unmarshal(obj["chain"], &o)
			if o.Hook == "" || o.Policy != "accept" {
				get(o.Family, o.Table).busy = true
			}
		case obj["rule"] != nil, obj["set"] != nil, obj["map"] != nil:
			json.Unmarshal(obj[firstKey(obj)], &o)
			get(o.Family, o.Table).busy = true
		}
	}
	return tables
}

func firstKey(m map[string]json.RawMessage) string {
	for k := range m {
		return k
	}
	return ""
}

// removeNewEmptyTables deletes the nft tables that did not exist before
// the test and hold nothing now, so that a test run leaves the node's
// ruleset as it found it.
func removeNewEmptyTables(tb testing.TB, before map[string]*nftTable) {
	tb.Helper()
	if os.Getenv("PODSEC_TEST_KEEP_TABLES") != "" {
		return
	}
	for k, t := range nftTables(tb) {
		if before[k] != nil || t.busy {
			continue
		}
		out, err := exec.Command("nft", "delete", "table", t.family, t.name).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "No such file or directory") { // a parallel run's cleanup won
			tb.Errorf("nft delete table %s: %v: %s", k, err, strings.TrimSpace(string(out)))
		}
	}
}
