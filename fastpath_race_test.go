//go:build race

package jwtrevoke

// raceEnabled: the race detector is on, and sync.Pool drops some of what
// it is given, so allocation counts do not hold.
const raceEnabled = true
