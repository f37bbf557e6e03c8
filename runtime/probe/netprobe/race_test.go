//go:build race

package netprobe

// raceEnabled: the race detector allocates in code it instruments.
const raceEnabled = true
