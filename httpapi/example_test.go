package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/password"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// exampleService returns a service over a memory store with one user.
func exampleService() *jwtrevoke.Service {
	ctx := context.Background()
	settings := jwtrevoke.DefaultSettings()
	settings.SigningKey = "an-example-key-of-at-least-32-bytes!"
	// password.Default() in production; cheap parameters keep the example fast.
	svc, err := jwtrevoke.New(ctx, memory.New(), settings, jwtrevoke.Options{
		Hasher: &password.Hasher{Memory: 64, Time: 1, Threads: 1},
	})
	if err != nil {
		panic(err)
	}
	if _, err := svc.CreateUser(ctx, "test@email.com", "test123456", false); err != nil {
		panic(err)
	}
	return svc
}

// call sends a request and returns the status and body.
func call(method, url, bearer, body string) (int, string) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Mount the API beside your own routes, protect one of them with
// h.Protect, log in, call it, log out: the access token is refused at
// once, not when it expires.
func ExampleHandler() {
	h := httpapi.New(exampleService(), httpapi.Options{})

	mux := http.NewServeMux()
	mux.Handle("/api/", h)
	mux.Handle("GET /hello", h.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", httpapi.UserFromContext(r.Context()).Email)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	_, body := call("POST", srv.URL+"/api/token/", "", `{"email": "test@email.com", "password": "test123456"}`)
	var pair struct{ Refresh, Access string }
	if err := json.Unmarshal([]byte(body), &pair); err != nil {
		panic(err)
	}

	fmt.Println(call("GET", srv.URL+"/hello", pair.Access, ""))
	fmt.Println(call("GET", srv.URL+"/api/me/", pair.Access, ""))
	fmt.Println(call("POST", srv.URL+"/api/logout/", pair.Access, `{"refresh": "`+pair.Refresh+`"}`))
	fmt.Println(call("GET", srv.URL+"/hello", pair.Access, ""))
	fmt.Println(call("POST", srv.URL+"/api/token/refresh/", "", `{"refresh": "`+pair.Refresh+`"}`))
	// Output:
	// 200 hello test@email.com
	// 200 {"id":1,"email":"test@email.com"}
	// 205 {"detail":"Logout successful."}
	// 401 {"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is blacklisted"}]}
	// 401 {"detail":"Token is blacklisted","code":"token_not_valid"}
}

// Authenticate alone never refuses a request: it records who the caller is
// (or why not), for routes that serve anonymous callers too.
func ExampleHandler_Authenticate() {
	svc := exampleService()
	h := httpapi.New(svc, httpapi.Options{})
	greet := h.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := httpapi.UserFromContext(r.Context()); u != nil {
			fmt.Fprintf(w, "welcome back, %s", u.Email)
			return
		}
		err := httpapi.ErrorFromContext(r.Context())
		reason := err.Error()
		for _, e := range []error{jwtrevoke.ErrTokenInvalid, jwtrevoke.ErrTokenWrongType, jwtrevoke.ErrTokenBlacklisted} {
			if errors.Is(err, e) {
				reason = e.Error()
			}
		}
		fmt.Fprintf(w, "hello, stranger (%s)", reason)
	}))
	srv := httptest.NewServer(greet)
	defer srv.Close()

	pair, err := svc.Obtain(context.Background(), "test@email.com", "test123456", jwtrevoke.ClientInfo{})
	if err != nil {
		panic(err)
	}
	fmt.Println(call("GET", srv.URL, pair.Access, ""))
	fmt.Println(call("GET", srv.URL, "", ""))
	fmt.Println(call("GET", srv.URL, "not-a-token", ""))
	fmt.Println(call("GET", srv.URL, pair.Refresh, ""))
	// Output:
	// 200 welcome back, test@email.com
	// 200 hello, stranger (authentication credentials were not provided)
	// 200 hello, stranger (Token is invalid or expired)
	// 200 hello, stranger (Token has wrong type)
}
