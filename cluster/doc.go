// Package cluster holds the end-to-end tests of a jwtrevoke cluster: several
// real `jwtrevoke serve` processes on one shared store, where a logout on
// one instance must be refused by every other at once. It has no code of
// its own.
package cluster
