package psp

import (
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

func TestDecodeBothAPIVersions(t *testing.T) {
	for _, v := range APIVersions {
		p := decodePolicy(t, "apiVersion: "+v+`
kind: PodSecurityPolicy
metadata: {name: full}
spec:
  privileged: true
  defaultAddCapabilities: [CHOWN]
  requiredDropCapabilities: [NET_RAW]
  allowedCapabilities: [SYS_TIME]
  volumes: [emptyDir, hostPath, flexVolume, csi]
  hostNetwork: true
  hostPorts: [{min: 80, max: 80}]
  hostPID: true
  hostIPC: true
  seLinux: {rule: MustRunAs, seLinuxOptions: {level: "s0:c1"}}
  runAsUser: {rule: MustRunAs, ranges: [{min: 1, max: 10}]}
  runAsGroup: {rule: MayRunAs, ranges: [{min: 1, max: 10}]}
  supplementalGroups: {rule: MustRunAs, ranges: [{min: 1, max: 10}]}
  fsGroup: {rule: MayRunAs, ranges: [{min: 1, max: 10}]}
  readOnlyRootFilesystem: true
  defaultAllowPrivilegeEscalation: false
  allowPrivilegeEscalation: false
  allowedHostPaths: [{pathPrefix: /var/log, readOnly: true}]
  allowedFlexVolumes: [{driver: example/lvm}]
  allowedCSIDrivers: [{name: csi.example.com}]
  allowedUnsafeSysctls: [kernel.msg*]
  forbiddenSysctls: [kernel.shm_rmid_forced]
  allowedProcMountTypes: [Default]
  runtimeClass: {allowedRuntimeClassNames: [gvisor], defaultRuntimeClassName: gvisor}
`)
		if !IsPodSecurityPolicy(p.APIVersion, p.Kind) {
			t.Errorf("IsPodSecurityPolicy(%q, %q) = false", p.APIVersion, p.Kind)
		}
		if errs := ValidatePolicy(p); len(errs) > 0 {
			t.Errorf("ValidatePolicy(%s) = %v", v, errs)
		}
		cp := p.DeepCopy()
		if !apiequality.Semantic.DeepEqual(p, cp) {
			t.Errorf("DeepCopy() = %+v, want %+v", cp, p)
		}
		cp.Spec.RunAsUser.Ranges[0].Min = 5
		*cp.Spec.RuntimeClass.DefaultRuntimeClassName = "kata"
		cp.Spec.SELinux.SELinuxOptions.Level = "s0"
		if p.Spec.RunAsUser.Ranges[0].Min != 1 || *p.Spec.RuntimeClass.DefaultRuntimeClassName != "gvisor" || p.Spec.SELinux.SELinuxOptions.Level != "s0:c1" {
			t.Errorf("DeepCopy() shares memory with the original")
		}
	}
	if IsPodSecurityPolicy("policy/v1", Kind) || IsPodSecurityPolicy("policy/v1beta1", "PodSecurityPolicyList") {
		t.Error("IsPodSecurityPolicy accepts another apiVersion or kind")
	}
}
