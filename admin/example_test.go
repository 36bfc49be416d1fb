package admin_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/admin"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/password"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// Mount the admin pages beside the API: the API serves its routes, and
// hands every path it does not know to the admin handler.
func ExampleNew() {
	ctx := context.Background()
	settings := jwtrevoke.DefaultSettings()
	settings.SigningKey = "example-signing-key-0123456789abcdef"
	svc, err := jwtrevoke.New(ctx, memory.New(), settings, jwtrevoke.Options{Hasher: password.Default()})
	if err != nil {
		log.Fatal(err)
	}
	// Staff users (and superusers) may sign in at /admin/login/.
	if _, err := svc.CreateUser(ctx, "admin@example.com", "s3cret-passw0rd", true); err != nil {
		log.Fatal(err)
	}
	pages := admin.New(svc, admin.Options{
		SecureCookies: true, // behind a TLS-terminating proxy
	})
	srv := httptest.NewServer(httpapi.New(svc, httpapi.Options{NotFound: pages}))
	defer srv.Close()

	// Without a session, a page sends the browser to sign in.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(srv.URL + "/admin/")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Location"))
	fmt.Println(resp.Header.Get("Cache-Control"))
	// Output:
	// 303 /admin/login/
	// no-store
}
