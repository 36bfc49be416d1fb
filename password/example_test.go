package password_test

import (
	"fmt"

	"github.com/jwtrevoke/jwtrevoke/password"
)

func ExampleHasher_Check() {
	h := password.Default()
	// A hash imported from a Django user table.
	const django = "pbkdf2_sha256$1000$seasalt123$DBgLsOXD0F2YQAp7dGqYP0uyNo18lcDqs6fZ5sNzAiE="
	ok, rehash, err := h.Check("django-pass", django)
	fmt.Println(ok, rehash, err)
	// Output: true true <nil>
}
