//go:build unix

package main

import (
	"fmt"
	"log/slog"
	"syscall"
)

// raiseFileLimit raises the soft limit on open files to the hard limit:
// every connection is a file descriptor. (Go raises it at start on some
// systems already; this logs the result either way.)
func raiseFileLimit(log *slog.Logger) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot read the open file limit", "err", err)
		return
	}
	if lim.Cur < lim.Max {
		old := lim.Cur
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.Warn("cannot raise the open file limit; connections beyond it will be refused",
				"limit", fileLimit(uint64(old), uint64(lim.Max)), "err", err)
			return
		}
	}
	log.Info("open file limit", "limit", fileLimit(uint64(lim.Cur), uint64(lim.Max)))
}

// fileLimit describes an RLIMIT_NOFILE value for the log.
func fileLimit(soft, hard uint64) string { return fmt.Sprintf("%d (hard limit %d)", soft, hard) }
