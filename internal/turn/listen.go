package turn

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// ListenUDPAndTCP binds addr for UDP and TCP on the same port (TURN's
// convention: 3478 for both). With port 0 the system picks a UDP port and
// TCP takes the same one, retrying a few times if it is taken.
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
	for range 8 {
		pc, err := listenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("turn: UDP %s: %w", addr, err)
		}
		p := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		ln, err := listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			return pc, ln, nil
		}
		_ = pc.Close()
		if port != "0" || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("turn: TCP %s: %w", net.JoinHostPort(host, p), err)
		}
	}
	return nil, nil, fmt.Errorf("turn: no port free for both UDP and TCP on %s", host)
}
