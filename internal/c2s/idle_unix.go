//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package c2s

import (
	"io"
	"syscall"
)

const canPeek = true

// isWouldBlock reports whether reading fd now would block: nothing to read
// yet. It peeks at one byte without consuming it; EOF and errors count as
// readable, so that the next read reports them.
func isWouldBlock(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR
}

// readNow reads what fd holds without waiting: n > 0 bytes, or would
// block, or io.EOF (n == 0 with no error from the socket), or an error.
func readNow(fd uintptr, buf []byte) (n int, wouldBlock bool, err error) {
	n, err = syscall.Read(int(fd), buf)
	switch {
	case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR:
		return 0, true, nil
	case err != nil:
		return 0, false, err
	case n == 0:
		return 0, false, io.EOF
	}
	return n, false, nil
}
