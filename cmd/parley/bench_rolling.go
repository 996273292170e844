package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// upgradeRolling upgrades the servers of socks one after the other (a
// rolling upgrade of cluster nodes), pausing gap after each new process
// serves; it logs each node's switch to log and returns the first node's
// old pid and the last node's new pid. With one socket it is upgradeThrough.
func upgradeRolling(ctx context.Context, socks []string, gap time.Duration, log io.Writer) (oldPID, newPID int, err error) {
	start := time.Now()
	for i, sock := range socks {
		if i > 0 {
			select {
			case <-ctx.Done():
				return oldPID, newPID, ctx.Err()
			case <-time.After(gap):
			}
		}
		t := time.Now()
		o, n, err := upgradeThrough(ctx, strings.TrimSpace(sock))
		if err != nil {
			return oldPID, newPID, fmt.Errorf("%s: %w", sock, err)
		}
		if i == 0 {
			oldPID = o
		}
		newPID = n
		if len(socks) > 1 {
			fmt.Fprintf(log, "rolling upgrade: %s: process %d -> %d, serving after %v (%v since the first trigger)\n",
				sock, o, n, time.Since(t).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		}
	}
	return oldPID, newPID, nil
}
