package binary

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// Run "go test -run Golden -update ./internal/wire/binary/" after a
// deliberate format change (a new dictionary version, say) and review the
// diff of testdata: any other change to these files is a format break.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// readHex reads a .hex golden file: hex digits, white space ignored, lines
// starting with '#' are comments.
func readHex(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var digits strings.Builder
	for line := range strings.Lines(string(raw)) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		digits.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(digits.String())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

func formatHex(comment string, b []byte) []byte {
	var out bytes.Buffer
	fmt.Fprintf(&out, "# %s\n", comment)
	for i := 0; i < len(b); i += 16 {
		line := b[i:min(i+16, len(b))]
		for j, c := range line {
			if j > 0 {
				out.WriteByte(' ')
			}
			fmt.Fprintf(&out, "%02x", c)
		}
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func checkGolden(t *testing.T, path string, want []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the code produces:\n%s\nwant\n%s", path, got, want)
	}
}

// TestGoldenStanzas: each testdata/golden/NAME.xml encodes to exactly the
// frame in NAME.hex (the encoder has not drifted), and the preamble plus
// that frame decode to the parsed XML (the decoder has not drifted).
func TestGoldenStanzas(t *testing.T) {
	enc := testEncoder(t)
	pre := enc.AppendPreamble(nil)
	checkGolden(t, "testdata/golden/preamble.hex", formatHex(
		fmt.Sprintf("preamble: magic PRLB, version 1, dictionary 1, 1 string %q", testDomain), pre))
	if !bytes.Equal(readHex(t, "testdata/golden/preamble.hex"), pre) {
		t.Fatal("preamble.hex differs from the encoder's preamble")
	}
	files, err := filepath.Glob("testdata/golden/*.xml")
	if err != nil || len(files) < 30 {
		t.Fatalf("%d golden files, %v", len(files), err)
	}
	for _, xmlPath := range files {
		name := strings.TrimSuffix(filepath.Base(xmlPath), ".xml")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(xmlPath)
			if err != nil {
				t.Fatal(err)
			}
			el := parseXML(t, string(bytes.TrimSpace(src)))
			frame := enc.AppendStanza(nil, el)
			x := xmlstream.AppendElement(nil, el, stanza.NSClient)
			hexPath := strings.TrimSuffix(xmlPath, ".xml") + ".hex"
			checkGolden(t, hexPath, formatHex(fmt.Sprintf("%s: %d bytes (XML %d bytes)", name, len(frame), len(x)), frame))

			golden := readHex(t, hexPath)
			res := decodeAll(t, append(pre, golden...), 0, DefaultLimits())
			if res.err != nil || len(res.toks) != 2 {
				t.Fatalf("decoding %s: %v", hexPath, res.err)
			}
			got := res.toks[1].Element
			if !stanza.Equal(got, el) {
				t.Fatalf("%s decodes to\n%v\nwant\n%v", hexPath, got, el)
			}
			if out := xmlstream.AppendElement(nil, got, stanza.NSClient); !bytes.Equal(out, x) {
				t.Fatalf("XML of the decoded stanza differs:\n%s\n%s", out, x)
			}
		})
	}
}

// TestDictionaryGolden pins every token code of dictionary version 1:
// testdata/dictionary-v1.txt is the reference table docs/protocol/binary.md
// points to.
func TestDictionaryGolden(t *testing.T) {
	d, ok := DictionaryVersion(1)
	if !ok {
		t.Fatal("no dictionary v1")
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "# Parley binary dictionary version 1: %d tokens. Code (hex) TAB token.\n", d.Len())
	fmt.Fprintf(&out, "# One-byte codes 01-cf; two-byte codes e0-e3 followed by a byte. Frozen: see docs/protocol/binary.md.\n")
	for i := range d.Len() {
		code := appendToken(nil, i)
		fmt.Fprintf(&out, "%s\t%s\n", strings.TrimSpace(fmt.Sprintf("% x", code)), d.Token(i))
		if got := d.lookup(d.Token(i)); got != i {
			t.Errorf("lookup(%q) = %d, want %d", d.Token(i), got, i)
		}
	}
	checkGolden(t, "testdata/dictionary-v1.txt", out.Bytes())
	for _, s := range []string{"", "nope", "message ", "Message", strings.Repeat("x", 100)} {
		if i := d.lookup(s); i >= 0 {
			t.Errorf("lookup(%q) = %d", s, i)
		}
	}
	// The namespaces the stanza package names are all tokens.
	for _, ns := range []string{stanza.NSXML, stanza.NSClient, stanza.NSStream, stanza.NSFraming, stanza.NSStreamErr,
		stanza.NSStanzaErr, stanza.NSTLS, stanza.NSSASL, stanza.NSSASLChannelBinding, stanza.NSBind, stanza.NSSession,
		stanza.NSSM, stanza.NSRoster, stanza.NSRosterVer, stanza.NSPreApproval, stanza.NSDiscoInfo, stanza.NSDiscoItems,
		stanza.NSVersion, stanza.NSPing, stanza.NSLast, stanza.NSRegister, stanza.NSRegisterFeature, stanza.NSDelay,
		stanza.NSSID, stanza.NSReceipts, stanza.NSMarkers, stanza.NSChatStates, stanza.NSHints, stanza.NSOffline} {
		if d.lookup(ns) < 0 {
			t.Errorf("namespace %s is not a token", ns)
		}
	}
}
