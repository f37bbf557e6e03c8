//go:build !linux

package memtrim

func UnmapLargeFolios() {}

func UnmapStatic() {}
