package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/client"
)

// The ticks send can wait for, in order.
const (
	tickSent      = "sent"
	tickDelivered = "delivered"
	tickSeen      = "seen"
)

var tickOrder = []string{tickSent, tickDelivered, tickSeen}

func newSendCmd(a *app) *cobra.Command {
	var lf loginFlags
	var to, wait, file, group string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "send (--to JID | --group ID) [--wait sent|delivered|seen] (TEXT | --file PATH [CAPTION])",
		Short: "Send one message and wait for its tick",
		Long: `Log in, send TEXT to the account --to, wait for the "sent" tick (the server
has stored the message: its stream-management ack) and print the message's
id on standard output.

With --wait delivered it then waits for the recipient's delivery receipt
(✓✓), with --wait seen for their "displayed" marker. --timeout bounds the
whole run. The exit status is 0 once the tick came, 1 on any failure
(login refused, no such account or another server's address, connection
lost, timed out), 2 on a usage error.

With --file it sends a file instead, with an optional caption: the file
is encrypted on this machine with a fresh random key (AES-256-GCM, the
aesgcm:// URLs of XEP-0454 that OMEMO apps open too), uploaded to the
server's media service (XEP-0363; resumed after a broken connection), and
the message carries its URL, with the key in the URL's fragment, and its
size, type, SHA-256 and, for an image, a thumbnail. The server stores only
ciphertext, but it routes the message and so could read the key: chats are
not end-to-end encrypted. A progress bar shows on standard error when it
is a terminal. --timeout defaults to 10m with --file.

With --group it posts TEXT to a group (its id or address, see "parley
group") and waits for the "sent" tick: the server has stored the message
for the group; every member gets it.

` + loginHelp,
		Example: `  # Against "parley serve" on this machine (self-signed certificate)
  export PARLEY_PASSWORD=pw-alice
  parley send --jid alice@localhost --insecure --to bob@localhost "Lunch at 1?"

  # Wait until bob's device has it, at most 10 seconds
  printf '%s\n' "$PW" | parley send --jid alice@localhost --password-stdin \
    --insecure --to bob@localhost --wait delivered --timeout 10s "On my way"

  # To a group
  parley send --jid alice@localhost --insecure --group k3v7q2m4xw6tj5ra "Saturday 9am"

  # A photo with a caption
  parley send --jid alice@localhost --insecure --to bob@localhost --file cat.jpg "Look!"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if file != "" && len(args) > 1 {
				return usagef("--file takes at most one argument, the caption (quote it)")
			}
			if file != "" {
				return nil
			}
			return exactArgs(1, "the message text")(cmd, args)
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(tickOrder, wait) {
				return usagef("invalid --wait %q: want sent, delivered or seen", wait)
			}
			if group != "" && to != "" {
				return usagef("--to and --group do not go together")
			}
			if group != "" {
				return sendGroup(cmd, a, &lf, group, args, wait, file, timeout)
			}
			if to == "" {
				return usagef("missing the recipient: add --to bob@localhost")
			}
			if file != "" && !cmd.Flags().Changed("timeout") {
				timeout = 10 * time.Minute
			}
			if file == "" && args[0] == "" {
				return usagef("empty message refused")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if file != "" {
				return sendFile(ctx, cmd, a, &lf, to, file, strings.Join(args, ""), wait)
			}
			return send(ctx, cmd, a, &lf, to, args[0], wait)
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&to, "to", "", "the recipient, bob@localhost")
	fs.StringVar(&group, "group", "", "post to this group instead (its id or address)")
	fs.StringVar(&wait, "wait", tickSent, "the tick to wait for: sent, delivered or seen")
	fs.DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long (login included; 10m with --file)")
	fs.StringVar(&file, "file", "", "send this file (encrypted) instead of a text; an argument, if any, is its caption")
	lf.bind(fs)
	return cmd
}

// sendGroup logs in, posts a text to a group and waits for the "sent" tick.
func sendGroup(cmd *cobra.Command, a *app, lf *loginFlags, group string, args []string, wait, file string, timeout time.Duration) error {
	switch {
	case file != "":
		return usagef("--file does not go with --group yet")
	case wait != tickSent:
		return usagef("--group waits only for the sent tick")
	case len(args) != 1 || args[0] == "":
		return usagef("missing the message text")
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, _, err := lf.login(ctx, cmd, a, false)
	if err != nil {
		return err
	}
	defer c.Close()
	id, err := c.SendGroupMessage(groupAddress(c, group), args[0])
	if err != nil {
		return err
	}
	return waitTick(ctx, a, c, id, tickSent)
}

// send logs in, sends body to to and waits for the wanted tick.
func send(ctx context.Context, cmd *cobra.Command, a *app, lf *loginFlags, to, body, wait string) error {
	c, _, err := lf.login(ctx, cmd, a, false)
	if err != nil {
		return err
	}
	defer c.Close()
	id, err := c.SendMessage(bareJID(to), body)
	if err != nil {
		return err
	}
	return waitTick(ctx, a, c, id, wait)
}

// waitTick follows the ticks of message id until want, printing the id at
// the sent tick. A message the server refuses fails: its error comes
// before the ack that would have been its sent tick, so even a wait for
// "sent" sees it.
func waitTick(ctx context.Context, a *app, c *client.Client, id, want string) error {
	got := -1 // index in tickOrder of the best tick so far
	target := slices.Index(tickOrder, want)
	for got < target {
		select {
		case e, ok := <-c.Events():
			if !ok {
				return fmt.Errorf("connection closed before the %s tick of message %s", tickOrder[got+1], id)
			}
			if err := waitEventErr(e, id, tickOrder[got+1]); err != nil {
				return err
			}
			t := tickOf(e, id)
			if t > got && got < 0 {
				fmt.Fprintln(a.stdout, id) // any later tick implies the server stored it
			}
			got = max(got, t)
		case <-ctx.Done():
			return waitErr(ctx, id, tickOrder[got+1], got >= 0)
		}
	}
	return nil
}

// tickOf returns the index in tickOrder of the tick e gives message id, or
// -1.
func tickOf(e client.Event, id string) int {
	switch e := e.(type) {
	case *client.Sent:
		if e.ID == id {
			return 0
		}
	case *client.Receipt:
		if slices.Contains(e.IDs, id) {
			return 1
		}
	case *client.Marker:
		if e.ID == id && (e.Kind == "received" || e.Kind == "displayed") {
			return map[string]int{"received": 1, "displayed": 2}[e.Kind]
		}
	}
	return -1
}

// waitEventErr is the error e ends a wait for the tick of message id with,
// or nil.
func waitEventErr(e client.Event, id, tick string) error {
	if f, ok := e.(*client.MessageFailed); ok && f.ID == id {
		return errors.New(failureText(f))
	}
	if err := disconnectErr(e); err != nil {
		return fmt.Errorf("connection lost before the %s tick of message %s: %w", tick, id, err)
	}
	return nil
}

// failureText says why the server refused a message: "nobody@localhost: no
// such account (service-unavailable)".
func failureText(f *client.MessageFailed) string { return f.To + ": " + failureReason(f) }

// failureReason is the server's text, or what the condition means for a
// message, then the condition: the text alone may be vague, the condition
// alone cryptic.
func failureReason(f *client.MessageFailed) string {
	why := f.Text
	if why == "" {
		why = map[string]string{
			"service-unavailable":     "no such account",
			"remote-server-not-found": "no such server",
		}[f.Condition]
	}
	if why == "" {
		return "refused (" + f.Condition + ")"
	}
	return why + " (" + f.Condition + ")"
}

func disconnectErr(e client.Event) error {
	if d, ok := e.(*client.Disconnected); ok {
		if d.Err == nil {
			return errors.New("closed by the server")
		}
		return d.Err
	}
	return nil
}

func waitErr(ctx context.Context, id, tick string, stored bool) error {
	what := "timed out"
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		what = "interrupted"
	}
	if stored {
		return fmt.Errorf("%s waiting for the %s tick of message %s (the server has stored it: it will be delivered)", what, tick, id)
	}
	return fmt.Errorf("%s waiting for the %s tick of message %s (the server may not have it)", what, tick, id)
}
