package runtime

import (
	"sync"

	"github.com/opencontainers/runc/libcontainer/configs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"

	"github.com/podsec/podsec/internal/lc"
)

// warmEncoders builds, once per process and in the background,
// encoding/json's encoders of the types a pod's start encodes: the pod
// (pod.json), its containers' OCI specs and libcontainer's
// configuration. Building them walks the whole type graph by reflection,
// about 4 ms for these three, which the first pod's start would otherwise
// spend on its critical path; Start calls it while the sandbox starts,
// when podsec only waits for the sandbox to be ready.
var warmEncoders = sync.OnceFunc(func() {
	lc.WarmJSON(&corev1.Pod{}, &specs.Spec{}, &configs.Config{})
})
