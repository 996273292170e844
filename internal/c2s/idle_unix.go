//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package c2s

import "syscall"

const canPeek = true

// isWouldBlock reports whether reading fd now would block: nothing to read
// yet. It peeks at one byte without consuming it; EOF and errors count as
// readable, so that the next read reports them.
func isWouldBlock(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR
}
