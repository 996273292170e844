package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/client"
)

func newListenCmd(a *app) *cobra.Command {
	var lf loginFlags
	var opts listenOptions
	cmd := &cobra.Command{
		Use:   "listen [--count N] [--timeout D] [--no-receipts]",
		Short: "Print incoming messages, receipts, markers, typing and presence as JSON lines",
		Long: `Log in, say "available" (which also fetches the messages that waited
on the server while this account was offline) and print what arrives on
standard output, one JSON object per line:

  {"type":"message","from":"alice@localhost/phone","to":"bob@localhost/x",
   "id":"...","stanza_id":"...","body":"hi","delayed":false,
   "wants_receipt":true,"markable":true}
      a message; "delayed" is true for one that waited on the server, and
      "stamp" (RFC 3339) then says since when; "id" is the sender's id
      (what "parley send" printed), "stanza_id" the server's. A file
      adds "caption" and "attachment": {"name","size","media_type",
      "sha256","encrypted"}, and with --download-dir "path" (where the
      decrypted file is) and "verified":true (hash and authentication tag
      checked), or "error".
  {"type":"receipt","from":"...","ids":["..."]}
      the recipient's device got these messages (the ✓✓ tick)
  {"type":"marker","from":"...","kind":"displayed","id":"..."}
      a chat marker: received, displayed (seen) or acknowledged
  {"type":"chatstate","from":"...","state":"composing"}
      typing: active, composing, paused, inactive or gone
  {"type":"presence","from":"...","presence":"available","show":"away","status":"..."}
      "presence" is available, unavailable, subscribe, subscribed, ...

It answers messages that ask for a delivery receipt with one, so their
senders see ✓✓ (--no-receipts to stay silent). With --download-dir DIR
it downloads each file it gets into DIR, checks its SHA-256 and, for an
encrypted one (aesgcm://), decrypts it and checks its tag; a file that
fails a check is not kept. It stops on SIGINT or
SIGTERM (exit status 0), after --count messages (0), or at --timeout: with
--count that is a failure (1), without it a normal end (0). Status lines
(logged in, connection lost) go to standard error.

` + loginHelp,
		Example: `  export PARLEY_PASSWORD=pw-bob
  parley listen --jid bob@localhost --insecure

  # Only message bodies, with jq
  parley listen --jid bob@localhost --insecure | jq -r 'select(.type=="message") | .body'

  # Wait for two messages, at most a minute
  parley listen --jid bob@localhost --insecure --count 2 --timeout 1m`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if opts.count < 0 || opts.timeout < 0 {
				return usagef("--count and --timeout must not be negative")
			}
			if fi, err := os.Stat(opts.downloadDir); opts.downloadDir != "" && (err != nil || !fi.IsDir()) {
				return usagef("--download-dir %q: not a directory", opts.downloadDir)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return listen(ctx, cmd, a, &lf, opts)
		}),
	}
	fs := cmd.Flags()
	fs.IntVar(&opts.count, "count", 0, "exit after this many messages (0: no limit)")
	fs.DurationVar(&opts.timeout, "timeout", 0, "stop after this long (0: no limit)")
	fs.BoolVar(&opts.noReceipts, "no-receipts", false, "do not send delivery receipts")
	fs.StringVar(&opts.downloadDir, "download-dir", "", "download, verify and decrypt incoming files into this directory")
	lf.bind(fs)
	return cmd
}

type listenOptions struct {
	count       int
	timeout     time.Duration
	noReceipts  bool
	downloadDir string
}

// errListenTimeout ends a listen whose --count was not reached in time.
var errListenTimeout = errors.New("timed out")

// listen logs in and prints events until ctx ends or the count is reached.
func listen(ctx context.Context, cmd *cobra.Command, a *app, lf *loginFlags, o listenOptions) error {
	c, _, err := lf.login(ctx, cmd, a, true)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetPresence("", ""); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "parley: listening as %s\n", c.JID())
	var deadline <-chan time.Time
	if o.timeout > 0 {
		t := time.NewTimer(o.timeout)
		defer t.Stop()
		deadline = t.C
	}
	l := &listener{ctx: ctx, a: a, c: c, enc: json.NewEncoder(a.stdout), o: o}
	err = l.loop(ctx, deadline)
	if errors.Is(err, errListenTimeout) {
		return fmt.Errorf("timed out after %v with %d of %d messages", o.timeout, l.messages, o.count)
	}
	return err
}

// listener prints one client's events.
type listener struct {
	ctx      context.Context
	a        *app
	c        *client.Client
	enc      *json.Encoder
	o        listenOptions
	messages int
}

func (l *listener) loop(ctx context.Context, deadline <-chan time.Time) error {
	for {
		select {
		case e, ok := <-l.c.Events():
			if !ok {
				return errors.New("connection closed")
			}
			if err := l.handle(e); err != nil {
				return err
			}
			if l.o.count > 0 && l.messages >= l.o.count {
				l.flush(ctx)
				return nil
			}
		case <-deadline:
			if l.o.count > 0 {
				return errListenTimeout
			}
			return nil
		case <-ctx.Done():
			return nil // a signal: a normal end
		}
	}
}

// handle prints e and answers a message's receipt request.
func (l *listener) handle(e client.Event) error {
	switch e := e.(type) {
	case *client.Connected:
		if e.Resumed {
			fmt.Fprintf(l.a.stderr, "parley: reconnected as %s (resumed)\n", e.JID)
		}
		return nil
	case *client.Disconnected:
		fmt.Fprintf(l.a.stderr, "parley: connection lost (%v); reconnecting\n", e.Err)
		return nil
	case *client.Message:
		l.messages++
		j := messageJSON(e)
		if e.Attachment != nil {
			j.Attachment = saveAttachment(l.ctx, l.c, e.Attachment, l.o.downloadDir)
		}
		if err := l.enc.Encode(j); err != nil {
			return err
		}
		if e.WantsReceipt && !l.o.noReceipts {
			return l.c.SendReceipt(e.From, e.ID)
		}
		return nil
	}
	if v := eventJSON(e); v != nil {
		return l.enc.Encode(v)
	}
	return nil
}

// flush waits (briefly) until the server has handled what we sent, such
// as the last receipt, before the connection closes.
func (l *listener) flush(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = l.c.Ping(ctx) // the server handles a stream's stanzas in order
}

// The JSON lines of listen, one type per event.
type (
	jsonMessage struct {
		Type         string `json:"type"`
		From         string `json:"from"`
		To           string `json:"to"`
		ID           string `json:"id"`
		StanzaID     string `json:"stanza_id,omitempty"`
		Body         string `json:"body"`
		Delayed      bool   `json:"delayed"`
		Stamp        string `json:"stamp,omitempty"`
		WantsReceipt bool   `json:"wants_receipt"`
		Markable     bool   `json:"markable"`
		Caption      string `json:"caption,omitempty"`
		// Attachment is the message's file, if any.
		Attachment *attachmentJSON `json:"attachment,omitempty"`
	}
	jsonReceipt struct {
		Type string   `json:"type"`
		From string   `json:"from"`
		IDs  []string `json:"ids"`
	}
	jsonMarker struct {
		Type string `json:"type"`
		From string `json:"from"`
		Kind string `json:"kind"`
		ID   string `json:"id"`
	}
	jsonChatState struct {
		Type  string `json:"type"`
		From  string `json:"from"`
		State string `json:"state"`
	}
	jsonPresence struct {
		Type     string `json:"type"`
		From     string `json:"from"`
		Presence string `json:"presence"`
		Show     string `json:"show,omitempty"`
		Status   string `json:"status,omitempty"`
	}
)

func messageJSON(m *client.Message) jsonMessage {
	j := jsonMessage{Type: "message", From: m.From, To: m.To, ID: m.ID, StanzaID: m.StanzaID, Body: m.Body,
		Delayed: !m.Delayed.IsZero(), WantsReceipt: m.WantsReceipt, Markable: m.Markable, Caption: m.Caption}
	if j.Delayed {
		j.Stamp = m.Delayed.UTC().Format(time.RFC3339Nano)
	}
	return j
}

// eventJSON is the JSON line of a non-message event, or nil for those
// listen does not print.
func eventJSON(e client.Event) any {
	switch e := e.(type) {
	case *client.Receipt:
		return jsonReceipt{Type: "receipt", From: e.From, IDs: e.IDs}
	case *client.Marker:
		return jsonMarker{Type: "marker", From: e.From, Kind: e.Kind, ID: e.ID}
	case *client.ChatState:
		return jsonChatState{Type: "chatstate", From: e.From, State: e.State}
	case *client.Presence:
		p := jsonPresence{Type: "presence", From: e.From, Presence: e.Type, Show: e.Show, Status: e.Status}
		if p.Presence == "" {
			p.Presence = "available"
		}
		return p
	}
	return nil
}
