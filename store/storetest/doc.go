// Package storetest is the conformance suite every jwtrevoke.Store must
// pass: each store's tests call Run (and RunReopen for durable stores).
// It imports only the domain package and testing.
package storetest
