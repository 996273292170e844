package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/parley-im/parley/client"
)

// Register creates every device's account by in-band registration
// (XEP-0077), RegistrationsInFlight (or LoginsInFlight) at a time; accounts that already exist are
// fine. It works against any server that allows registration, which is
// how the peers' accounts are made for a comparison.
func Register(ctx context.Context, cfg Config) error {
	if err := cfg.fill(); err != nil {
		return err
	}
	bar := newBar(cfg.Progress, cfg.Devices, "registering")
	defer bar.done()
	inFlight := cfg.RegistrationsInFlight
	if inFlight <= 0 {
		inFlight = cfg.LoginsInFlight
	}
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := range cfg.Devices {
		sem <- struct{}{}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := client.Register(ctx, cfg.clientOptions(i))
			var iqe *client.IQError
			if err != nil && !(errors.As(err, &iqe) && iqe.Condition == "conflict") {
				once.Do(func() { first = fmt.Errorf("registering %s: %w", cfg.jid(i), err) })
				return
			}
			bar.add()
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
