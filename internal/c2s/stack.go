package c2s

// negotiationStack is the stack a connection's goroutine grows to at once
// when it starts: negotiation reaches Pebble's read path (the account read
// of SASL), which grew the goroutine's stack from its starting size in
// several doublings, each copying a deep stack (runtime.copystack, 6-8% of
// the server's CPU in a login ramp, docs/benchmarks.md). Growing once,
// while the stack is three frames deep, costs one cheap copy. The
// goroutine ends (and its stack is freed) when the connection parks or
// closes; a negotiation that waits on its client gives back what it does
// not use at a garbage collection (the runtime shrinks stacks that use a
// quarter or less).
const negotiationStack = 16 << 10

// growStack grows the calling goroutine's stack to hold negotiationStack
// bytes more: its frame is that large, so the runtime's check at its
// entry grows the stack (by doubling, to the first size that fits) before
// anything else runs.
//
//go:noinline
func growStack() {
	var frame [negotiationStack]byte
	touch(&frame)
}

// touch keeps frame alive (and on the stack: it does not escape).
//
//go:noinline
func touch(frame *[negotiationStack]byte) { frame[0] = 1 }
