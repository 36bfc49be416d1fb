// Command baseline is the bench's bare net/http server: it answers
// GET /api/me/ with a small JSON body and nothing else (404 otherwise),
// and logs its address as url=http://... as jwtrevoke serve does.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
)

var body = []byte(`{"id":1,"email":"test@email.com"}`)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/me/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	fmt.Fprintf(os.Stderr, "msg=\"baseline listening\" url=http://%s\n", ln.Addr())
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}
