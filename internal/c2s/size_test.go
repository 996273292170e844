package c2s

import (
	"testing"
	"unsafe"
)

// TestConnSizeClass: every idle device holds a conn, so its fields are
// laid out to fit Go's 288-byte size class (it was 336 bytes, in the
// 352-byte class, then 312 with the smaller JID) with the session's
// transport inside it (it was an object of its own).
func TestConnSizeClass(t *testing.T) {
	size := unsafe.Sizeof(conn{})
	t.Logf("conn: %d bytes", size)
	if size > 288 {
		t.Fatalf("conn is %d bytes, over the 288-byte size class", size)
	}
}
