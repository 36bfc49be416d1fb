package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/password"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
	"github.com/jwtrevoke/jwtrevoke/verifier"
)

// A resource server checks the auth server's access tokens itself, with
// the published keys and the revocations of the shared store.
func Example() {
	ctx := context.Background()
	st := memory.New() // in production: the auth server's PostgreSQL or Redis

	// The auth server (ES256, so that its keys are published).
	key, _, _ := jwtrevoke.GenerateKey("ES256")
	settings := jwtrevoke.DefaultSettings()
	settings.Algorithm, settings.SigningKey = "ES256", key
	svc, _ := jwtrevoke.New(ctx, st, settings, jwtrevoke.Options{Hasher: password.Default()})
	auth := httptest.NewServer(httpapi.New(svc, httpapi.Options{}))
	defer auth.Close()
	_, _ = svc.CreateUser(ctx, "ann@example.com", "correct horse", false)
	pair, _ := svc.Obtain(ctx, "ann@example.com", "correct horse", jwtrevoke.ClientInfo{})

	// The resource server.
	v, err := verifier.New(ctx, verifier.Options{
		JWKURL: auth.URL + "/.well-known/jwks.json",
		Store:  st,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go v.Run(ctx)
	defer v.Close()

	claims, err := v.Verify(ctx, pair.Access)
	fmt.Println(claims.UserID, err)
	_, err = v.Verify(ctx, pair.Refresh)
	fmt.Println(errors.Is(err, jwtrevoke.ErrTokenWrongType))
	// Output:
	// 1 <nil>
	// true
}
