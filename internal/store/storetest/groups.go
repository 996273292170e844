package storetest

import (
	"bytes"
	"crypto/sha256"
	"reflect"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

func member(jid string, role store.GroupRole, i int) store.GroupMember {
	return store.GroupMember{JID: jid, Role: role, Joined: ts(i)}
}

func checkMembers(t *testing.T, s store.Store, id string, want ...store.GroupMember) {
	t.Helper()
	got, err := s.GroupMembers(ctx(), id)
	must(t, "GroupMembers "+id, err)
	if got == nil || len(got) != len(want) {
		t.Fatalf("GroupMembers(%s) = %+v, want %+v", id, got, want)
	}
	for i := range want {
		if got[i].JID != want[i].JID || got[i].Role != want[i].Role || !got[i].Joined.Equal(want[i].Joined) {
			t.Fatalf("GroupMembers(%s)[%d] = %+v, want %+v", id, i, got[i], want[i])
		}
	}
}

func checkUserGroups(t *testing.T, s store.Store, user string, want ...string) {
	t.Helper()
	got, err := s.UserGroups(ctx(), user)
	must(t, "UserGroups "+user, err)
	if want == nil {
		want = []string{}
	}
	if got == nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("UserGroups(%s) = %q, want %q", user, got, want)
	}
}

func sampleGroup(id string) store.Group {
	return store.Group{ID: id, Subject: "Climbing", Description: "Saturdays", Owner: "alice@example.org",
		Created: ts(1), MaxMembers: 3}
}

func runGroups(t *testing.T, f Factory) {
	const alice, bob, carol = "alice@example.org", "bob@example.org", "carol@example.org"
	subtests(t, f, []namedTest{
		{"Empty", func(t *testing.T, s store.Store) {
			_, err := s.GetGroup(ctx(), "g1")
			wantErr(t, "GetGroup", err, store.ErrNotFound)
			_, err = s.GroupMembers(ctx(), "g1")
			wantErr(t, "GroupMembers", err, store.ErrNotFound)
			_, err = s.GroupMember(ctx(), "g1", alice)
			wantErr(t, "GroupMember", err, store.ErrNotFound)
			wantErr(t, "UpdateGroup", s.UpdateGroup(ctx(), sampleGroup("g1")), store.ErrNotFound)
			wantErr(t, "AddGroupMember", s.AddGroupMember(ctx(), "g1", member(bob, store.RoleMember, 2), 0), store.ErrNotFound)
			wantErr(t, "RemoveGroupMember", s.RemoveGroupMember(ctx(), "g1", bob), store.ErrNotFound)
			wantErr(t, "SetGroupRole", s.SetGroupRole(ctx(), "g1", bob, store.RoleAdmin), store.ErrNotFound)
			checkUserGroups(t, s, alice)
		}},
		{"CreateGetUpdate", func(t *testing.T, s store.Store) {
			g := sampleGroup("g1")
			must(t, "CreateGroup", s.CreateGroup(ctx(), g, []store.GroupMember{member(alice, store.RoleOwner, 1), member(bob, store.RoleMember, 1)}))
			wantErr(t, "CreateGroup again", s.CreateGroup(ctx(), g, nil), store.ErrExists)
			got, err := s.GetGroup(ctx(), "g1")
			must(t, "GetGroup", err)
			if got.Subject != g.Subject || got.Description != g.Description || got.Owner != alice ||
				!got.Created.Equal(g.Created) || got.AdminsOnly || got.MaxMembers != 3 {
				t.Fatalf("GetGroup = %+v, want %+v", got, g)
			}
			u := store.Group{ID: "g1", Subject: "Bouldering", Description: "", AdminsOnly: true, MaxMembers: 0,
				Owner: "mallory@example.org", Created: ts(9)}
			must(t, "UpdateGroup", s.UpdateGroup(ctx(), u))
			got, err = s.GetGroup(ctx(), "g1")
			must(t, "GetGroup", err)
			if got.Subject != "Bouldering" || got.Description != "" || !got.AdminsOnly || got.MaxMembers != 0 ||
				got.Owner != alice || !got.Created.Equal(ts(1)) {
				t.Fatalf("after UpdateGroup: %+v", got)
			}
			checkMembers(t, s, "g1", member(alice, store.RoleOwner, 1), member(bob, store.RoleMember, 1))
		}},
		{"Members", func(t *testing.T, s store.Store) {
			must(t, "CreateGroup", s.CreateGroup(ctx(), sampleGroup("g1"), []store.GroupMember{member(carol, store.RoleOwner, 1)}))
			must(t, "CreateGroup g2", s.CreateGroup(ctx(), sampleGroup("g2"), []store.GroupMember{member(carol, store.RoleOwner, 1)}))
			must(t, "AddGroupMember", s.AddGroupMember(ctx(), "g1", member(bob, store.RoleMember, 2), 3))
			wantErr(t, "AddGroupMember twice", s.AddGroupMember(ctx(), "g1", member(bob, store.RoleMember, 3), 3), store.ErrExists)
			must(t, "AddGroupMember", s.AddGroupMember(ctx(), "g1", member(alice, store.RoleMember, 4), 3))
			wantErr(t, "AddGroupMember over limit", s.AddGroupMember(ctx(), "g1", member("dave@example.org", store.RoleMember, 5), 3), store.ErrLimit)
			must(t, "SetGroupRole", s.SetGroupRole(ctx(), "g1", bob, store.RoleAdmin))
			checkMembers(t, s, "g1", member(alice, store.RoleMember, 4), member(bob, store.RoleAdmin, 2), member(carol, store.RoleOwner, 1))
			m, err := s.GroupMember(ctx(), "g1", bob)
			must(t, "GroupMember", err)
			if m.Role != store.RoleAdmin || !m.Joined.Equal(ts(2)) {
				t.Fatalf("GroupMember = %+v", m)
			}
			checkUserGroups(t, s, carol, "g1", "g2")
			checkUserGroups(t, s, bob, "g1")
			must(t, "RemoveGroupMember", s.RemoveGroupMember(ctx(), "g1", bob))
			wantErr(t, "RemoveGroupMember twice", s.RemoveGroupMember(ctx(), "g1", bob), store.ErrNotFound)
			checkUserGroups(t, s, bob)
			checkMembers(t, s, "g1", member(alice, store.RoleMember, 4), member(carol, store.RoleOwner, 1))
			must(t, "AddGroupMember after remove", s.AddGroupMember(ctx(), "g1", member("dave@example.org", store.RoleMember, 5), 3))
		}},
		{"Invites", func(t *testing.T, s store.Store) {
			h := sha256.Sum256([]byte("token"))
			inv := store.GroupInvite{Group: "g1", TokenHash: h[:], Created: ts(3)}
			wantErr(t, "AddGroupInvite without group", s.AddGroupInvite(ctx(), inv), store.ErrNotFound)
			must(t, "CreateGroup", s.CreateGroup(ctx(), sampleGroup("g1"), []store.GroupMember{member(alice, store.RoleOwner, 1)}))
			must(t, "AddGroupInvite", s.AddGroupInvite(ctx(), inv))
			wantErr(t, "AddGroupInvite twice", s.AddGroupInvite(ctx(), inv), store.ErrExists)
			got, err := s.GroupInvite(ctx(), h[:])
			must(t, "GroupInvite", err)
			if got.Group != "g1" || !bytes.Equal(got.TokenHash, h[:]) || !got.Created.Equal(ts(3)) || got.Revoked {
				t.Fatalf("GroupInvite = %+v", got)
			}
			must(t, "RevokeGroupInvite", s.RevokeGroupInvite(ctx(), h[:]))
			got, err = s.GroupInvite(ctx(), h[:])
			must(t, "GroupInvite", err)
			if !got.Revoked {
				t.Fatalf("GroupInvite after revoke = %+v", got)
			}
			other := sha256.Sum256([]byte("other"))
			_, err = s.GroupInvite(ctx(), other[:])
			wantErr(t, "GroupInvite unknown", err, store.ErrNotFound)
			wantErr(t, "RevokeGroupInvite unknown", s.RevokeGroupInvite(ctx(), other[:]), store.ErrNotFound)
		}},
		{"DeleteAccountLeavesGroups", func(t *testing.T, s store.Store) {
			fillUser(t, s, bob, 2)
			fillUser(t, s, "bob@example.org.uk", 3)
			ms := []store.GroupMember{member(alice, store.RoleOwner, 1), member(bob, store.RoleMember, 1),
				member("bob@example.org.uk", store.RoleMember, 1)}
			must(t, "CreateGroup", s.CreateGroup(ctx(), sampleGroup("g1"), ms))
			must(t, "CreateGroup g2", s.CreateGroup(ctx(), sampleGroup("g2"), ms[:2]))
			must(t, "DeleteAccount", s.DeleteAccount(ctx(), bob))
			checkUserGroups(t, s, bob)
			checkUserGroups(t, s, "bob@example.org.uk", "g1")
			checkMembers(t, s, "g1", ms[0], ms[2])
			checkMembers(t, s, "g2", ms[0])
		}},
	})
}

func runGroupReceipts(t *testing.T, f Factory) {
	const alice, bob, carol = "alice@example.org", "bob@example.org", "carol@example.org"
	subtests(t, f, []namedTest{
		{"SenderAndReceipts", func(t *testing.T, s store.Store) {
			_, err := s.GroupMessageSender(ctx(), "g1", "m1")
			wantErr(t, "GroupMessageSender", err, store.ErrNotFound)
			got, err := s.GroupReceipts(ctx(), "g1", "m1")
			must(t, "GroupReceipts", err)
			if got == nil || len(got) != 0 {
				t.Fatalf("GroupReceipts of nothing = %+v", got)
			}
			must(t, "RecordGroupMessage", s.RecordGroupMessage(ctx(), "g1", "m1", alice))
			must(t, "RecordGroupMessage again", s.RecordGroupMessage(ctx(), "g1", "m1", alice))
			sender, err := s.GroupMessageSender(ctx(), "g1", "m1")
			must(t, "GroupMessageSender", err)
			if sender != alice {
				t.Fatalf("sender = %q", sender)
			}
			must(t, "Mark carol read", s.MarkGroupReceipt(ctx(), "g1", "m1", carol, true, ts(2)))
			must(t, "Mark bob got", s.MarkGroupReceipt(ctx(), "g1", "m1", bob, false, ts(1)))
			must(t, "Mark bob got again", s.MarkGroupReceipt(ctx(), "g1", "m1", bob, false, ts(5)))
			must(t, "Mark carol got late", s.MarkGroupReceipt(ctx(), "g1", "m1", carol, false, ts(6)))
			must(t, "Mark bob read", s.MarkGroupReceipt(ctx(), "g1", "m1", bob, true, ts(3)))
			must(t, "Mark on m2", s.MarkGroupReceipt(ctx(), "g1", "m2", bob, false, ts(4)))
			got, err = s.GroupReceipts(ctx(), "g1", "m1")
			must(t, "GroupReceipts", err)
			want := []store.GroupReceipt{{Member: bob, Delivered: ts(1), Displayed: ts(3)}, {Member: carol, Delivered: ts(2), Displayed: ts(2)}}
			if len(got) != len(want) {
				t.Fatalf("GroupReceipts = %+v, want %+v", got, want)
			}
			for i := range want {
				if got[i].Member != want[i].Member || !got[i].Delivered.Equal(want[i].Delivered) || !got[i].Displayed.Equal(want[i].Displayed) {
					t.Fatalf("GroupReceipts = %+v, want %+v", got, want)
				}
			}
		}},
	})
}
