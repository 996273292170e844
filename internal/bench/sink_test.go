package bench

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestSinkAbsorbsTheGeneratorsTraffic runs the generator's binary devices
// against the sink over TLS: every message is acknowledged and arrives once,
// in order, so a run against the sink measures the generator's own limits.
func TestSinkAbsorbsTheGeneratorsTraffic(t *testing.T) {
	sink, err := NewSink("localhost")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- sink.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	cfg := Config{Addr: ln.Addr().String(), Devices: 10, Password: "any", Binary: true, Insecure: true, Mechanism: "PLAIN"}
	if err := cfg.fill(); err != nil {
		t.Fatal(err)
	}
	cfg.Rates = []int{500}
	cfg.StepDuration, cfg.Drain = time.Second, 5*time.Second
	r, err := Run(context.Background(), cfg, []string{ScenarioLogin, ScenarioThroughput})
	if err != nil {
		t.Fatal(err)
	}
	if r.Login == nil || r.Login.Devices != 10 {
		t.Fatalf("login: %+v", r.Login)
	}
	if len(r.Steps) != 1 {
		t.Fatalf("steps: %+v", r.Steps)
	}
	s := r.Steps[0]
	if s.Sent < 250 || s.Delivered != s.Sent || s.Lost != 0 || s.Duplicated != 0 || s.Reordered != 0 {
		t.Fatalf("step: %+v", s)
	}
	if got := sink.Messages.Load(); got != s.Sent {
		t.Errorf("the sink received %d messages, the generator sent %d", got, s.Sent)
	}
}
