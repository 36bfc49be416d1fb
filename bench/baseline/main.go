// Command baseline is the bench's bare net/http server: it answers
// GET /api/me/ with a small JSON body and nothing else (404 otherwise),
// and logs its address as url=http://... as jwtrevoke serve does.
//
// With -headers it also sends the headers jwtrevoke sends on that answer
// (Allow and Vary as SimpleJWT's views do, and the security headers), so
// that the bench can tell what the headers cost from what the token
// check costs.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
)

var body = []byte(`{"id":1,"email":"test@email.com"}`)

// sameHeaders are jwtrevoke's headers on a 200 from GET /api/me/ over
// plain HTTP, but Content-Type, Date and Content-Length, which both send.
var sameHeaders = map[string]string{
	"Allow":                   "GET, HEAD, OPTIONS",
	"Cache-Control":           "no-store",
	"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	"Referrer-Policy":         "no-referrer",
	"Vary":                    "Accept",
	"X-Content-Type-Options":  "nosniff",
	"X-Frame-Options":         "DENY",
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	headers := flag.Bool("headers", false, "also send jwtrevoke's headers (Allow, Vary, security headers)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "msg=\"baseline listening\" url=http://%s\n", ln.Addr())
	if err := http.Serve(ln, handler(*headers)); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

// handler answers GET /api/me/, with sameHeaders when headers is set.
func handler(headers bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/me/", func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		if headers {
			for k, v := range sameHeaders {
				h.Set(k, v)
			}
		}
		_, _ = w.Write(body)
	})
	return mux
}
