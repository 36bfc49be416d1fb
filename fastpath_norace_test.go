//go:build !race

package jwtrevoke

const raceEnabled = false
