package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/servertest"
)

// callStats is the page's window.parleyCallStats(): the current call's
// RTCPeerConnection state, inbound RTP bytes per kind and the selected
// candidate pair's types.
type callStats struct {
	ConnectionState string `json:"connectionState"`
	Audio, Video    int64
	LocalType       string `json:"localType"`
	RemoteType      string `json:"remoteType"`
}

func (b *browser) stats() callStats {
	b.t.Helper()
	var s callStats
	if err := json.Unmarshal(b.do("eval", "expr", `window.parleyCallStats()`), &s); err != nil {
		b.t.Fatalf("call stats: %v", err)
	}
	return s
}

// link pairs the page open now as a device of phone's account.
func link(t *testing.T, b *browser, phone *client.Client, url string) {
	t.Helper()
	b.do("open", "url", url)
	payload := b.str("qr", "name", "qr-"+strings.Split(phone.JID(), "@")[0])
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := phone.Link(ctx, payload, "Chromium"); err != nil {
		t.Fatalf("link %s: %v", phone.JID(), err)
	}
	b.do("wait", "selector", `[data-testid="chat-list"]`)
	b.do("waitAttr", "selector", "body", "attr", "data-connection", "value", "online")
	// Relay every call through Parley's TURN relay: media can flow no other way.
	b.do("eval", "expr", `localStorage.setItem('parley.relayCalls', '1')`)
}

func state(want string) []any {
	return []any{"selector", `[data-testid="call-state"]`, "attr", "data-state", "value", want, "timeout", 15000}
}

const (
	alicePage = 0
	bobPage   = 1
)

// TestWebCalls: two headless Chromium pages (alice and bob, each a linked
// device of its account) call each other with relay-only ICE through the
// embedded TURN relay: video both ways, mute and camera off, hang-up with
// the call's entry in both chats; busy; decline; a missed call (the ring
// timeout, short here) with its entry; and ringing that stops on the page
// when another device of the account answers.
func TestWebCalls(t *testing.T) {
	b := startBrowser(t)
	start := time.Now()
	// A ring timeout short for the missed call, long enough to answer on a loaded machine.
	srv := servertest.Start(t, func(c *config.Config) { c.CallRingTimeout = 8 * time.Second })
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		srv.AddUser(t, u+"@localhost", "pw-"+u)
	}
	alice, bob := dial(t, srv, "alice@localhost/phone"), dial(t, srv, bobJID+"/phone")
	carol, dave := dial(t, srv, carolJID+"/phone"), dial(t, srv, "dave@localhost/phone")
	befriend(t, alice, bob)
	befriend(t, bob, alice)
	befriend(t, alice, carol)
	base := "http://" + srv.HTTP + "/"
	link(t, b, alice, base)
	b.do("newUser")
	link(t, b, bob, base)
	on := func(i int) { b.do("usePage", "index", i) }

	// 1. alice calls bob with video; bob accepts on the page.
	on(alicePage)
	b.do("click", "selector", item(bobJID))
	b.do("click", "selector", `[data-testid="call-start"][data-media="video"]`)
	on(bobPage)
	b.do("waitAttr", state("ringing")...)
	b.do("waitText", "selector", `[data-testid="call-state"]`, "text", "Incoming video call")
	b.shot("incoming")
	next(t, bob, func(e *client.CallEvent) bool { return e.Kind == "offer" }) // the phone rings too
	b.do("click", "selector", `[data-testid="call-accept"]`)
	next(t, bob, func(e *client.CallEvent) bool { return e.Kind == "terminate" && e.Reason == "answered-elsewhere" })
	b.do("waitAttr", state("connected")...)
	on(alicePage)
	b.do("waitAttr", state("connected")...)
	connected := time.Since(start)

	// Media flows both ways, and only through the relay: both pages send
	// from their relayed addresses, and Parley's relay carried at least
	// the bytes both pages received.
	var inbound int64
	for _, p := range []int{alicePage, bobPage} {
		on(p)
		first := waitMedia(t, b, callStats{}, true)
		second := waitMedia(t, b, first, true)
		// Each page's own end of the pair is its relayed address (the other
		// end may show as prflx when checks outrun the trickled candidate).
		if first.LocalType != "relay" {
			t.Fatalf("page %d: the selected candidate pair is %s -> %s, want a relay local candidate", p, first.LocalType, first.RemoteType)
		}
		inbound += second.Audio + second.Video
		t.Logf("page %d: inbound audio %d -> %d bytes, video %d -> %d bytes", p, first.Audio, second.Audio, first.Video, second.Video)
	}
	if relayed := relayedBytes(t, srv.HTTP); relayed < inbound {
		t.Fatalf("the TURN relay carried %d bytes, less than the %d media bytes the pages received", relayed, inbound)
	} else {
		t.Logf("the TURN relay carried %d bytes (the pages received %d bytes of RTP payload)", relayed, inbound)
	}
	b.do("waitText", "selector", `[data-testid="call-duration"]`, "text", "0:0")
	b.shot("connected")

	// 2. bob is in a call: carol's call to him is busy, and nothing rings on his page.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := carol.StartCall(ctx, bobJID, client.Audio, "v=0"); !errors.Is(err, client.ErrCallBusy) {
		t.Fatalf("carol calling bob during his call: %v, want busy", err)
	}
	// Mute and camera off are buttons with a pressed state.
	b.do("click", "selector", `[data-testid="call-mute"]`)
	b.do("waitAttr", "selector", `[data-testid="call-mute"]`, "attr", "aria-pressed", "value", "true")
	b.do("focus", "selector", `[data-testid="call-camera"]`)
	b.do("keyboard", "key", "Enter")
	b.do("waitAttr", "selector", `[data-testid="call-camera"]`, "attr", "aria-pressed", "value", "true")
	b.do("wait", "selector", "#local-video", "state", "hidden")

	// alice hangs up: both see the call end, and the call with its duration in the chat.
	on(alicePage)
	b.do("click", "selector", `[data-testid="call-hangup"]`)
	b.do("waitAttr", state("ended")...)
	b.do("waitText", "selector", `[data-testid="call-entry"][data-result="answered"]`, "text", "Video call · 0:")
	on(bobPage)
	b.do("waitAttr", state("ended")...)
	b.do("click", "selector", item("alice@localhost"))
	b.do("waitText", "selector", `[data-testid="call-entry"][data-result="answered"]`, "text", "Video call · 0:")
	b.shot("ended")

	// 3. Busy: carol rings dave; alice's call to carol gets busy.
	if _, err := dave.StartCall(ctx, carolJID, client.Audio, "v=0"); err != nil {
		t.Fatal(err)
	}
	on(alicePage)
	b.do("click", "selector", item(carolJID))
	b.do("click", "selector", `[data-testid="call-start"][data-media="audio"]`)
	b.do("waitAttr", state("busy")...)
	b.do("waitText", "selector", `[data-testid="call-entry"][data-result="busy"]`, "text", "Voice call · Busy")
	b.shot("busy")
	offer := next(t, carol, func(e *client.CallEvent) bool { return e.Kind == "offer" })
	if err := dave.HangUp(ctx, offer.ID); err != nil {
		t.Fatal(err)
	}

	// 4. Decline: bob declines alice's voice call on his page.
	b.do("click", "selector", item(bobJID))
	b.do("click", "selector", `[data-testid="call-start"][data-media="audio"]`)
	on(bobPage)
	b.do("waitAttr", state("ringing")...)
	b.do("click", "selector", `[data-testid="call-decline"]`)
	b.do("waitAttr", state("declined")...)
	on(alicePage)
	b.do("waitAttr", state("declined")...)
	b.do("waitText", "selector", `[data-testid="call-entry"][data-result="declined"]`, "text", "Voice call · Declined")

	// 4b. A voice call the other way: bob calls from his page, alice answers on hers.
	on(bobPage)
	b.do("click", "selector", `[data-testid="call-start"][data-media="audio"]`)
	on(alicePage)
	b.do("waitText", "selector", `[data-testid="call-state"]`, "text", "Incoming audio call")
	b.do("click", "selector", `[data-testid="call-accept"]`)
	b.do("waitAttr", state("connected")...)
	voice := waitMedia(t, b, callStats{}, false)
	if voice.Video != 0 || voice.LocalType != "relay" {
		t.Fatalf("voice call: %+v, want audio only over the relay", voice)
	}
	on(bobPage)
	b.do("waitAttr", state("connected")...)
	waitMedia(t, b, callStats{}, false)
	b.do("click", "selector", `[data-testid="call-hangup"]`)
	on(alicePage)
	b.do("waitAttr", state("ended")...)
	b.do("waitText", "selector", `[data-testid="call-entry"][data-result="answered"]`, "text", "Voice call · 0:")

	// 5. Missed: nobody answers alice's call within the ring timeout.
	b.do("click", "selector", `[data-testid="call-start"][data-media="audio"]`)
	b.do("waitAttr", state("ringing")...) // bob's devices ring
	on(bobPage)
	b.do("waitAttr", state("ringing")...)
	b.do("waitAttr", state("missed")...)
	b.do("waitText", "selector", item("alice@localhost"), "text", "Missed voice call")
	b.do("waitText", "selector", `[data-testid="call-entry"][data-result="missed"]`, "text", "Missed voice call")
	b.do("click", "selector", `[data-testid="call-close"]`) // the call screen closes; the chat shows every call
	b.do("wait", "selector", "#call", "state", "hidden")
	if n := b.num("count", "selector", `[data-testid="call-entry"]`); n != 4 {
		t.Fatalf("bob's chat with alice shows %d call entries, want 4 (video, declined, voice, missed)", n)
	}
	b.shot("missed")
	// After a reload: the missed call comes back from the archive (a stored
	// message), the others from this browser's storage.
	b.do("reload")
	b.do("waitAttr", "selector", "body", "attr", "data-history", "value", "loaded")
	b.do("click", "selector", item("alice@localhost"))
	b.do("waitText", "selector", `[data-testid="call-entry"][data-result="missed"]`, "text", "Missed voice call")
	if n := b.num("count", "selector", `[data-testid="call-entry"]`); n != 4 {
		t.Fatalf("after a reload bob's chat with alice shows %d call entries, want 4", n)
	}
	b.do("waitAttr", "selector", "body", "attr", "data-connection", "value", "online")
	on(alicePage)
	b.do("waitAttr", state("missed")...)
	b.do("waitText", "selector", `[data-testid="call-entry"][data-result="missed"]`, "text", "Voice call · No answer")

	// 5b. alice hangs up while it rings: cancelled for her, a missed call for bob.
	b.do("click", "selector", `[data-testid="call-start"][data-media="audio"]`)
	b.do("waitAttr", state("ringing")...)
	on(bobPage)
	b.do("waitAttr", state("ringing")...)
	on(alicePage)
	b.do("click", "selector", `[data-testid="call-hangup"]`)
	b.do("waitText", "selector", `[data-testid="call-entry"][data-result="cancelled"]`, "text", "Voice call · Cancelled")
	on(bobPage)
	b.do("waitAttr", state("missed")...)
	b.do("wait", "selector", `[data-result="missed"] ~ [data-testid="call-entry"][data-result="missed"]`) // a second missed call in the chat

	// 6. Ringing stops on the page when another device of the account answers.
	id, err := alice.StartCall(ctx, bobJID, client.Audio, "v=0")
	if err != nil {
		t.Fatal(err)
	}
	on(bobPage)
	b.do("waitAttr", state("ringing")...)
	next(t, bob, func(e *client.CallEvent) bool { return e.Kind == "offer" && e.ID == id })
	if err := bob.AcceptCall(ctx, id, "v=0"); err != nil {
		t.Fatal(err)
	}
	b.do("waitAttr", state("ended")...)
	b.do("waitText", "selector", `[data-testid="call-state"]`, "text", "Answered on another device")
	if err := alice.HangUp(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{alicePage, bobPage} {
		on(p)
		b.noCSPViolations()
	}
	t.Logf("connected after %v; calls scenario took %v", connected.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// relayedBytes reads the bytes the TURN relay carried (both directions)
// from the server's /metrics.
func relayedBytes(t *testing.T, httpAddr string) int64 {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "parley_turn_relayed_bytes_total{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("/metrics: %q: %v", line, err)
		}
		n += int64(v)
	}
	return n
}

// waitMedia polls the page's call statistics until the call is connected
// and the inbound audio bytes (and video ones, for a video call) exceed
// prev's.
func waitMedia(t *testing.T, b *browser, prev callStats, video bool) callStats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := b.stats()
		if s.ConnectionState == "connected" && s.Audio > prev.Audio && (!video || s.Video > prev.Video) {
			return s
		}
		if time.Now().After(deadline) {
			b.shot("no-media")
			t.Fatalf("inbound media did not grow: %+v, before %+v", s, prev)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
