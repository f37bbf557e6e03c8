package spec

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidatePodSELinux(t *testing.T) {
	noSELinux := &ValidateOptions{AppArmorEnabled: true}
	pod := "spec.securityContext.seLinuxOptions"
	ctr := "spec.containers[0].securityContext.seLinuxOptions"
	runValidateCases(t, []validateCase{
		{"not enforceable", noSELinux, nil, []wantErr{{pod, field.ErrorTypeForbidden}, {ctr, field.ErrorTypeForbidden}}},
		{"empty options need nothing", noSELinux, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{}
			app(p).SecurityContext.SELinuxOptions = nil
		}, nil},
		{"init container not enforceable", noSELinux, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SELinuxOptions = nil
			app(p).SecurityContext.SELinuxOptions = nil
			p.Spec.InitContainers[0].SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{User: "system_u"}
		}, []wantErr{{"spec.initContainers[0].securityContext.seLinuxOptions", field.ErrorTypeForbidden}}},
		{"colon in type", nil, func(p *corev1.Pod) {
			app(p).SecurityContext.SELinuxOptions.Type = "container_t:s0"
		}, []wantErr{{ctr + ".type", field.ErrorTypeInvalid}}},
		{"blank in user and role", nil, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{User: "system u", Role: "object_r\n"}
		}, []wantErr{{pod + ".user", field.ErrorTypeInvalid}, {pod + ".role", field.ErrorTypeInvalid}}},
		{"blank in level", nil, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SELinuxOptions.Level = "s0 c1"
		}, []wantErr{{pod + ".level", field.ErrorTypeInvalid}}},
	})
}

func TestValidatePodAppArmor(t *testing.T) {
	noAppArmor := &ValidateOptions{SELinuxEnabled: true}
	pod := "spec.securityContext.appArmorProfile"
	ctr := "spec.containers[0].securityContext.appArmorProfile"
	ann := "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]"
	annSetup := "metadata.annotations[container.apparmor.security.beta.kubernetes.io/setup]"
	set := func(ap *corev1.AppArmorProfile) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			delete(p.Annotations, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+"app")
			app(p).SecurityContext.AppArmorProfile = ap
		}
	}
	local := func(name string) *corev1.AppArmorProfile {
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}
	}
	annotate := func(name, value string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Annotations[corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+name] = value
		}
	}
	runValidateCases(t, []validateCase{
		{"not enforceable", noAppArmor, nil, []wantErr{{pod, field.ErrorTypeForbidden}, {ctr, field.ErrorTypeForbidden}, {ann, field.ErrorTypeForbidden}}},
		{"Unconfined needs nothing", noAppArmor, func(p *corev1.Pod) {
			p.Spec.SecurityContext.AppArmorProfile.Type = corev1.AppArmorProfileTypeUnconfined
			set(&corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined})(p)
			annotate("setup", "unconfined")(p)
		}, nil},
		{"Localhost not enforceable", noAppArmor, func(p *corev1.Pod) {
			p.Spec.SecurityContext.AppArmorProfile = nil
			set(local("k8s-nginx"))(p)
		}, []wantErr{{ctr, field.ErrorTypeForbidden}}},
		{"Localhost", nil, set(local("k8s-nginx")), nil},
		{"Localhost without profile", nil, set(&corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost}), []wantErr{{ctr + ".localhostProfile", field.ErrorTypeRequired}}},
		{"Localhost blank profile", nil, set(local("  ")), []wantErr{{ctr + ".localhostProfile", field.ErrorTypeRequired}}},
		{"Localhost padded profile", nil, set(local(" x")), []wantErr{{ctr + ".localhostProfile", field.ErrorTypeInvalid}}},
		{"Localhost profile too long", nil, set(local(strings.Repeat("x", 4096))), []wantErr{{ctr + ".localhostProfile", field.ErrorTypeTooLong}}},
		{"profile with RuntimeDefault", nil, set(&corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault, LocalhostProfile: valPtr("x")}),
			[]wantErr{{ctr + ".localhostProfile", field.ErrorTypeInvalid}}},
		{"no type", nil, set(&corev1.AppArmorProfile{}), []wantErr{{ctr + ".type", field.ErrorTypeRequired}}},
		{"unknown type", nil, set(&corev1.AppArmorProfile{Type: "Complain"}), []wantErr{{ctr + ".type", field.ErrorTypeNotSupported}}},
		{"annotation localhost", nil, func(p *corev1.Pod) {
			set(local("k8s-nginx"))(p)
			annotate("app", "localhost/k8s-nginx")(p)
		}, nil},
		{"annotation and field types differ", nil, func(p *corev1.Pod) {
			annotate("app", "unconfined")(p)
		}, []wantErr{{ann, field.ErrorTypeForbidden}}},
		{"annotation and field profiles differ", nil, func(p *corev1.Pod) {
			set(local("k8s-nginx"))(p)
			annotate("app", "localhost/other")(p)
		}, []wantErr{{ann, field.ErrorTypeForbidden}}},
		{"annotation bad value", nil, annotate("setup", "enforce"), []wantErr{{annSetup, field.ErrorTypeInvalid}}},
		{"annotation localhost without name", nil, annotate("setup", "localhost/"), []wantErr{{annSetup, field.ErrorTypeInvalid}}},
		{"annotation empty", noAppArmor, func(p *corev1.Pod) {
			p.Spec.SecurityContext.AppArmorProfile = nil
			set(nil)(p)
			annotate("setup", "")(p)
		}, nil},
		{"annotation for no container", nil, annotate("db", "runtime/default"),
			[]wantErr{{"metadata.annotations[container.apparmor.security.beta.kubernetes.io/db]", field.ErrorTypeInvalid}}},
		{"annotation for init container, not enforceable", noAppArmor, func(p *corev1.Pod) {
			p.Spec.SecurityContext.AppArmorProfile = nil
			set(nil)(p)
			annotate("setup", "localhost/setup")(p)
		}, []wantErr{{annSetup, field.ErrorTypeForbidden}}},
	})
}
