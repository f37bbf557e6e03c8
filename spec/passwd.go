package spec

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// passwdEntry is a line of /etc/passwd that podsec needs.
type passwdEntry struct {
	name     string
	uid, gid int64
}

// groupEntry is a line of /etc/group.
type groupEntry struct {
	name    string
	gid     int64
	members []string
}

// maxID is the largest user or group ID a pod may use.
const maxID = 2147483647

func (u *UserDB) users() []passwdEntry {
	if u == nil {
		return nil
	}
	var out []passwdEntry
	eachLine(u.Passwd, func(f []string) {
		if len(f) < 4 {
			return
		}
		uid, err1 := parseID(f[2])
		gid, err2 := parseID(f[3])
		if err1 == nil && err2 == nil {
			out = append(out, passwdEntry{name: f[0], uid: uid, gid: gid})
		}
	})
	return out
}

func (u *UserDB) groups() []groupEntry {
	if u == nil {
		return nil
	}
	var out []groupEntry
	eachLine(u.Group, func(f []string) {
		if len(f) < 3 {
			return
		}
		gid, err := parseID(f[2])
		if err != nil {
			return
		}
		g := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			g.members = strings.Split(f[3], ",")
		}
		out = append(out, g)
	})
	return out
}

// eachLine calls fn with the colon-separated fields of every line that is
// not blank or a comment.
func eachLine(b []byte, fn func([]string)) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fn(strings.Split(line, ":"))
	}
}

func parseID(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > maxID {
		return 0, fmt.Errorf("%q is not an ID between 0 and %d", s, maxID)
	}
	return v, nil
}

// resolveUser resolves the user part of a USER string the way runc and
// containerd do: "" is root; a number is that uid, with the primary group
// of its passwd entry if there is one (0 otherwise); a name must be in the
// passwd file. It returns the uid, the primary gid and the user's name
// ("" when the uid has no entry).
func (u *UserDB) resolveUser(s string) (uid, gid int64, name string, err error) {
	users := u.users()
	if s == "" {
		s = "0"
	}
	if n, perr := strconv.ParseInt(s, 10, 64); perr == nil {
		if n < 0 || n > maxID {
			return 0, 0, "", fmt.Errorf("user %s is out of range 0..%d", s, maxID)
		}
		for _, e := range users {
			if e.uid == n {
				return n, e.gid, e.name, nil
			}
		}
		return n, 0, "", nil
	}
	for _, e := range users {
		if e.name == s {
			return e.uid, e.gid, e.name, nil
		}
	}
	return 0, 0, "", fmt.Errorf("unable to find user %s: no matching entries in passwd file", s)
}

// resolveGroup resolves the group part of a USER string: a number is that
// gid, a name must be in the group file.
func (u *UserDB) resolveGroup(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > maxID {
			return 0, fmt.Errorf("group %s is out of range 0..%d", s, maxID)
		}
		return n, nil
	}
	for _, g := range u.groups() {
		if g.name == s {
			return g.gid, nil
		}
	}
	return 0, fmt.Errorf("unable to find group %s: no matching entries in group file", s)
}

// memberOf lists the gids of the groups that name the user as a member.
func (u *UserDB) memberOf(name string) []int64 {
	if name == "" {
		return nil
	}
	var out []int64
	for _, g := range u.groups() {
		if hasString(g.members, name) {
			out = append(out, g.gid)
		}
	}
	return out
}
