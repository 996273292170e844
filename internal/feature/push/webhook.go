package push

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/parley-im/parley/internal/store"
)

// SignatureHeader carries the webhook body's HMAC-SHA256 under the
// configured secret: "sha256=" and the lower-case hex digest.
const SignatureHeader = "X-Parley-Signature"

// WebhookOptions configure the HTTP delivery of notifications.
type WebhookOptions struct {
	// URL receives one JSON POST per notification; empty: no webhook.
	URL string
	// Secret is the HMAC-SHA256 key of SignatureHeader. Never logged.
	Secret []byte
	// Timeout bounds one attempt. Default 10s.
	Timeout time.Duration
	// Attempts is how many times a notification is tried. Default 4.
	Attempts int
	// Backoff is the wait before the first retry, doubled for each next
	// one. Default 1s.
	Backoff time.Duration
	// Workers is how many POSTs may be in flight. Default 4.
	Workers int
	// QueueSize bounds the notifications waiting for a worker; more are
	// dropped and counted. Default 1024.
	QueueSize int
	// Client sends the requests; nil means a plain http.Client.
	Client *http.Client
}

// LogValue keeps the secret out of logs.
func (o WebhookOptions) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", o.URL), slog.Bool("signed", len(o.Secret) > 0))
}

func (o *WebhookOptions) defaults() error {
	if o.URL == "" {
		return nil
	}
	if len(o.Secret) == 0 {
		return fmt.Errorf("%w: the webhook needs a secret to sign its requests", ErrInvalidOptions)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	return nil
}

// WebhookPayload is the JSON body of a webhook POST.
type WebhookPayload struct {
	Account           string              `json:"account"`
	Service           string              `json:"service"`
	Node              string              `json:"node"`
	MessageCount      int                 `json:"message_count"`
	LastMessageSender string              `json:"last_message_sender,omitempty"`
	LastMessageBody   string              `json:"last_message_body,omitempty"`
	PublishOptions    map[string][]string `json:"publish_options,omitempty"`
	SentAt            time.Time           `json:"sent_at"`
}

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// webhook posts notifications with a pool of workers.
type webhook struct {
	opts    WebhookOptions
	metrics *Metrics
	log     *slog.Logger
	q       chan []byte // encoded payloads
}

func newWebhook(o WebhookOptions, m *Metrics) *webhook {
	return &webhook{opts: o, metrics: m, log: slog.New(slog.DiscardHandler), q: make(chan []byte, o.QueueSize)}
}

// submit queues one notification; it never blocks.
func (w *webhook) submit(r store.PushRegistration, n notice, includeBody bool) {
	p := WebhookPayload{Account: n.user, Service: r.Service, Node: r.Node, MessageCount: n.count,
		LastMessageSender: n.sender, SentAt: time.Now().UTC()}
	if includeBody {
		p.LastMessageBody = n.body
	}
	for _, f := range r.Options {
		if f.Var == "FORM_TYPE" {
			continue
		}
		if p.PublishOptions == nil {
			p.PublishOptions = make(map[string][]string)
		}
		p.PublishOptions[f.Var] = append(p.PublishOptions[f.Var], f.Values...)
	}
	body, err := json.Marshal(p)
	if err != nil {
		w.metrics.count(outcomeFailed)
		return
	}
	select {
	case w.q <- body:
	default:
		w.metrics.count(outcomeDropped)
	}
}

// run starts the workers; they stop when ctx is done.
func (w *webhook) run(ctx context.Context) {
	for range w.opts.Workers {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case body := <-w.q:
					w.deliver(ctx, body)
				}
			}
		}()
	}
}

// deliver posts body, retrying with backoff on network errors, 429 and 5xx.
func (w *webhook) deliver(ctx context.Context, body []byte) {
	wait := w.opts.Backoff
	for attempt := 1; ; attempt++ {
		retry, err := w.post(ctx, body)
		if err == nil {
			w.metrics.count(outcomeSent)
			return
		}
		if !retry || attempt >= w.opts.Attempts {
			w.metrics.count(outcomeFailed)
			w.log.Warn("push: webhook failed", "webhook", w.opts, "attempts", attempt, "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// errStatus is a webhook answer that is not 2xx.
var errStatus = errors.New("push: webhook status")

// post makes one attempt; retry says whether another may succeed.
func (w *webhook) post(ctx context.Context, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.opts.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(w.opts.Secret, body))
	resp, err := w.opts.Client.Do(req)
	if err != nil {
		return true, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("%w %d", errStatus, resp.StatusCode)
	}
	return false, fmt.Errorf("%w %d", errStatus, resp.StatusCode)
}
