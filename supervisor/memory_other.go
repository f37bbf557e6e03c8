//go:build !linux

package supervisor

func unmapLargeFolios() {}
