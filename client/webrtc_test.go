package client_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/servertest"
)

// relayOnlyPeer is a pion WebRTC peer that may only use TURN candidates of
// the services the chat server announced (iceTransportPolicy 'relay').
func relayOnlyPeer(t *testing.T, c *client.Client) *webrtc.PeerConnection {
	t.Helper()
	services, err := c.RelayServices(ctx10(t))
	if err != nil {
		t.Fatal(err)
	}
	var ice []webrtc.ICEServer
	for _, s := range services {
		if s.Type == "turn" && s.Transport == "udp" {
			ice = append(ice, webrtc.ICEServer{URLs: []string{s.URL()}, Username: s.Username, Credential: s.Password})
		}
	}
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{ICEServers: ice, ICETransportPolicy: webrtc.ICETransportPolicyRelay})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

// TestWebRTCThroughTheRelay: two pion WebRTC peers, alice and bob, with
// relay-only ICE through Parley's embedded TURN relay, signal a call
// through Parley (alice's offer with its candidates, bob's answer, then
// bob's candidates trickled through the server) and exchange data over a
// DataChannel both ways; the relay's metrics show the bytes.
func TestWebRTCThroughTheRelay(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice := dial(t, srv, "alice@localhost/web", "pw-alice", binary(srv))
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	available(t, alice, bob)
	ctx := ctx10(t)

	apc, bpc := relayOnlyPeer(t, alice), relayOnlyPeer(t, bob)
	bobGot := make(chan string, 1)
	bpc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			bobGot <- string(m.Data)
			_ = dc.SendText("hello alice")
		})
	})
	dc, err := apc.CreateDataChannel("chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	aliceGot := make(chan string, 1)
	dc.OnOpen(func() { _ = dc.SendText("hello bob") })
	dc.OnMessage(func(m webrtc.DataChannelMessage) { aliceGot <- string(m.Data) })

	// alice: the offer with all her (relay) candidates.
	offer, err := apc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(apc)
	if err := apc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	id, err := alice.StartCall(ctx, "bob@localhost", client.Audio, apc.LocalDescription().SDP)
	if err != nil {
		t.Fatal(err)
	}

	// bob: rings, answers at once, trickles his candidates afterwards.
	o := callEv(t, bob, "offer", id)
	if err := bpc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
		t.Fatal(err)
	}
	cands := make(chan string, 16)
	bpc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil { // gathering complete
			close(cands)
			return
		}
		b, _ := json.Marshal(c.ToJSON())
		cands <- string(b)
	})
	answer, err := bpc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bpc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	if err := bob.AcceptCall(ctx, id, answer.SDP); err != nil {
		t.Fatal(err)
	}
	go func() {
		for c := range cands {
			_ = bob.SendCandidate(ctx, id, c)
		}
	}()

	a := callEv(t, alice, "accept", id)
	if err := apc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a.SDP}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			select {
			case e := <-alice.Events():
				if c, ok := e.(*client.CallEvent); ok && c.Kind == "candidate" {
					var init webrtc.ICECandidateInit
					if json.Unmarshal([]byte(c.Candidate), &init) == nil {
						_ = apc.AddICECandidate(init)
					}
				}
			case <-ctx.Done():
				return
			}
		}
	}()

	for _, w := range []struct {
		ch   chan string
		want string
	}{{bobGot, "hello bob"}, {aliceGot, "hello alice"}} {
		select {
		case got := <-w.ch:
			if got != w.want {
				t.Fatalf("got %q, want %q", got, w.want)
			}
		case <-ctx.Done():
			t.Fatalf("no %q over the DataChannel (alice %s, bob %s)", w.want, apc.ICEConnectionState(), bpc.ICEConnectionState())
		}
	}
	if n := relayedBytes(t, srv.HTTP); n < 100 {
		t.Fatalf("the relay carried %v bytes", n)
	}
}

// relayedBytes sums parley_turn_relayed_bytes_total from /metrics.
func relayedBytes(t *testing.T, httpAddr string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	sum := 0.0
	for _, m := range regexp.MustCompile(`(?m)^parley_turn_relayed_bytes_total\{[^}]*\} (\S+)$`).FindAllSubmatch(body, -1) {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		sum += v
	}
	return sum
}
