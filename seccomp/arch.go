package seccomp

import specs "github.com/opencontainers/runtime-spec/specs-go"

// archInfo describes one Go architecture for Localhost profiles in the
// Docker format: the name such profiles use for it in includes/excludes
// arches, and the seccomp architectures a filter must cover, native first,
// then those whose binaries the kernel also runs.
type archInfo struct {
	native string
	arches []specs.Arch
}

// goArches maps runtime.GOARCH to its archInfo, as moby's goToNative and
// default archMap do. RuntimeDefault gets its architectures from moby's
// library itself; this table serves the Localhost conversion, which keeps
// its own decoder for its stricter validation and error messages.
var goArches = map[string]archInfo{
	"386":      {"x86", []specs.Arch{specs.ArchX86}},
	"amd64":    {"amd64", []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}},
	"arm":      {"arm", []specs.Arch{specs.ArchARM}},
	"arm64":    {"arm64", []specs.Arch{specs.ArchAARCH64, specs.ArchARM}},
	"loong64":  {"loong64", []specs.Arch{specs.ArchLOONGARCH64}},
	"mips64":   {"mips64", []specs.Arch{specs.ArchMIPS64, specs.ArchMIPS, specs.ArchMIPS64N32}},
	"mips64le": {"mipsel64", []specs.Arch{specs.ArchMIPSEL64, specs.ArchMIPSEL, specs.ArchMIPSEL64N32}},
	"ppc64":    {"ppc64", []specs.Arch{specs.ArchPPC64}},
	"ppc64le":  {"ppc64le", []specs.Arch{specs.ArchPPC64LE}},
	"riscv64":  {"riscv64", []specs.Arch{specs.ArchRISCV64}},
	"s390x":    {"s390x", []specs.Arch{specs.ArchS390X, specs.ArchS390}},
}
