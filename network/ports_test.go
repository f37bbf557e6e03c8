package network

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestNormalizePorts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []PortMapping
		want    []PortMapping
		wantErr string
	}{
		{"defaults", []PortMapping{{HostPort: 90, ContainerPort: 80}, {HostPort: 53, ContainerPort: 53, Protocol: "udp", HostIP: "0.0.0.0"}},
			[]PortMapping{{HostPort: 53, ContainerPort: 53, Protocol: "UDP"}, {HostPort: 90, ContainerPort: 80, Protocol: "TCP"}}, ""},
		{"hostIP kept", []PortMapping{{HostPort: 90, ContainerPort: 80, HostIP: "127.0.0.1"}},
			[]PortMapping{{HostPort: 90, ContainerPort: 80, Protocol: "TCP", HostIP: "127.0.0.1"}}, ""},
		{"same port, two protocols", []PortMapping{{HostPort: 90, ContainerPort: 80}, {HostPort: 90, ContainerPort: 80, Protocol: "UDP"}},
			[]PortMapping{{HostPort: 90, ContainerPort: 80, Protocol: "TCP"}, {HostPort: 90, ContainerPort: 80, Protocol: "UDP"}}, ""},
		{"same port, two hostIPs", []PortMapping{{HostPort: 90, ContainerPort: 80, HostIP: "127.0.0.1"}, {HostPort: 90, ContainerPort: 81, HostIP: "127.0.0.2"}},
			[]PortMapping{{HostPort: 90, ContainerPort: 80, Protocol: "TCP", HostIP: "127.0.0.1"}, {HostPort: 90, ContainerPort: 81, Protocol: "TCP", HostIP: "127.0.0.2"}}, ""},
		{"twice", []PortMapping{{HostPort: 90, ContainerPort: 80}, {HostPort: 90, ContainerPort: 81, HostIP: "127.0.0.1"}}, nil,
			"hostPort 127.0.0.1:90/TCP is asked for twice"},
		{"protocol", []PortMapping{{HostPort: 90, ContainerPort: 80, Protocol: "ICMP"}}, nil, `unsupported protocol "ICMP"`},
		{"range", []PortMapping{{HostPort: 70000, ContainerPort: 80}}, nil, "between 1 and 65535"},
		{"no container port", []PortMapping{{HostPort: 90}}, nil, "between 1 and 65535"},
		{"IPv6 hostIP", []PortMapping{{HostPort: 90, ContainerPort: 80, HostIP: "::1"}}, nil, "not an IPv4 address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := normalizePorts(tc.in)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("normalizePorts(%v) = %v, want ErrInvalid %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("normalizePorts(%v) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestConflict(t *testing.T) {
	held := []*Attachment{
		{Pod: PodRef{Namespace: "default", Name: "kubia-hostport"}, Ports: []PortMapping{{HostPort: 9000, ContainerPort: 8080, Protocol: "TCP"}}},
		{Pod: PodRef{Namespace: "web", Name: "local"}, Ports: []PortMapping{{HostPort: 9100, ContainerPort: 80, Protocol: "TCP", HostIP: "127.0.0.1"}}},
	}
	for _, tc := range []struct {
		name string
		want PortMapping
		err  string // "" when free
	}{
		{"same", PortMapping{HostPort: 9000, Protocol: "TCP"}, "hostPort 9000/TCP is already held by pod default/kubia-hostport"},
		{"hostIP within every address", PortMapping{HostPort: 9000, Protocol: "TCP", HostIP: "10.0.0.1"}, "hostPort 10.0.0.1:9000/TCP is already held by pod default/kubia-hostport"},
		{"every address over a hostIP", PortMapping{HostPort: 9100, Protocol: "TCP"}, "hostPort 127.0.0.1:9100/TCP is already held by pod web/local"},
		{"same hostIP", PortMapping{HostPort: 9100, Protocol: "TCP", HostIP: "127.0.0.1"}, "hostPort 127.0.0.1:9100/TCP is already held by pod web/local"},
		{"other hostIP", PortMapping{HostPort: 9100, Protocol: "TCP", HostIP: "127.0.0.2"}, ""},
		{"other protocol", PortMapping{HostPort: 9000, Protocol: "UDP"}, ""},
		{"other port", PortMapping{HostPort: 9001, Protocol: "TCP"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := conflict([]PortMapping{tc.want}, held)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("conflict(%s) = %v, want nil", tc.want, err)
				}
				return
			}
			if !errors.Is(err, ErrPortConflict) || !strings.HasSuffix(err.Error(), tc.err) {
				t.Fatalf("conflict(%s) = %v, want ErrPortConflict %q", tc.want, err, tc.err)
			}
		})
	}
}

func TestPodRefValidate(t *testing.T) {
	for _, tc := range []struct {
		pod PodRef
		ok  bool
	}{
		{PodRef{Namespace: "default", Name: "web-1.example"}, true},
		{PodRef{Namespace: "default"}, false},
		{PodRef{Namespace: "a_b", Name: "c"}, false},
		{PodRef{Namespace: "a", Name: "../etc"}, false},
		{PodRef{Namespace: "..", Name: "x"}, false},
	} {
		if err := tc.pod.validate(); (err == nil) != tc.ok {
			t.Errorf("PodRef%+v.validate() = %v, want ok=%v", tc.pod, err, tc.ok)
		}
	}
}

func TestSplitQuoted(t *testing.T) {
	line := `-A POSTROUTING -s 10.90.0.2/32 -m comment --comment "name: \"podsec\" id: \"abc\"" -j CNI-1234`
	want := []string{"-A", "POSTROUTING", "-s", "10.90.0.2/32", "-m", "comment", "--comment", `name: "podsec" id: "abc"`, "-j", "CNI-1234"}
	if got := splitQuoted(line); !reflect.DeepEqual(got, want) {
		t.Errorf("splitQuoted(%q) = %q, want %q", line, got, want)
	}
	if got := (rule{args: want[2:]}).target(); got != "CNI-1234" {
		t.Errorf("target() = %q, want CNI-1234", got)
	}
}
