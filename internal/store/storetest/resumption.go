package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

func runResumptions(t *testing.T, f Factory) {
	subtests(t, f, []namedTest{
		{"TakeReturnsWhatWasPut", testResumptionRoundTrip},
		{"SingleUse", testResumptionSingleUse},
		{"ConcurrentTakesOneWins", testResumptionConcurrentTakes},
		{"Ownership", testResumptionOwnership},
		{"Expiry", testResumptionExpiry},
		{"PutReplaces", testResumptionReplace},
		{"PutMany", testResumptionPutMany},
	})
}

func sampleResumption(id string) store.Resumption {
	return store.Resumption{
		ID: id, User: "alice@example.org", JID: "alice@example.org/phone", Device: "dev1",
		InH: 7, Acked: 4294967290, // near the wrap
		Unacked: []store.ResumedStanza{
			{Seq: 12, Payload: []byte("<message id='a'/>")},
			{Seq: 0, Payload: []byte("<presence from='bob@example.org/x'/>")},
			{Seq: 13, Payload: []byte{0, 1, 2, 0xff}},
		},
		Presence: []byte("<presence/>"),
		Expires:  ts(300),
	}
}

func sameResumption(a, b store.Resumption) bool {
	if a.ID != b.ID || a.User != b.User || a.JID != b.JID || a.Device != b.Device || a.InH != b.InH ||
		a.Acked != b.Acked || !sameBytes(a.Presence, b.Presence) || !a.Expires.Equal(b.Expires) ||
		len(a.Unacked) != len(b.Unacked) {
		return false
	}
	return slices.EqualFunc(a.Unacked, b.Unacked, func(x, y store.ResumedStanza) bool {
		return x.Seq == y.Seq && sameBytes(x.Payload, y.Payload)
	})
}

func testResumptionRoundTrip(t *testing.T, s store.Store) {
	want := sampleResumption("r1")
	must(t, "PutResumption", s.PutResumptions(ctx(), []store.Resumption{want}))
	got, err := s.TakeResumption(ctx(), "r1", want.User, want.Device, ts(0))
	must(t, "TakeResumption", err)
	if !sameResumption(got, want) {
		t.Fatalf("TakeResumption = %+v, want %+v", got, want)
	}
	// No presence, no stanzas, a password login.
	bare := store.Resumption{ID: "r2", User: "bob@example.org", JID: "bob@example.org/x", Expires: ts(10)}
	must(t, "PutResumption", s.PutResumptions(ctx(), []store.Resumption{bare}))
	got, err = s.TakeResumption(ctx(), "r2", "bob@example.org", "", ts(0))
	must(t, "TakeResumption", err)
	if !sameResumption(got, bare) {
		t.Fatalf("TakeResumption = %+v, want %+v", got, bare)
	}
}

func testResumptionSingleUse(t *testing.T, s store.Store) {
	r := sampleResumption("r1")
	must(t, "PutResumption", s.PutResumptions(ctx(), []store.Resumption{r}))
	_, err := s.TakeResumption(ctx(), "r1", r.User, r.Device, ts(0))
	must(t, "first TakeResumption", err)
	_, err = s.TakeResumption(ctx(), "r1", r.User, r.Device, ts(0))
	wantErr(t, "second TakeResumption", err, store.ErrNotFound)
	_, err = s.TakeResumption(ctx(), "never", r.User, r.Device, ts(0))
	wantErr(t, "TakeResumption of an unknown id", err, store.ErrNotFound)
}

func testResumptionConcurrentTakes(t *testing.T, s store.Store) {
	r := sampleResumption("r1")
	must(t, "PutResumption", s.PutResumptions(ctx(), []store.Resumption{r}))
	const takers = 8
	var wg sync.WaitGroup
	errs := make([]error, takers)
	for i := range takers {
		wg.Go(func() { _, errs[i] = s.TakeResumption(ctx(), "r1", r.User, r.Device, ts(0)) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		default:
			wantErr(t, "a losing TakeResumption", err, store.ErrNotFound)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent takes got the record, want exactly 1", won, takers)
	}
}

func testResumptionOwnership(t *testing.T, s store.Store) {
	r := sampleResumption("r1")
	must(t, "PutResumption", s.PutResumptions(ctx(), []store.Resumption{r}))
	_, err := s.TakeResumption(ctx(), "r1", "mallory@example.org", r.Device, ts(0))
	wantErr(t, "TakeResumption by another user", err, store.ErrNotFound)
	_, err = s.TakeResumption(ctx(), "r1", r.User, "dev2", ts(0))
	wantErr(t, "TakeResumption by another device", err, store.ErrNotFound)
	_, err = s.TakeResumption(ctx(), "r1", r.User, "", ts(0))
	wantErr(t, "TakeResumption by a password login", err, store.ErrNotFound)
	// The failed attempts did not use it up.
	got, err := s.TakeResumption(ctx(), "r1", r.User, r.Device, ts(0))
	must(t, "TakeResumption by the owner", err)
	if !sameResumption(got, r) {
		t.Fatalf("TakeResumption = %+v, want %+v", got, r)
	}
}

func testResumptionExpiry(t *testing.T, s store.Store) {
	old, fresh := sampleResumption("old"), sampleResumption("fresh")
	old.Expires, fresh.Expires = ts(10), ts(20)
	must(t, "PutResumption", s.PutResumptions(ctx(), []store.Resumption{old}))
	must(t, "PutResumption", s.PutResumptions(ctx(), []store.Resumption{fresh}))
	_, err := s.TakeResumption(ctx(), "old", old.User, old.Device, ts(10))
	wantErr(t, "TakeResumption at its expiry", err, store.ErrNotFound)
	n, err := s.DeleteExpiredResumptions(ctx(), ts(15))
	must(t, "DeleteExpiredResumptions", err)
	if n != 1 {
		t.Fatalf("DeleteExpiredResumptions deleted %d, want 1", n)
	}
	_, err = s.TakeResumption(ctx(), "old", old.User, old.Device, ts(0))
	wantErr(t, "TakeResumption of a swept record", err, store.ErrNotFound)
	if _, err := s.TakeResumption(ctx(), "fresh", fresh.User, fresh.Device, ts(19)); err != nil {
		t.Fatalf("TakeResumption of the record not yet expired: %v", err)
	}
	n, err = s.DeleteExpiredResumptions(ctx(), ts(100))
	must(t, "DeleteExpiredResumptions", err)
	if n != 0 {
		t.Fatalf("DeleteExpiredResumptions of nothing deleted %d", n)
	}
}

func testResumptionReplace(t *testing.T, s store.Store) {
	r := sampleResumption("r1")
	must(t, "PutResumption", s.PutResumptions(ctx(), []store.Resumption{r}))
	r.InH, r.Unacked = 9, r.Unacked[:1]
	must(t, "PutResumption again", s.PutResumptions(ctx(), []store.Resumption{r}))
	got, err := s.TakeResumption(ctx(), "r1", r.User, r.Device, ts(0))
	must(t, "TakeResumption", err)
	if !sameResumption(got, r) {
		t.Fatalf("TakeResumption = %+v, want the second record %+v", got, r)
	}
}

// testResumptionPutMany stores a handoff's worth of records in one call,
// one of them replacing an earlier record and one given twice (the later
// wins), and takes each back.
func testResumptionPutMany(t *testing.T, s store.Store) {
	must(t, "PutResumptions of nothing", s.PutResumptions(ctx(), nil))
	old := sampleResumption("r7")
	must(t, "PutResumptions", s.PutResumptions(ctx(), []store.Resumption{old}))
	var rs []store.Resumption
	for i := range 300 {
		r := sampleResumption(fmt.Sprintf("r%d", i))
		r.User = fmt.Sprintf("u%d@example.org", i)
		r.JID = r.User + "/phone"
		r.InH = uint32(i)
		r.Unacked = r.Unacked[:i%4]
		if i%5 == 0 {
			r.Presence = nil
		}
		rs = append(rs, r)
	}
	later := rs[5]
	later.InH, later.Unacked = 1000, sampleResumption("").Unacked[1:]
	must(t, "PutResumptions of 300", s.PutResumptions(ctx(), append(slices.Clone(rs), later)))
	rs[5] = later
	for _, want := range rs {
		got, err := s.TakeResumption(ctx(), want.ID, want.User, want.Device, ts(0))
		must(t, "TakeResumption "+want.ID, err)
		if !sameResumption(got, want) {
			t.Fatalf("TakeResumption = %+v, want %+v", got, want)
		}
	}
	_, err := s.TakeResumption(ctx(), "r7", old.User, old.Device, ts(0))
	wantErr(t, "TakeResumption of the replaced record's owner", err, store.ErrNotFound)
}
