//go:build !unix

package proccpu

import "time"

// Self is not known here.
func Self() (time.Duration, bool) { return 0, false }

// Now is 0 here.
func Now() time.Duration { return 0 }
