package media

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
)

// TestPartialUploadsCountAgainstTheQuota is the review's reproduction,
// scaled down: every slot fits the quota alone, and one part is sent to
// each. Staged bytes count as the slot's whole size, so only the first
// upload is taken; the others are refused before their bytes are staged.
func TestPartialUploadsCountAgainstTheQuota(t *testing.T) {
	const quota = 1000
	e := newEnv(t, func(c *Config) { c.MaxFileSize, c.Quota = quota, quota })
	slots := make([]Slot, 5)
	for i := range slots {
		slots[i] = e.slot(t, fmt.Sprint("part", i), quota, "", nil) // nothing is staged yet: all granted
	}
	data := randomBytes(t, quota)
	part := map[string]string{"Content-Range": fmt.Sprintf("bytes 0-%d/%d", quota-2, quota)}
	if r := put(t, slots[0], data[:quota-1], part); r.status != http.StatusNoContent {
		t.Fatalf("first part: %d %q, want 204", r.status, r.body)
	}
	for i, s := range slots[1:] {
		wantStatus(t, fmt.Sprint("part of upload ", i+2), put(t, s, data[:quota-1], part), http.StatusRequestEntityTooLarge, "quota exceeded")
	}
	if staged := stagedBytes(t, e); staged > quota {
		t.Fatalf("%d bytes staged, the quota is %d", staged, quota)
	}
	if _, err := e.svc.NewSlot(context.Background(), SlotRequest{User: "alice@localhost", Filename: "more", Size: 1}); !errors.Is(err, ErrQuota) {
		t.Fatalf("slot request with the quota staged: %v, want ErrQuota", err)
	}
	if n := counterValue(e.svc.m.rejections.WithLabelValues(reasonQuota)); n != 5 {
		t.Errorf("quota rejections = %v, want 5 (4 uploads and 1 slot request)", n)
	}
	last := map[string]string{"Content-Range": fmt.Sprintf("bytes %d-%d/%d", quota-1, quota-1, quota)}
	wantStatus(t, "last byte of the first upload", put(t, slots[0], data[quota-1:], last), http.StatusCreated, "")
}

// TestConcurrentUploadsShareTheQuota sends whole files that each fit the
// quota, and only one of which fits, all at once: exactly one is stored.
func TestConcurrentUploadsShareTheQuota(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFileSize, c.Quota = 600, 1000 })
	const uploads = 6
	slots := make([]Slot, uploads)
	for i := range slots {
		slots[i] = e.slot(t, fmt.Sprint("f", i), 600, "", nil) // nothing is staged yet: all granted
	}
	statuses := make(chan int, uploads)
	var wg sync.WaitGroup
	for _, s := range slots {
		data := randomBytes(t, 600)
		wg.Go(func() {
			status, err := putStatus(s, data)
			if err != nil {
				t.Error(err)
			}
			statuses <- status
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for st := range statuses {
		count[st]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusRequestEntityTooLarge] != uploads-1 {
		t.Fatalf("statuses %v, want one 201 and %d 413", count, uploads-1)
	}
}

// stagedBytes adds up the sizes of the staging files.
func stagedBytes(t *testing.T, e *env) int64 {
	t.Helper()
	entries, err := os.ReadDir(e.cfg.StagingDir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, de := range entries {
		if fi, err := de.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TestUserLocksExcludePerUserAndForgetIdleUsers: a user's second lock waits
// for the first, another user's does not, and no entry outlives its users.
func TestUserLocksExcludePerUserAndForgetIdleUsers(t *testing.T) {
	var l userLocks
	unlock := l.lock("alice")
	second := make(chan func())
	go func() { second <- l.lock("alice") }()
	l.lock("bob")() // not held up by alice's lock
	select {
	case <-second:
		t.Fatal("alice's lock was taken twice")
	default:
	}
	unlock()
	(<-second)()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.locks) != 0 {
		t.Fatalf("%d locks kept after every user unlocked", len(l.locks))
	}
}
