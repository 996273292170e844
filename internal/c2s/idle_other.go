//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package c2s

import "errors"

// Without MSG_PEEK the connection reads the classic way: a goroutine
// blocked in Read with a buffer.
const canPeek = false

func isWouldBlock(uintptr) bool { return false }

func readNow(uintptr, []byte) (int, bool, error) { return 0, false, errors.ErrUnsupported }
