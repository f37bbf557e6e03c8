package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// UserDB is the content of an image's /etc/passwd and /etc/group, read by
// the runtime without following symlinks out of the rootfs.
type UserDB struct {
	Passwd []byte
	Group  []byte
}

// withUser sets the process identity as the kubelet and containerd decide
// it: runAsUser (container over pod) or else the image's USER; the primary
// group from runAsGroup, or the user's passwd entry, or 0; and the
// additional groups.
func withUser(c *Container, s *specs.Spec) error {
	id, err := c.Identity()
	if err != nil {
		return err
	}
	s.Process.User = specs.User{UID: id.UID, GID: id.GID, AdditionalGids: id.AdditionalGids}
	return c.checkNonRoot(id)
}

// Identity is a container's resolved user.
type Identity struct {
	UID, GID       uint32
	AdditionalGids []uint32
	Username       string
	// FromImage is true when the uid came from the image's USER.
	FromImage bool
}

// Identity resolves the container's user and groups.
func (c *Container) Identity() (Identity, error) {
	sc, psc := c.sc(), c.psc()
	runAsUser := firstInt64(sc.RunAsUser, psc.RunAsUser)
	runAsGroup := firstInt64(sc.RunAsGroup, psc.RunAsGroup)
	var id Identity
	spec := ""
	if runAsUser != nil {
		spec = strconv.FormatInt(*runAsUser, 10)
	} else if c.Image != nil {
		spec = c.Image.User
		id.FromImage = true
	}
	if c.Users == nil && spec != "" {
		if u, g, _ := strings.Cut(spec, ":"); !isNumeric(u) || (g != "" && !isNumeric(g)) {
			return id, fmt.Errorf("resolving user %q of image %q: the image's /etc/passwd is not known", spec, c.C.Image)
		}
	}
	fail := func(err error) (Identity, error) {
		p := c.Path.Child("image")
		if runAsUser != nil {
			p = c.Path.Child("securityContext", "runAsUser")
		}
		return id, field.Invalid(p, spec, fmt.Sprintf("resolving user in image %q: %v", c.C.Image, err))
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	uid, gid, name, err := c.Users.resolveUser(userPart)
	if err != nil {
		return fail(err)
	}
	if hasGroup {
		if gid, err = c.Users.resolveGroup(groupPart); err != nil {
			return fail(err)
		}
	}
	id.UID, id.GID, id.Username = uint32(uid), uint32(gid), name
	if runAsGroup != nil {
		id.GID = uint32(*runAsGroup)
	}
	gids := []uint32{id.GID}
	policy := psc.SupplementalGroupsPolicy
	if policy == nil || *policy == corev1.SupplementalGroupsPolicyMerge {
		// The image's groups of the user: an explicit group in USER does
		// not drop them.
		for _, g := range c.Users.memberOf(name) {
			gids = append(gids, uint32(g))
		}
	}
	if psc.FSGroup != nil {
		gids = append(gids, uint32(*psc.FSGroup))
	}
	for _, g := range psc.SupplementalGroups {
		gids = append(gids, uint32(g))
	}
	sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
	for i, g := range gids {
		if i == 0 || g != gids[i-1] {
			id.AdditionalGids = append(id.AdditionalGids, g)
		}
	}
	return id, nil
}

// checkNonRoot refuses a container that must not run as root but would, as
// the kubelet's verifyRunAsNonRoot does, with its messages.
func (c *Container) checkNonRoot(id Identity) error {
	sc, psc := c.sc(), c.psc()
	nonRoot := sc.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = psc.RunAsNonRoot
	}
	if nonRoot == nil || !*nonRoot {
		return nil
	}
	p := c.Path.Child("securityContext", "runAsNonRoot")
	if !id.FromImage {
		if id.UID == 0 && firstInt64(sc.RunAsUser, psc.RunAsUser) != nil {
			return field.Forbidden(p, fmt.Sprintf("container's runAsUser breaks non-root policy (pod: %q, container: %s)", c.Pod.Name, c.C.Name))
		}
		// Either runAsUser is a non-root uid, or the image is not known
		// and there is nothing to check against (the caller warns).
		return nil
	}
	u, _, _ := strings.Cut(c.Image.User, ":")
	if u != "" && !isNumeric(u) {
		return field.Forbidden(p, fmt.Sprintf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: %q, container: %s)", u, c.Pod.Name, c.C.Name))
	}
	if id.UID == 0 {
		return field.Forbidden(p, fmt.Sprintf("container has runAsNonRoot and image will run as root (pod: %q, container: %s)", c.Pod.Name, c.C.Name))
	}
	return nil
}

func isNumeric(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

func firstInt64(vs ...*int64) *int64 {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}
