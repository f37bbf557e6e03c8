package seccomp

import "testing"

func TestParseRelease(t *testing.T) {
	tests := []struct {
		in      string
		want    kernelVersion
		wantErr bool
	}{
		{"6.8.0-45-generic\n", kernelVersion{6, 8}, false},
		{"5.15.167.4-microsoft-standard-WSL2", kernelVersion{5, 15}, false},
		{"4.8", kernelVersion{4, 8}, false},
		{"6.12-rc1", kernelVersion{6, 12}, false},
		{"6", kernelVersion{}, true},
		{"x.1", kernelVersion{}, true},
		{"6.-1", kernelVersion{}, true},
	}
	for _, tc := range tests {
		got, err := parseRelease(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseRelease(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseMinKernel(t *testing.T) {
	tests := []struct {
		in      string
		want    kernelVersion
		wantErr bool
	}{
		{"4.8", kernelVersion{4, 8}, false},
		{"5.10", kernelVersion{5, 10}, false},
		{"4", kernelVersion{}, true},
		{"4.8.1", kernelVersion{}, true},
		{"0.0", kernelVersion{}, true},
		{"4.x", kernelVersion{}, true},
		{"", kernelVersion{}, true},
	}
	for _, tc := range tests {
		got, err := parseMinKernel(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseMinKernel(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestKernelAtLeast(t *testing.T) {
	tests := []struct {
		have, min kernelVersion
		want      bool
	}{
		{kernelVersion{4, 8}, kernelVersion{4, 8}, true},
		{kernelVersion{4, 7}, kernelVersion{4, 8}, false},
		{kernelVersion{5, 0}, kernelVersion{4, 8}, true},
		{kernelVersion{3, 19}, kernelVersion{4, 8}, false},
		{kernelVersion{6, 10}, kernelVersion{6, 9}, true},
	}
	for _, tc := range tests {
		if got := tc.have.atLeast(tc.min); got != tc.want {
			t.Errorf("%v.atLeast(%v) = %v, want %v", tc.have, tc.min, got, tc.want)
		}
	}
}
