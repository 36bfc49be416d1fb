package jwtrevoke

import (
	"crypto"
	"crypto/rsa"

	"github.com/golang-jwt/jwt/v5"
)

// RFC 7518 3.5 fixes the PSS salt length to the hash's output size. The
// PS256/384/512 methods golang-jwt registers accept any salt length when
// verifying; jwtrevoke registers strict ones in their place, so a token
// with another salt length is refused (Wycheproof's SaltLenChanged vectors).
func init() {
	for _, m := range []struct {
		name string
		hash crypto.Hash
	}{{"PS256", crypto.SHA256}, {"PS384", crypto.SHA384}, {"PS512", crypto.SHA512}} {
		method := &jwt.SigningMethodRSAPSS{
			SigningMethodRSA: &jwt.SigningMethodRSA{Name: m.name, Hash: m.hash},
			Options:          &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash},
			VerifyOptions:    &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash},
		}
		jwt.RegisterSigningMethod(m.name, func() jwt.SigningMethod { return method })
	}
}
