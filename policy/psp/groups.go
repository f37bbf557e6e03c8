package psp

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The group strategies (pkg/security/podsecuritypolicy/group) shared by
// runAsGroup, fsGroup and supplementalGroups. Their rules are spelled the
// same in the three option types: MustRunAs, MayRunAs and RunAsAny.
const (
	groupMustRunAs = "MustRunAs"
	groupMayRunAs  = "MayRunAs"
	groupRunAsAny  = "RunAsAny"
)

// buildGroup is the strategy factory's check; kind names the field in the
// message, as "FSGroup" in "Unrecognized FSGroup strategy type X".
func buildGroup(kind, rule string, ranges []IDRange) error {
	switch rule {
	case groupMustRunAs, groupMayRunAs:
		if len(ranges) == 0 {
			return errors.New("ranges must be supplied for " + rule)
		}
	case groupRunAsAny:
	default:
		return fmt.Errorf("Unrecognized %s strategy type %s", kind, rule)
	}
	return nil
}

// generateGroup is the single group MustRunAs gives a pod that sets none:
// the minimum of the first range. The other rules give none.
func generateGroup(rule string, ranges []IDRange) *int64 {
	if rule != groupMustRunAs {
		return nil
	}
	return ptrTo(ranges[0].Min)
}

// validateGroups checks the groups a pod sets against the strategy.
func validateGroups(path *field.Path, rule string, ranges []IDRange, groups []int64) field.ErrorList {
	var allErrs field.ErrorList
	switch rule {
	case groupMustRunAs:
		if len(groups) == 0 {
			allErrs = append(allErrs, field.Invalid(path, groups, "unable to validate empty groups against required ranges"))
		}
		allErrs = append(allErrs, validateGroupsInRanges(path, ranges, groups)...)
	case groupMayRunAs:
		allErrs = append(allErrs, validateGroupsInRanges(path, ranges, groups)...)
	}
	return allErrs
}
