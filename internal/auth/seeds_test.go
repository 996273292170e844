package auth

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xdg-go/scram"
)

// The seed corpus of FuzzSCRAMServer is committed in
// testdata/fuzz/FuzzSCRAMServer. Regenerate it with
//
//	PARLEY_WRITE_FUZZ_SEEDS=1 go test -run TestFuzzSeeds ./internal/auth
const seedDir = "testdata/fuzz/FuzzSCRAMServer"

type fuzzSeed struct {
	name         string
	mech         uint8
	first, final []byte
}

// fuzzSeeds computes valid exchanges for every mechanism with the
// library's client (fixed client nonce) against fuzzAuth, plus a few
// near-misses.
func fuzzSeeds(t testing.TB) []fuzzSeed {
	t.Helper()
	serverFirst := fmt.Sprintf("r=CLIENT%s,s=QSXCR+Q6sek8bf92,i=%d", fuzzServerNonce, fuzzIterations)
	exchange := func(h scram.HashGeneratorFcn, authz string, conv func(*scram.Client) *scram.ClientConversation) ([]byte, []byte) {
		c := scramClient(t, h, "user", "pencil", authz).WithNonceGenerator(func() string { return "CLIENT" }).WithMinIterations(1)
		cv := conv(c)
		first, _ := cv.Step("")
		final, err := cv.Step(serverFirst)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(first), []byte(final)
	}
	plain := func(c *scram.Client) *scram.ClientConversation { return c.NewConversation() }
	bound := func(c *scram.Client) *scram.ClientConversation {
		return c.NewConversationWithChannelBinding(scram.ChannelBinding{Type: scram.ChannelBindingTLSExporter, Data: fuzzCB})
	}
	advertise := func(c *scram.Client) *scram.ClientConversation { return c.NewConversationAdvertisingChannelBinding() }

	var seeds []fuzzSeed
	for i, m := range fuzzMechs {
		name := strings.ToLower(m)
		switch m {
		case MechPlain:
			seeds = append(seeds,
				fuzzSeed{name, uint8(i), []byte("\x00user\x00pencil"), nil},
				fuzzSeed{name + "-authzid", uint8(i), []byte("user@example.org\x00user\x00pencil"), nil})
			continue
		case MechSCRAMSHA256, MechSCRAMSHA256Plus:
			conv := plain
			if m == MechSCRAMSHA256Plus {
				conv = bound
			}
			first, final := exchange(scram.SHA256, "", conv)
			seeds = append(seeds, fuzzSeed{name, uint8(i), first, final})
			first, final = exchange(scram.SHA256, "user@example.org", conv)
			seeds = append(seeds, fuzzSeed{name + "-authzid", uint8(i), first, final})
		default:
			conv := plain
			if m == MechSCRAMSHA1Plus {
				conv = bound
			}
			first, final := exchange(scram.SHA1, "", conv)
			seeds = append(seeds, fuzzSeed{name, uint8(i), first, final})
		}
	}
	first, final := exchange(scram.SHA256, "", advertise)
	seeds = append(seeds, fuzzSeed{"scram-sha-256-y-no-binding", 0x80, first, final})
	return seeds
}

func encodeSeed(s fuzzSeed) string {
	return fmt.Sprintf("go test fuzz v1\nuint8(%d)\n[]byte(%q)\n[]byte(%q)\n", s.mech, s.first, s.final)
}

// decodeSeed parses the corpus format Go writes for (uint8, []byte, []byte).
func decodeSeed(data string) (fuzzSeed, error) {
	lines := strings.Split(strings.TrimSpace(data), "\n")
	if len(lines) != 4 || lines[0] != "go test fuzz v1" {
		return fuzzSeed{}, fmt.Errorf("bad corpus file")
	}
	var s fuzzSeed
	m, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(lines[1], "uint8("), ")"), 10, 8)
	if err != nil {
		return s, err
	}
	s.mech = uint8(m)
	for i, dst := range []*[]byte{&s.first, &s.final} {
		q, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[2+i], "[]byte("), ")"))
		if err != nil {
			return s, err
		}
		*dst = []byte(q)
	}
	return s, nil
}

// TestFuzzSeeds checks that the committed corpus is the generated one and
// that every seed is a successful exchange.
func TestFuzzSeeds(t *testing.T) {
	seeds := fuzzSeeds(t)
	if os.Getenv("PARLEY_WRITE_FUZZ_SEEDS") != "" {
		if err := os.MkdirAll(seedDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range seeds {
			if err := os.WriteFile(filepath.Join(seedDir, s.name), []byte(encodeSeed(s)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := fuzzAuth(t)
	ctx := context.Background()
	for _, want := range seeds {
		data, err := os.ReadFile(filepath.Join(seedDir, want.name))
		if err != nil {
			t.Fatalf("seed %s missing (regenerate, see seedDir): %v", want.name, err)
		}
		s, err := decodeSeed(string(data))
		if err != nil {
			t.Fatalf("seed %s: %v", want.name, err)
		}
		if encodeSeed(s) != encodeSeed(want) {
			t.Errorf("seed %s is stale", want.name)
		}
		cfg := cbConfig(fuzzCB)
		if s.mech&0x80 != 0 {
			cfg = plainConfig()
		}
		n, _, err := a.Start(ctx, cfg, fuzzMechs[int(s.mech&0x7f)%len(fuzzMechs)], s.first)
		if err == nil && !n.Done() {
			_, err = n.Step(ctx, s.final)
		}
		if err != nil || !n.Done() {
			t.Errorf("seed %s does not authenticate: %v", want.name, err)
		}
	}
}
