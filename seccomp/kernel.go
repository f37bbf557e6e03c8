package seccomp

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// kernelVersion is a kernel release reduced to what Docker profiles compare
// in minKernel: "<kernel>.<major>", as in 5.15.
type kernelVersion struct {
	kernel, major uint64
}

func (v kernelVersion) String() string { return fmt.Sprintf("%d.%d", v.kernel, v.major) }

// atLeast reports whether v is min or newer.
func (v kernelVersion) atLeast(min kernelVersion) bool {
	if v.kernel != min.kernel {
		return v.kernel > min.kernel
	}
	return v.major >= min.major
}

// parseMinKernel parses the minKernel of a Docker profile: exactly
// "<kernel>.<major>", not 0.0.
func parseMinKernel(s string) (kernelVersion, error) {
	k, m, ok := strings.Cut(s, ".")
	kernel, errK := strconv.ParseUint(k, 10, 16)
	major, errM := strconv.ParseUint(m, 10, 16)
	if !ok || errK != nil || errM != nil || kernel == 0 && major == 0 {
		return kernelVersion{}, fmt.Errorf("invalid kernel version %q: want \"<kernel>.<major>\"", s)
	}
	return kernelVersion{kernel, major}, nil
}

// parseRelease reads the leading "<kernel>.<major>" of a kernel release
// such as "6.8.0-45-generic".
func parseRelease(s string) (kernelVersion, error) {
	k, rest, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok {
		return kernelVersion{}, fmt.Errorf("kernel release %q has no \".\"", s)
	}
	m := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		m = rest[:i]
	}
	kernel, err := strconv.ParseUint(k, 10, 16)
	if err != nil {
		return kernelVersion{}, fmt.Errorf("kernel release %q: %w", s, err)
	}
	major, err := strconv.ParseUint(m, 10, 16)
	if err != nil {
		return kernelVersion{}, fmt.Errorf("kernel release %q: %w", s, err)
	}
	return kernelVersion{kernel, major}, nil
}

// hostKernel returns the running kernel's version. Tests replace it.
var hostKernel = func() (kernelVersion, error) {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return kernelVersion{}, fmt.Errorf("reading the kernel release: %w", err)
	}
	return parseRelease(string(b))
}
