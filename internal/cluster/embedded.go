package cluster

import (
	"errors"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Embedded is a NATS server running inside this process, for a single
// node (--nats embedded): the node talks to it without a socket.
type Embedded struct {
	srv *server.Server
}

// StartEmbedded starts an in-process NATS server that listens on no port.
func StartEmbedded() (*Embedded, error) {
	srv, err := server.NewServer(&server.Options{DontListen: true, NoSigs: true, NoLog: true})
	if err != nil {
		return nil, err
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("cluster: the embedded NATS server did not start")
	}
	return &Embedded{srv: srv}, nil
}

// Option connects a Node to the embedded server (Config.Options).
func (e *Embedded) Option() nats.Option { return nats.InProcessServer(e.srv) }

// Close stops the server.
func (e *Embedded) Close() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
