//go:build race

package router

// raceEnabled: the race detector is on (sync.Pool then drops items at
// random, so pooled paths allocate now and then).
const raceEnabled = true
