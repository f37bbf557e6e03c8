//go:build !linux

package netprobe

import "time"

// Attempt is Unknown off Linux: podsec-monitor runs only there.
func Attempt(addr string, request []byte, timeout time.Duration) (res Result, redirect bool) {
	return Unknown, false
}

type sockAddr struct{}

func resolve(string) *sockAddr { return nil }

func (a *sockAddr) attempt([]byte, time.Duration) (Result, bool) { return Unknown, false }
