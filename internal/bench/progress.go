package bench

import (
	"io"

	"github.com/schollz/progressbar/v3"
)

// bar is a progress bar on the operator's terminal, or nothing when the
// run has no progress writer (tests, JSON-only runs).
type bar struct{ pb *progressbar.ProgressBar }

func newBar(w io.Writer, max int, desc string) *bar {
	if w == nil {
		return &bar{}
	}
	return &bar{pb: progressbar.NewOptions(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000), // redraw at most every 100 ms
		progressbar.OptionClearOnFinish(),
	)}
}

func (b *bar) add() {
	if b.pb != nil {
		_ = b.pb.Add(1)
	}
}

func (b *bar) set(n int) {
	if b.pb != nil {
		_ = b.pb.Set(n)
	}
}

func (b *bar) done() {
	if b.pb != nil {
		_ = b.pb.Finish()
	}
}
