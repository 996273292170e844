package turn

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// ListenUDPAndTCP binds addr for UDP and TCP on the same port (TURN's
// convention: 3478 for both). With port 0 the system picks a TCP port and
// UDP takes the same one (a busy machine has many TCP ports in use by
// connections and few UDP sockets, so this order rarely collides),
// retrying if it is taken.
func ListenUDPAndTCP(addr string) (net.PacketConn, net.Listener, error) {
	return ListenUDPAndTCPWith(addr, net.ListenPacket, net.Listen)
}

// ListenUDPAndTCPWith is ListenUDPAndTCP binding through listenPacket and
// listen (a live upgrade inherits the sockets of the old process).
func ListenUDPAndTCPWith(addr string, listenPacket func(network, addr string) (net.PacketConn, error),
	listen func(network, addr string) (net.Listener, error)) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("turn: %q: %w", addr, err)
	}
	for range 32 {
		ln, err := listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("turn: TCP %s: %w", addr, err)
		}
		p := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		pc, err := listenPacket("udp", net.JoinHostPort(host, p))
		if err == nil {
			return pc, ln, nil
		}
		_ = ln.Close()
		if port != "0" || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("turn: UDP %s: %w", net.JoinHostPort(host, p), err)
		}
	}
	return nil, nil, fmt.Errorf("turn: no port free for both UDP and TCP on %s", host)
}
