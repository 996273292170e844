package server

import (
	"time"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/c2s"
	"github.com/parley-im/parley/internal/feature/blocking"
	"github.com/parley-im/parley/internal/feature/carbons"
	"github.com/parley-im/parley/internal/feature/csi"
	"github.com/parley-im/parley/internal/feature/privacy"
	"github.com/parley-im/parley/internal/feature/register"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/store"
)

// mobileStore is the storage of issue 3's features: the contracts of every
// backend plus those not yet in store.Store.
type mobileStore interface {
	store.Store
	store.Privacy
}

// mobileFeatures builds the features of issue 3 that are on: carbons,
// blocking, client state indication and privacy always, in-band
// registration with --allow-registration. The registrar (nil when
// registration is off) is the c2s half of registration.
func mobileFeatures(allowRegistration bool, perHour int, st mobileStore) ([]module.Feature, c2s.Registrar, error) {
	features := []module.Feature{carbons.New(), blocking.New(st), csi.New(), privacy.New(st)}
	if !allowRegistration {
		return features, nil, nil
	}
	reg, err := register.New(register.Config{
		Store: st,
		Credentials: func(password string) (store.SCRAMKeys, store.SCRAMKeys, error) {
			return auth.NewCredentials(password, auth.DefaultIterations)
		},
		Limiter: auth.NewFailureLimiter(perHour, time.Hour),
		Options: register.DefaultOptions(),
	})
	if err != nil {
		return nil, nil, err
	}
	return append(features, reg), reg.Registrar(), nil
}
