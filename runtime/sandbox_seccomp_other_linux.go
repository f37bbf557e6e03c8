//go:build !seccomp

package runtime

import "errors"

// loadSandboxSeccomp fails without the seccomp build tag, as libcontainer
// fails to start a container with a seccomp profile: the sandbox is never
// left unfiltered.
func loadSandboxSeccomp() error {
	return errors.New("seccomp not supported: podsec was built without the seccomp build tag")
}
