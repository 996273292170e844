package push

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// TestWebhookSignsRetriesAndKeepsSecrets: the POST carries the facts but no
// body, an HMAC-SHA256 signature a receiver can check, is retried after a
// 503, and neither secret appears in the logs.
func TestWebhookSignsRetriesAndKeepsSecrets(t *testing.T) {
	secret := []byte("webhook-key-do-not-log")
	var calls atomic.Int32
	got := make(chan WebhookPayload, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(SignatureHeader) != Sign(secret, body) {
			t.Errorf("bad signature %q", r.Header.Get(SignatureHeader))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var p WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Error(err)
		}
		got <- p
	}))
	defer srv.Close()

	var logs bytes.Buffer
	o := WebhookOptions{URL: srv.URL, Secret: secret, Backoff: 10 * time.Millisecond, Attempts: 3}
	if err := o.defaults(); err != nil {
		t.Fatal(err)
	}
	w := newWebhook(o, nil)
	w.log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.run(ctx)
	reg := store.PushRegistration{Service: "app.example.org", Node: "n1", Options: []store.PushField{
		{Var: "FORM_TYPE", Values: []string{NSPublishOptions}}, {Var: "secret", Values: []string{"app-secret-do-not-log"}}}}
	w.submit(reg, notice{user: "bob@x", count: 2, sender: "alice@x", body: "private text"}, false)

	select {
	case p := <-got:
		if p.Account != "bob@x" || p.Service != "app.example.org" || p.Node != "n1" || p.MessageCount != 2 ||
			p.LastMessageSender != "alice@x" || p.LastMessageBody != "" || p.PublishOptions["secret"][0] != "app-secret-do-not-log" {
			t.Fatalf("payload %+v", p)
		}
		if _, ok := p.PublishOptions["FORM_TYPE"]; ok {
			t.Fatalf("FORM_TYPE sent: %+v", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook call succeeded")
	}
	if calls.Load() != 2 {
		t.Fatalf("%d calls, want 2 (one retry)", calls.Load())
	}

	// A receiver that keeps failing: the attempts are bounded and logged
	// without the secrets.
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer fail.Close()
	w.opts.URL = fail.URL
	w.deliver(ctx, []byte(`{"account":"bob@x"}`))
	if !strings.Contains(logs.String(), "webhook failed") {
		t.Fatalf("failure not logged: %s", logs.String())
	}
	for _, s := range []string{string(secret), "app-secret-do-not-log", "private text"} {
		if strings.Contains(logs.String(), s) {
			t.Fatalf("logs contain %q: %s", s, logs.String())
		}
	}
}

func TestWebhookClientErrorIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer srv.Close()
	o := WebhookOptions{URL: srv.URL, Secret: []byte("k"), Backoff: time.Millisecond}
	if err := o.defaults(); err != nil {
		t.Fatal(err)
	}
	newWebhook(o, nil).deliver(context.Background(), []byte("{}"))
	if calls.Load() != 1 {
		t.Fatalf("%d calls for a 400, want 1", calls.Load())
	}
}
