package psp

import (
	"reflect"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// scratch is a pod a policy's defaults are written into to see what they
// change, without a deep copy of the pod per policy (which, with the
// semantic comparison of two whole pods, was most of an admission's
// cost). It shares everything with the original pod except what the
// defaults write (the rule hooks defaultPod and defaultContainer): the
// Pod and PodSpec values themselves (runtimeClassName), the pod's
// securityContext, every container and every container's securityContext.
// The copies are shallow: a default replaces a pointer field of a
// securityContext, it never writes through one.
type scratch struct {
	pod        corev1.Pod
	podSC      corev1.PodSecurityContext
	init       []corev1.Container
	containers []corev1.Container
	ephemeral  []corev1.EphemeralContainer
	scs        []corev1.SecurityContext
}

// reset makes the scratch a fresh copy of what the defaults may write of
// orig, reusing its memory.
func (s *scratch) reset(orig *corev1.Pod) *corev1.Pod {
	s.pod = *orig
	if orig.Spec.SecurityContext != nil {
		s.podSC = *orig.Spec.SecurityContext
		s.pod.Spec.SecurityContext = &s.podSC
	}
	s.init = copyInto(s.init, orig.Spec.InitContainers)
	s.containers = copyInto(s.containers, orig.Spec.Containers)
	s.ephemeral = copyInto(s.ephemeral, orig.Spec.EphemeralContainers)
	s.pod.Spec.InitContainers, s.pod.Spec.Containers, s.pod.Spec.EphemeralContainers = s.init, s.containers, s.ephemeral
	n := 0
	eachContainer(orig, func(c *corev1.Container) {
		if c.SecurityContext != nil {
			n++
		}
	})
	if cap(s.scs) < n {
		s.scs = make([]corev1.SecurityContext, n)
	}
	scs := s.scs[:n]
	eachContainer(&s.pod, func(c *corev1.Container) {
		if c.SecurityContext != nil {
			scs[0] = *c.SecurityContext
			c.SecurityContext, scs = &scs[0], scs[1:]
		}
	})
	return &s.pod
}

// copyInto copies src into dst's memory, keeping a nil src nil so that
// the copy compares equal to it.
func copyInto[T any](dst, src []T) []T {
	if src == nil {
		return nil
	}
	return append(dst[:0], src...)
}

// changed reports whether defaulting turned orig into pod, a scratch of
// it, with the answer of apiequality.Semantic.DeepEqual(orig, pod): the
// parts the scratch did not copy are the original's, and a copied part
// that still holds the same bytes as the original is equal to it; any
// other part is compared semantically.
func changed(orig, pod *corev1.Pod) bool {
	rest := *pod
	rest.Spec.SecurityContext = orig.Spec.SecurityContext
	rest.Spec.InitContainers = orig.Spec.InitContainers
	rest.Spec.Containers = orig.Spec.Containers
	rest.Spec.EphemeralContainers = orig.Spec.EphemeralContainers
	rest.Spec.RuntimeClassName = orig.Spec.RuntimeClassName
	if !identical(&rest, orig) {
		return !apiequality.Semantic.DeepEqual(orig, pod)
	}
	if !equalPart(orig.Spec.SecurityContext, pod.Spec.SecurityContext) || !equalPart(orig.Spec.RuntimeClassName, pod.Spec.RuntimeClassName) {
		return true
	}
	return !equalContainers(orig.Spec.InitContainers, pod.Spec.InitContainers) ||
		!equalContainers(orig.Spec.Containers, pod.Spec.Containers) ||
		!equalContainers(orig.Spec.EphemeralContainers, pod.Spec.EphemeralContainers)
}

// equalContainers compares the containers of a scratch (b) with the
// original's (a), which have the same length.
func equalContainers[C corev1.Container | corev1.EphemeralContainer](a, b []C) bool {
	for i := range a {
		ca, cb := container(&a[i]), container(&b[i])
		rest := b[i]
		container(&rest).SecurityContext = ca.SecurityContext
		if !identical(&rest, &a[i]) {
			if !apiequality.Semantic.DeepEqual(&a[i], &b[i]) {
				return false
			}
			continue
		}
		if !equalPart(ca.SecurityContext, cb.SecurityContext) {
			return false
		}
	}
	return true
}

// container is the Container of an EphemeralContainer, or the Container.
func container[C corev1.Container | corev1.EphemeralContainer](c *C) *corev1.Container {
	switch c := any(c).(type) {
	case *corev1.EphemeralContainer:
		return (*corev1.Container)(&c.EphemeralContainerCommon)
	case *corev1.Container:
		return c
	}
	panic("unreachable")
}

// equalPart is apiequality.Semantic.DeepEqual of two pointers, without
// the walk when they are the same or point to the same bytes. Structs (the
// securityContexts) are compared field by field: a field a default set
// (a nil pointer made non-nil) differs at once, and a field both share is
// equal; the others are compared semantically.
func equalPart[T any](a, b *T) bool {
	switch {
	case a == b:
		return true
	case a == nil || b == nil:
		return false
	case identical(a, b):
		return true
	}
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	if va.Kind() != reflect.Struct {
		return apiequality.Semantic.DeepEqual(a, b)
	}
	for i := range va.NumField() {
		fa, fb := va.Field(i), vb.Field(i)
		switch fa.Kind() {
		case reflect.Pointer:
			if fa.IsNil() != fb.IsNil() {
				return false
			}
			if fa.Pointer() == fb.Pointer() {
				continue
			}
		case reflect.Slice, reflect.Map:
			if fa.IsNil() && fb.IsNil() || fa.Pointer() == fb.Pointer() && fa.Len() == fb.Len() {
				continue
			}
		}
		if !fa.CanInterface() || !apiequality.Semantic.DeepEqual(fa.Interface(), fb.Interface()) {
			return false
		}
	}
	return true
}

// identical reports whether *a and *b hold the same bytes. Then every
// field is the same: the same numbers and flags, the same pointers, slice
// headers, strings and maps, so the values are equal however deep they
// go. Different bytes prove nothing (padding, or equal values at other
// addresses): the callers then compare semantically.
func identical[T any](a, b *T) bool {
	n := unsafe.Sizeof(*a)
	return unsafe.String((*byte)(unsafe.Pointer(a)), n) == unsafe.String((*byte)(unsafe.Pointer(b)), n)
}

// holds reports whether an error's bad value may point into the
// scratch's memory, which the next policy's defaults overwrite: a pointer
// or slice whose address lies in it, or a value too deep to tell. Other
// values (numbers, strings, maps, pointers elsewhere) stay as they are.
func (s *scratch) holds(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.UnsafePointer:
		if rv.IsNil() {
			return false
		}
		p := rv.Pointer()
		in := func(start unsafe.Pointer, size uintptr) bool {
			return start != nil && p >= uintptr(start) && p < uintptr(start)+size
		}
		return in(unsafe.Pointer(s), unsafe.Sizeof(*s)) ||
			in(unsafe.Pointer(unsafe.SliceData(s.init)), uintptr(cap(s.init))*unsafe.Sizeof(corev1.Container{})) ||
			in(unsafe.Pointer(unsafe.SliceData(s.containers)), uintptr(cap(s.containers))*unsafe.Sizeof(corev1.Container{})) ||
			in(unsafe.Pointer(unsafe.SliceData(s.ephemeral)), uintptr(cap(s.ephemeral))*unsafe.Sizeof(corev1.EphemeralContainer{})) ||
			in(unsafe.Pointer(unsafe.SliceData(s.scs)), uintptr(cap(s.scs))*unsafe.Sizeof(corev1.SecurityContext{}))
	case reflect.Struct, reflect.Array, reflect.Interface, reflect.Func, reflect.Chan:
		return true
	}
	return false
}
