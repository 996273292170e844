package server

import (
	"bytes"
	"encoding/base64"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/parley-im/parley/internal/config"
)

// TestPipelinedLoginLastStepIsOneWrite: a client that sends the stream
// restart, the bind request and stream management's enable together gets
// the stream features, the bind result and <enabled/> in one write (one
// TCP segment with data, as the client's socket counts them), not the
// negotiation's output and then the session's.
func TestPipelinedLoginLastStepIsOneWrite(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	ts.addUser(t, "alice", "pw-alice")
	c, err := net.Dial("tcp", ts.addrs.C2S)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	const open = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"
	plain := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00pw-alice"))
	write(t, c, open+"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"+plain+"</auth>")
	readUntil(t, c, "<success")
	before := dataSegmentsIn(t, c)
	write(t, c, open+"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq><enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	got := readUntil(t, c, "<enabled")
	if !bytes.Contains(got, []byte("<stream:features")) || !bytes.Contains(got, []byte("id=\"b1\"")) {
		t.Fatalf("the last step's answer: %q", got)
	}
	if n := dataSegmentsIn(t, c) - before; n != 1 {
		t.Fatalf("the last step was answered in %d segments, want 1", n)
	}
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// readUntil reads until what was read contains marker.
func readUntil(t *testing.T, c net.Conn, marker string) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 64<<10)
	for !bytes.Contains(got, []byte(marker)) {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("reading for %s: %v (so far %q)", marker, err, got)
		}
		got = append(got, buf[:n]...)
	}
	return got
}

// dataSegmentsIn is how many TCP segments with data c's socket received.
func dataSegmentsIn(t *testing.T, c net.Conn) uint32 {
	t.Helper()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	var ierr error
	if err := raw.Control(func(fd uintptr) { info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil || ierr != nil {
		t.Fatal(err, ierr)
	}
	return info.Data_segs_in
}

// TestStreamListenersLeaveTCPKeepAliveOff: the sockets accepted for client
// streams (XMPP over TCP, direct TLS, the binary protocol) have no kernel
// keep-alive (the server pings quiet sessions itself), so accepting one
// costs no keep-alive setsockopt calls.
func TestStreamListenersLeaveTCPKeepAliveOff(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	for name, addr := range map[string]string{"c2s": ts.addrs.C2S, "c2s-tls": ts.addrs.C2STLS, "native": ts.addrs.Native} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fd := acceptedSocket(t, c)
		on, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE)
		if err != nil {
			t.Fatal(err)
		}
		if on != 0 {
			t.Errorf("%s: the accepted socket has SO_KEEPALIVE on", name)
		}
		_ = c.Close()
	}
}

// acceptedSocket finds, among this process's file descriptors, the
// server's end of the client connection c (the test runs the server).
func acceptedSocket(t *testing.T, c net.Conn) int {
	t.Helper()
	local, remote := c.LocalAddr().(*net.TCPAddr), c.RemoteAddr().(*net.TCPAddr)
	for range 500 { // the server accepts c asynchronously
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			fd, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if loopbackPort(unix.Getsockname(fd)) == remote.Port && loopbackPort(unix.Getpeername(fd)) == local.Port {
				return fd
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no accepted socket for %v", local)
	return -1
}

// loopbackPort is the port of an IPv4 socket address, -1 for anything else.
func loopbackPort(sa unix.Sockaddr, err error) int {
	if in4, ok := sa.(*unix.SockaddrInet4); ok && err == nil {
		return in4.Port
	}
	return -1
}
