// Package memory is an in-memory jwtrevoke.Store: the reference
// implementation of the store contract, and a throwaway store (memory://)
// for tests and demos. Nothing survives the process.
package memory
