package jwtrevoke_test

import (
	"context"
	"fmt"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/password"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// Log in, use the access token, log out: the access token is refused at
// once, not when it expires.
func ExampleService_Logout() {
	ctx := context.Background()
	settings := jwtrevoke.DefaultSettings()
	settings.SigningKey = "an-example-key-of-at-least-32-bytes!"
	svc, err := jwtrevoke.New(ctx, memory.New(), settings, jwtrevoke.Options{Hasher: password.Default()})
	if err != nil {
		panic(err)
	}
	if _, err := svc.CreateUser(ctx, "test@email.com", "test123456", false); err != nil {
		panic(err)
	}
	pair, err := svc.Obtain(ctx, "test@email.com", "test123456", jwtrevoke.ClientInfo{})
	if err != nil {
		panic(err)
	}
	user, claims, err := svc.Authenticate(ctx, pair.Access)
	fmt.Println(user.Email, claims.Type, err)

	fmt.Println(svc.Logout(ctx, claims, pair.Refresh))

	_, _, err = svc.Authenticate(ctx, pair.Access)
	fmt.Println(err)
	_, err = svc.Refresh(ctx, pair.Refresh)
	fmt.Println(err)
	// Output:
	// test@email.com access <nil>
	// <nil>
	// Token is blacklisted
	// Token is blacklisted
}
