package psp

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// splitCheck is how the seccomp and AppArmor strategies judged a profile
// when they split the allowed list into a map on every call; the strategies
// now read the list in place and must answer the same.
func splitCheck(path *field.Path, list string, listed bool, profile string, seccomp bool) field.ErrorList {
	allowed := map[string]bool{}
	allowAny := false
	if listed {
		for _, name := range strings.Split(list, ",") {
			switch {
			case seccomp && name == AllowAllSeccompProfiles:
				allowAny = true
				continue
			case seccomp && (name == profileDockerDefault || name == profileRuntimeDefault):
				allowed[profileDockerDefault], allowed[profileRuntimeDefault] = true, true
			}
			allowed[name] = true
		}
	}
	if !seccomp {
		switch {
		case !listed:
		case profile == "":
			if len(allowed) > 0 {
				return field.ErrorList{field.Forbidden(path, "AppArmor profile must be set")}
			}
		case !allowed[profile]:
			return field.ErrorList{field.Forbidden(path, fmt.Sprintf("%s is not an allowed profile. Allowed values: %q", profile, list))}
		}
		return nil
	}
	if !allowAny && len(allowed) == 0 && profile != "" {
		return field.ErrorList{field.Forbidden(path, "seccomp may not be set")}
	}
	if allowAny || (len(allowed) == 0 && profile == "") || allowed[profile] {
		return nil
	}
	return field.ErrorList{field.Forbidden(path, fmt.Sprintf("%s is not an allowed seccomp profile. Valid values are %v", profile, list))}
}

func TestStrategyListsReadInPlace(t *testing.T) {
	lists := []string{"", "*", "*,*", "runtime/default", "docker/default", "runtime/default,localhost/x", "*,unconfined", "a,,b", "localhost/x,", ",", "unconfined,docker/default"}
	profiles := []string{"", "runtime/default", "docker/default", "unconfined", "localhost/x", "localhost/y", "a", "*"}
	for _, seccomp := range []bool{true, false} {
		for i := -1; i < len(lists); i++ {
			list, listed := "", i >= 0
			if listed {
				list = lists[i]
			}
			p := permissive()
			p.Annotations = map[string]string{}
			key := AppArmorAllowedProfilesAnnotation
			if seccomp {
				key = SeccompAllowedProfilesAnnotation
			}
			if listed {
				p.Annotations[key] = list
			}
			for _, profile := range profiles {
				var got field.ErrorList
				path := annotationsPath.Key("k")
				if seccomp {
					got = newSeccompStrategy(p).check(func() *field.Path { return path }, profile)
				} else {
					pod := &corev1.Pod{ObjectMeta: metaNamed("p")}
					pod.Annotations = map[string]string{corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + "c": profile}
					got = validateAppArmor(p, pod, &corev1.Container{Name: "c"}, nil)
					path = annotationsPath.Key(corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + "c")
				}
				want := splitCheck(path, list, listed, profile, seccomp)
				if !slices.Equal(errorStrings(got), errorStrings(want)) {
					t.Errorf("seccomp %v, list %q (listed %v), profile %q: got %q, want %q", seccomp, list, listed, profile, errorStrings(got), errorStrings(want))
				}
			}
		}
	}
}

func TestSameCapIsCapKey(t *testing.T) {
	names := []corev1.Capability{"chown", "CHOWN", "CAP_CHOWN", "cap_chown", " Chown ", "ALL", "all", "CAP_ALL", "cap_cap_chown",
		"CAP_", "", " ", "K", "\u212a", "ſys_admin", "SYS_ADMIN", "sys_admin\u00a0", "\u00a0NET_RAW", "net_raw", "cap_net_raw"}
	for _, a := range names {
		for _, b := range names {
			if got, want := sameCap(a, b), capKey(a) == capKey(b); got != want {
				t.Errorf("sameCap(%q, %q) = %v, want %v (keys %q, %q)", a, b, got, want, capKey(a), capKey(b))
			}
		}
	}
}
