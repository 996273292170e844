package csi

import (
	"context"
	"errors"
	"sync"

	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
)

// NS is the namespace of XEP-0352.
const NS = "urn:xmpp:csi:0"

// ErrNoStreamExtension is returned by Register when the Host cannot carry
// nonzas or stream features.
var ErrNoStreamExtension = errors.New("csi: the host does not implement module.StreamExtender")

// Feature is the client state indication module.
type Feature struct {
	mu       sync.Mutex
	inactive map[module.Session]struct{} // guarded by mu
}

// New returns the feature.
func New() *Feature { return &Feature{inactive: make(map[module.Session]struct{})} }

// Name implements module.Feature.
func (f *Feature) Name() string { return "csi" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	ext, ok := h.(module.StreamExtender)
	if !ok {
		return ErrNoStreamExtension
	}
	ext.AddStreamFeature(stanza.NewElement(NS, "csi"))
	h.OnSessionEnded(f.forget)
	return ext.HandleNonza(NS, f.nonza)
}

// nonza handles <active/> and <inactive/> (module.NonzaHandler). Other
// elements in the namespace are ignored.
func (f *Feature) nonza(_ context.Context, s module.Session, el *stanza.Element) {
	hs, ok := s.(module.Holdable)
	if !ok {
		return
	}
	switch el.Name {
	case "inactive":
		if f.setInactive(s, true) {
			hs.SetHolder(newHold())
		}
	case "active":
		if f.setInactive(s, false) {
			hs.SetHolder(nil)
		}
	}
}

// setInactive records the state of s and reports whether it changed.
func (f *Feature) setInactive(s module.Session, inactive bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, was := f.inactive[s]
	if was == inactive {
		return false
	}
	if inactive {
		f.inactive[s] = struct{}{}
	} else {
		delete(f.inactive, s)
	}
	return true
}

// Inactive reports whether s said it is inactive.
func (f *Feature) Inactive(s module.Session) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.inactive[s]
	return ok
}

func (f *Feature) forget(_ context.Context, s module.Session) {
	f.mu.Lock()
	delete(f.inactive, s)
	f.mu.Unlock()
}
