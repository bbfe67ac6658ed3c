// Command referrers-registry serves go-containerregistry's in-memory registry
// on a loopback port for provgate's integration tests, with its OCI 1.1
// referrers API switched on (`crane registry serve` leaves it off) or, with
// -referrers=false, off (a registry that only has the referrers tag schema).
// It prints "serving on port N" once it listens.
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	address := flag.String("address", "127.0.0.1:0", "address to listen on")
	referrers := flag.Bool("referrers", true, "serve the OCI 1.1 referrers API")
	flag.Parse()
	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving on port %d", listener.Addr().(*net.TCPAddr).Port)
	server := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler:           registry.New(registry.WithReferrersSupport(*referrers), registry.Logger(log.New(io.Discard, "", 0))),
	}
	log.Fatal(server.Serve(listener))
}
