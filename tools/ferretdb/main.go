// Command ferretdb runs FerretDB (a MongoDB wire-protocol server on SQLite)
// for the Mongo store's tests, since no MongoDB server can be installed from
// Debian's packages. It is a module of its own so that FerretDB's
// dependencies stay out of jwtrevoke's go.mod.
//
//	go run . -listen 127.0.0.1:27017 -dir /tmp/ferretdb
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "address to listen on")
	dir := flag.String("dir", "ferretdb-data", "directory for the SQLite backend's files")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Printf("ferretdb listening on %s", *listen)
	f.Run(ctx)
}
