package server

import (
	"time"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/c2s"
	"github.com/parley-im/parley/internal/feature/blocking"
	"github.com/parley-im/parley/internal/feature/carbons"
	"github.com/parley-im/parley/internal/feature/csi"
	"github.com/parley-im/parley/internal/feature/pep"
	"github.com/parley-im/parley/internal/feature/privacy"
	"github.com/parley-im/parley/internal/feature/register"
	"github.com/parley-im/parley/internal/feature/vcard"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/store"
)

// mobileFeatures builds the features of issue 3 that are on: carbons,
// blocking, client state indication, privacy, PEP and vcard-temp (kept in
// a PEP node) always, in-band registration with --allow-registration. The
// registrar (nil when registration is off) is the c2s half of
// registration. codec stores PEP item payloads.
func mobileFeatures(allowRegistration bool, perHour int, st store.Store, codec pep.Codec) ([]module.Feature, c2s.Registrar, error) {
	features := []module.Feature{carbons.New(), blocking.New(st), csi.New(), privacy.New(st), pep.New(st, codec), vcard.New(st, codec)}
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
