package seccomp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// profileFile is a seccomp profile file. The Docker format's fields are a
// superset of the OCI LinuxSeccomp's, so one type reads both formats and
// refuses a field that is in neither.
type profileFile struct {
	DefaultAction    specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet  *uint                    `json:"defaultErrnoRet"`
	Architectures    []specs.Arch             `json:"architectures"`
	ArchMap          []archMapping            `json:"archMap"`
	Flags            []specs.LinuxSeccompFlag `json:"flags"`
	ListenerPath     string                   `json:"listenerPath"`
	ListenerMetadata string                   `json:"listenerMetadata"`
	Syscalls         []profileRule            `json:"syscalls"`
}

// archMapping is an entry of a Docker profile's archMap: the architectures
// to filter when the native one is Arch.
type archMapping struct {
	Arch      specs.Arch   `json:"architecture"`
	SubArches []specs.Arch `json:"subArchitectures"`
}

// profileRule is a rule of either format; Name, Comment, Includes and
// Excludes are Docker's.
type profileRule struct {
	Names    []string                 `json:"names"`
	Name     string                   `json:"name"`
	Action   specs.LinuxSeccompAction `json:"action"`
	ErrnoRet *uint                    `json:"errnoRet"`
	Args     []specs.LinuxSeccompArg  `json:"args"`
	Comment  string                   `json:"comment"`
	Includes *ruleFilter              `json:"includes"`
	Excludes *ruleFilter              `json:"excludes"`
}

// ruleFilter is a Docker rule's includes or excludes. Arches are names of
// moby's goToNative ("amd64", "x86", "arm64"), caps are OCI capability
// names, and minKernel is "<kernel>.<major>".
type ruleFilter struct {
	Caps      []string `json:"caps"`
	Arches    []string `json:"arches"`
	MinKernel string   `json:"minKernel"`
}

// target is what a Docker profile's includes and excludes are matched
// against.
type target struct {
	goarch string
	caps   []string
	kernel func() (kernelVersion, error) // read only if a rule has minKernel
}

// parse decodes, validates and converts a profile file for t.
func parse(data []byte, t target) (*specs.LinuxSeccomp, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, invalidf("empty file")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f profileFile
	if err := dec.Decode(&f); err != nil {
		return nil, invalidf("decoding JSON%s: %s", position(data, err), jsonMessage(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalidf("decoding JSON: data after the profile")
	}
	return convert(&f, t)
}

// jsonMessage words a decoding error for the profile's author rather than
// for a Go programmer.
func jsonMessage(err error) string {
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of file"
	case errors.As(err, &typ) && typ.Field != "":
		want := typ.Type.Kind().String()
		switch typ.Type.Kind() {
		case reflect.Struct, reflect.Map:
			want = "object"
		case reflect.Slice:
			want = "array"
		}
		return fmt.Sprintf("%s: cannot use %s as %s", typ.Field, typ.Value, want)
	case errors.As(err, &typ):
		return fmt.Sprintf("cannot use %s as a profile", typ.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// position locates a JSON error in data as " at line L, column C", the
// 1-based position of the byte at which decoding failed.
func position(data []byte, err error) string {
	var off int64
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	default:
		return ""
	}
	// Offset counts the bytes read, the offending one included.
	off = min(max(off-1, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf(" at line %d, column %d", line, col)
}

// convert validates every rule of f, whether or not t includes it, then
// returns the OCI profile of the rules t includes.
func convert(f *profileFile, t target) (*specs.LinuxSeccomp, error) {
	if len(f.Architectures) > 0 && len(f.ArchMap) > 0 {
		return nil, invalidf("both architectures and archMap are set: use one")
	}
	all := &specs.LinuxSeccomp{
		DefaultAction:    f.DefaultAction,
		DefaultErrnoRet:  f.DefaultErrnoRet,
		Architectures:    slices.Clone(f.Architectures),
		Flags:            f.Flags,
		ListenerPath:     f.ListenerPath,
		ListenerMetadata: f.ListenerMetadata,
	}
	for i, m := range f.ArchMap {
		field := fmt.Sprintf("archMap[%d]", i)
		if !knownArches[m.Arch] {
			return nil, invalidf("%s.architecture: unknown architecture %q", field, m.Arch)
		}
		if err := validateArches(field+".subArchitectures", m.SubArches); err != nil {
			return nil, err
		}
		// As moby does: the entry of the native architecture, if any.
		if native := goArches[t.goarch].arches; len(native) > 0 && m.Arch == native[0] && len(all.Architectures) == 0 {
			all.Architectures = append([]specs.Arch{m.Arch}, m.SubArches...)
		}
	}
	for i, r := range f.Syscalls {
		field := fmt.Sprintf("syscalls[%d]", i)
		if r.Name != "" && len(r.Names) > 0 {
			return nil, invalidf("%s: both name and names are set: use one", field)
		}
		if err := checkMinKernel(field+".includes", r.Includes); err != nil {
			return nil, err
		}
		if err := checkMinKernel(field+".excludes", r.Excludes); err != nil {
			return nil, err
		}
		names := r.Names
		if r.Name != "" {
			names = []string{r.Name}
		}
		all.Syscalls = append(all.Syscalls, specs.LinuxSyscall{
			Names: slices.Clone(names), Action: r.Action, ErrnoRet: r.ErrnoRet, Args: slices.Clone(r.Args),
		})
	}
	if err := validate(all); err != nil {
		return nil, err
	}

	out := *all
	out.Syscalls = nil
	for i, r := range f.Syscalls {
		ok, err := t.includes(r)
		if err != nil {
			return nil, fmt.Errorf("syscalls[%d]: %w", i, err)
		}
		if ok {
			out.Syscalls = append(out.Syscalls, all.Syscalls[i])
		}
	}
	return &out, nil
}

// includes reports whether a Docker rule applies to t, as moby's
// setupSeccomp decides: excluded if t matches any of Excludes, included
// only if t matches all of Includes.
func (t target) includes(r profileRule) (bool, error) {
	native := goArches[t.goarch].native
	if x := r.Excludes; x != nil {
		if slices.Contains(x.Arches, native) {
			return false, nil
		}
		for _, c := range x.Caps {
			if slices.Contains(t.caps, c) {
				return false, nil
			}
		}
		if x.MinKernel != "" {
			if newer, err := t.kernelAtLeast("excludes", x.MinKernel); err != nil || newer {
				return false, err
			}
		}
	}
	if in := r.Includes; in != nil {
		if len(in.Arches) > 0 && !slices.Contains(in.Arches, native) {
			return false, nil
		}
		for _, c := range in.Caps {
			if !slices.Contains(t.caps, c) {
				return false, nil
			}
		}
		if in.MinKernel != "" {
			return t.kernelAtLeast("includes", in.MinKernel)
		}
	}
	return true, nil
}

// checkMinKernel refuses a filter whose minKernel is not "<kernel>.<major>".
func checkMinKernel(field string, x *ruleFilter) error {
	if x == nil || x.MinKernel == "" {
		return nil
	}
	if _, err := parseMinKernel(x.MinKernel); err != nil {
		return invalidf("%s.minKernel: %w", field, err)
	}
	return nil
}

// kernelAtLeast reports whether the running kernel is min or newer.
func (t target) kernelAtLeast(filter, min string) (bool, error) {
	want, err := parseMinKernel(min) // convert has checked it
	if err != nil {
		return false, invalidf("%s.minKernel: %w", filter, err)
	}
	have, err := t.kernel()
	if err != nil {
		return false, fmt.Errorf("%s.minKernel: %w", filter, err)
	}
	return have.atLeast(want), nil
}
