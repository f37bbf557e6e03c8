package ocispec

// check is one rule of the Pod Security Standards over a spec.
type check struct {
	// id is pod-security-admission's check id.
	id string
	// level is the lowest policy level the check applies to.
	level Level
	fn    func(in *input) []Violation
}

// checks run in this order; a refusal lists violations in it.
var checks = []check{
	{id: "hostNamespaces", level: Baseline, fn: checkHostNamespaces},
	{id: "capabilities_baseline", level: Baseline, fn: checkCapabilitiesBaseline},
	{id: "hostDevices", level: Baseline, fn: checkHostDevices},
	{id: "hostPathVolumes", level: Baseline, fn: checkBindMounts},
	{id: "kernelMounts", level: Baseline, fn: checkKernelMounts},
	{id: "mountPropagation", level: Baseline, fn: checkMountPropagation},
	{id: "writableSysfs", level: Baseline, fn: checkWritableSysfs},
	{id: "procMount", level: Baseline, fn: checkProcMount},
	{id: "seccompProfile_baseline", level: Baseline, fn: checkSeccompBaseline},
	{id: "seLinuxOptions", level: Baseline, fn: checkSELinux},
	{id: "appArmorProfile", level: Baseline, fn: checkAppArmor},
	{id: "sysctls", level: Baseline, fn: checkSysctls},
	// Fields a pod has no equivalent of, which reach the node.
	{id: "hooks", level: Baseline, fn: checkHooks},
	{id: "rootPath", level: Baseline, fn: checkRootPath},
	{id: "userNamespaceMappings", level: Baseline, fn: checkUserNamespaceMappings},
	{id: "cgroupsPath", level: Baseline, fn: checkCgroupsPath},
	{id: "scheduling", level: Baseline, fn: checkScheduling},
	{id: "rlimits", level: Baseline, fn: checkRlimits},
	{id: "personality", level: Baseline, fn: checkPersonality},
	{id: "intelRdt", level: Baseline, fn: checkIntelRdt},
	{id: "allowPrivilegeEscalation", level: Restricted, fn: checkPrivilegeEscalation},
	{id: "runAsNonRoot", level: Restricted, fn: checkRunAsNonRoot},
	{id: "capabilities_restricted", level: Restricted, fn: checkCapabilitiesRestricted},
}
