package server

// Calls with a real XMPP client (slixmpp): XEP-0215 gives it TURN
// credentials that open an allocation on the embedded relay (driven with
// pion's TURN client); Jingle Message Initiation (XEP-0353, slixmpp's
// xep_0353 plugin) reaches every resource of the callee, the answer is
// carbon-copied to the callee's other resources, a proposal to an offline
// user waits for their next login; Jingle iqs (XEP-0166/0167/0176/0320)
// pass as they are between full JIDs.
//
// Run: go test -run TestRealClientsCalls -v ./internal/server/

import (
	"encoding/xml"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	pionturn "github.com/pion/turn/v4"

	"github.com/parley-im/parley/internal/jid"
)

const nsJMI = "urn:xmpp:jingle-message:0"

// extService is one <service/> of an extdisco answer.
type extService struct {
	Type      string `xml:"type,attr"`
	Host      string `xml:"host,attr"`
	Port      int    `xml:"port,attr"`
	Transport string `xml:"transport,attr"`
	Username  string `xml:"username,attr"`
	Password  string `xml:"password,attr"`
	Expires   string `xml:"expires,attr"`
}

func parseServices(t *testing.T, iqXML string) []extService {
	t.Helper()
	var iq struct {
		Services struct {
			List []extService `xml:"service"`
		} `xml:"urn:xmpp:extdisco:2 services"`
	}
	if err := xml.Unmarshal([]byte(iqXML), &iq); err != nil {
		t.Fatalf("parsing %s: %v", iqXML, err)
	}
	return iq.Services.List
}

// relayRoundTrip allocates on the relay with a credential (over UDP or
// TCP) and sends a packet each way between the allocation and a peer.
func relayRoundTrip(t *testing.T, s extService) {
	t.Helper()
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	var conn net.PacketConn
	if s.Transport == "tcp" {
		tc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn = pionturn.NewSTUNConn(tc)
	} else {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conn = pc
	}
	defer conn.Close()
	cl, err := pionturn.NewClient(&pionturn.ClientConfig{STUNServerAddr: addr, TURNServerAddr: addr, Conn: conn,
		Username: s.Username, Password: s.Password, Realm: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	relayed, err := cl.Allocate()
	if err != nil {
		t.Fatalf("allocation with the XEP-0215 credential (%s): %v", s.Transport, err)
	}
	defer relayed.Close()
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	buf := make([]byte, 64)
	if _, err := relayed.WriteTo([]byte("to peer"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := peer.ReadFrom(buf); err != nil || string(buf[:n]) != "to peer" {
		t.Fatalf("peer: %q %v", buf[:n], err)
	}
	if _, err := peer.WriteTo([]byte("to client"), relayed.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = relayed.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := relayed.ReadFrom(buf); err != nil || string(buf[:n]) != "to client" {
		t.Fatalf("client: %q %v", buf[:n], err)
	}
}

func TestRealClientsCalls01SlixmppTURNCredentials(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	alice := slixAgent(t, ts, "alice", "phone")
	alice.do(map[string]any{"cmd": "iq", "tag": "disco", "xml": "<iq type='get' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"})
	if o := alice.expect("disco", func(o observation) bool { return o.Tag == "disco" }); !strings.Contains(o.XML, "urn:xmpp:extdisco:2") {
		t.Fatalf("the server does not announce XEP-0215: %s", o.line)
	}
	alice.do(map[string]any{"cmd": "iq", "tag": "services", "xml": "<iq type='get' to='localhost'><services xmlns='urn:xmpp:extdisco:2'/></iq>"})
	o := alice.expect("services", func(o observation) bool { return o.Tag == "services" })
	if o.Event != "iq_result" {
		t.Fatalf("services: %s", o.line)
	}
	byKind := map[string]extService{}
	for _, s := range parseServices(t, o.XML) {
		byKind[s.Type+"/"+s.Transport] = s
	}
	udp, tcp := byKind["turn/udp"], byKind["turn/tcp"]
	if byKind["stun/udp"].Host == "" || udp.Username == "" || !strings.HasSuffix(udp.Username, ":alice@localhost") || tcp.Password == "" {
		t.Fatalf("services %+v", byKind)
	}
	if net.JoinHostPort(udp.Host, strconv.Itoa(udp.Port)) != ts.addrs.TURN {
		t.Fatalf("announced %s:%d, relay on %s", udp.Host, udp.Port, ts.addrs.TURN)
	}
	relayRoundTrip(t, udp)
	relayRoundTrip(t, tcp)

	// <credentials/> for one service; an unknown one is item-not-found.
	alice.do(map[string]any{"cmd": "iq", "tag": "creds", "xml": "<iq type='get' to='localhost'><credentials xmlns='urn:xmpp:extdisco:2'><service type='turn' host='" + udp.Host + "'/></credentials></iq>"})
	if o := alice.expect("credentials", func(o observation) bool { return o.Tag == "creds" }); o.Event != "iq_result" || !strings.Contains(o.XML, "password=") {
		t.Fatalf("credentials: %s", o.line)
	}
	alice.do(map[string]any{"cmd": "iq", "tag": "nocreds", "xml": "<iq type='get' to='localhost'><credentials xmlns='urn:xmpp:extdisco:2'><service type='turn' host='turn.elsewhere.example'/></credentials></iq>"})
	if o := alice.expect("unknown service", func(o observation) bool { return o.Tag == "nocreds" }); o.Event != "iq_error" || o.Condition != "item-not-found" {
		t.Fatalf("unknown service: %s", o.line)
	}
}

func jmiFrom(action, from string) func(observation) bool {
	return func(o observation) bool {
		return o.Event == "stanza" && o.Kind == "message" && o.From == from && o.has(nsJMI, action)
	}
}

func TestRealClientsCalls02SlixmppJingleMessageInitiation(t *testing.T) {
	t.Parallel()
	needSlixmpp(t)
	ts := startServer(t, nil)
	for _, u := range []string{"alice", "bob", "carol"} {
		ts.addUser(t, u, "pw-"+u)
	}
	alice := slixAgent(t, ts, "alice", "phone", "--jmi")
	phone := slixAgent(t, ts, "bob", "phone", "--jmi")
	tablet := slixAgent(t, ts, "bob", "tablet", "--jmi")
	for _, a := range []*agent{alice, phone, tablet} {
		a.send("<presence/>")
	}
	tablet.do(map[string]any{"cmd": "iq", "tag": "carbons", "xml": "<iq type='set'><enable xmlns='urn:xmpp:carbons:2'/></iq>"})
	if o := tablet.expect("carbons", func(o observation) bool { return o.Tag == "carbons" }); o.Event != "iq_result" {
		t.Fatalf("carbons: %s", o.line)
	}
	ts.waitAvailable(t, "bob@localhost", 2)

	// alice proposes a call to bob's bare JID: both his resources ring.
	alice.do(map[string]any{"cmd": "jmi", "action": "propose", "to": "bob@localhost", "sid": "call-1", "media": "audio"})
	for _, dev := range []*agent{phone, tablet} {
		o := dev.expect("propose", jmiFrom("propose", "alice@localhost/phone"))
		if !strings.Contains(o.XML, "call-1") || !strings.Contains(o.XML, "urn:xmpp:jingle:apps:rtp:1") {
			t.Fatalf("propose: %s", o.line)
		}
	}
	// bob's phone accepts: <accept/> to his own bare JID reaches the
	// tablet (it stops ringing); <proceed/> goes to alice, and the tablet
	// gets a carbon of it too.
	phone.do(map[string]any{"cmd": "jmi", "action": "accept", "to": "bob@localhost", "sid": "call-1"})
	tablet.expect("accept", jmiFrom("accept", "bob@localhost/phone"))
	phone.do(map[string]any{"cmd": "jmi", "action": "proceed", "to": "alice@localhost/phone", "sid": "call-1"})
	alice.expect("proceed", jmiFrom("proceed", "bob@localhost/phone"))
	tablet.expect("carbon of proceed", func(o observation) bool {
		return o.Event == "stanza" && o.Kind == "message" && o.has("urn:xmpp:carbons:2", "sent") &&
			strings.Contains(o.XML, "proceed") && strings.Contains(o.XML, "call-1")
	})

	// Jingle iqs pass unchanged between full JIDs, both ways.
	initiate := "<iq type='set' to='bob@localhost/phone'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='call-1' initiator='alice@localhost/phone'>" +
		"<content creator='initiator' name='voice'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='111' name='opus' clockrate='48000' channels='2'/></description>" +
		"<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='8hhy' pwd='asd88fgpdd777uzjYhagZg'>" +
		"<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>02:1A:CC:54:27:AB</fingerprint>" +
		"<candidate component='1' foundation='1' generation='0' id='c1' ip='127.0.0.1' port='50000' priority='2130706431' protocol='udp' type='relay'/>" +
		"</transport></content></jingle></iq>"
	alice.do(map[string]any{"cmd": "iq", "tag": "initiate", "xml": initiate})
	got := phone.expect("session-initiate", func(o observation) bool {
		return o.Event == "stanza" && o.Kind == "iq" && o.From == "alice@localhost/phone" && o.has("urn:xmpp:jingle:1", "jingle")
	})
	for _, want := range []string{"session-initiate", "urn:xmpp:jingle:transports:ice-udp:1", "urn:xmpp:jingle:apps:dtls:0", "02:1A:CC:54:27:AB", "2130706431"} {
		if !strings.Contains(got.XML, want) {
			t.Fatalf("bob's phone got the iq without %q: %s", want, got.XML)
		}
	}
	// slixmpp has no Jingle plugin: bob's phone acknowledges the iq by
	// hand, and the result reaches alice from bob's phone.
	phone.send("<iq type='result' to='alice@localhost/phone' id='" + got.ID + "'/>")
	if o := alice.expect("answer", func(o observation) bool { return o.Tag == "initiate" }); o.Event != "iq_result" || o.From != "bob@localhost/phone" {
		t.Fatalf("alice's iq answer: %s", o.line)
	}

	// carol is offline: the proposal waits for her next login (XEP-0353
	// offline handling), and so does the retraction.
	alice.do(map[string]any{"cmd": "jmi", "action": "propose", "to": "carol@localhost", "sid": "call-2", "media": "video"})
	alice.do(map[string]any{"cmd": "jmi", "action": "retract", "to": "carol@localhost", "sid": "call-2"})
	alice.expect("retract sent", func(o observation) bool {
		return o.Event == "jmi_sent" && o.Tag == "" && strings.Contains(o.line, "retract")
	})
	carol := slixAgent(t, ts, "carol", "phone", "--jmi")
	carol.send("<presence/>")
	p := carol.expect("stored propose", jmiFrom("propose", "alice@localhost/phone"))
	if !strings.Contains(p.XML, "urn:xmpp:delay") || !strings.Contains(p.XML, "call-2") {
		t.Fatalf("carol's propose: %s", p.line)
	}
	carol.expect("stored retract", jmiFrom("retract", "alice@localhost/phone"))
}

// waitAvailable waits until user (bare JID) has n available devices.
func (ts *testServer) waitAvailable(t *testing.T, user string, n int) {
	t.Helper()
	u := jid.MustParse(user)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		got := 0
		for _, d := range ts.reg.Devices(u) {
			if d.Available() {
				got++
			}
		}
		if got >= n {
			return
		}
	}
	t.Fatalf("%s has fewer than %d available devices", user, n)
}
