package pebble

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/parley-im/parley/internal/store"
)

// prefixPrivacy: 'p' c(user) -> privacy settings (store.Privacy).
const prefixPrivacy = 'p'

func privacyKey(user string) []byte { return userKey(prefixPrivacy, user) }

// GetPrivacy implements store.Privacy.
func (s *Store) GetPrivacy(ctx context.Context, user string) (store.PrivacySettings, error) {
	if err := s.enter(ctx); err != nil {
		return store.PrivacySettings{}, err
	}
	defer s.exit()
	v, err := s.get(privacyKey(user))
	if errors.Is(err, store.ErrNotFound) {
		return store.PrivacySettings{}, nil
	}
	if err != nil {
		return store.PrivacySettings{}, fmt.Errorf("privacy of %s: %w", user, err)
	}
	return decodePrivacy(user, v)
}

// PutPrivacy implements store.Privacy: one durable set under the user's
// shard lock (changeBlocklist applies any per-user batch).
func (s *Store) PutPrivacy(ctx context.Context, user string, p store.PrivacySettings) error {
	return s.changeBlocklist(ctx, user, func(b *pebble.Batch) {
		_ = b.Set(privacyKey(user), encodePrivacy(p), nil)
	})
}

// encodePrivacy: version, last-seen audience, flags, photo audience.
func encodePrivacy(p store.PrivacySettings) []byte {
	var flags byte
	if p.OnlineAsLastSeen {
		flags |= 1
	}
	if p.ReadReceiptsOff {
		flags |= 2
	}
	return []byte{recordV1, byte(p.LastSeen), flags, byte(p.Photo)}
}

func decodePrivacy(user string, v []byte) (store.PrivacySettings, error) {
	r := newReader(v)
	last, flags, photo := r.byte(), r.byte(), r.byte()
	if err := r.done("privacy of " + user); err != nil {
		return store.PrivacySettings{}, err
	}
	if last > byte(store.AudienceNobody) || photo > byte(store.AudienceNobody) || flags > 3 {
		return store.PrivacySettings{}, fmt.Errorf("%w: privacy of %s", errCorrupt, user)
	}
	return store.PrivacySettings{LastSeen: store.Audience(last), OnlineAsLastSeen: flags&1 != 0,
		ReadReceiptsOff: flags&2 != 0, Photo: store.Audience(photo)}, nil
}

var _ store.Privacy = (*Store)(nil)
