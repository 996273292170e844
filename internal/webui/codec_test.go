package webui

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/binary"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

var update = flag.Bool("update", false, "rewrite static/js/dict.js from the Go dictionary")

const goldenDir = "../wire/binary/testdata/golden"

// TestDictJSMatchesGo: static/js/dict.js is the Go codec's dictionary
// version 1, entry for entry ("go test -run DictJS -update" rewrites it).
func TestDictJSMatchesGo(t *testing.T) {
	d, ok := binary.DictionaryVersion(1)
	if !ok {
		t.Fatal("no dictionary v1")
	}
	var b strings.Builder
	b.WriteString("// Generated from internal/wire/binary (dictionary version 1) by\n")
	b.WriteString("// `go test ./internal/webui -run DictJS -update`. Do not edit.\n")
	b.WriteString("export const TOKENS = Object.freeze([\n")
	for i := range d.Len() {
		q, _ := json.Marshal(d.Token(i))
		fmt.Fprintf(&b, "  %s,\n", q)
	}
	b.WriteString("]);\n")
	const path = "static/js/dict.js"
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != b.String() {
		t.Fatalf("%s differs from the Go dictionary (%v): run go test ./internal/webui -run DictJS -update", path, err)
	}
}

// goldenCase is one golden vector for the JavaScript test: the element
// tree the XML parses to, and the frame the Go encoder writes for it.
type goldenCase struct {
	Name  string          `json:"name"`
	Tree  *stanza.Element `json:"tree"`
	Frame string          `json:"frame"`
}

func readHex(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var digits strings.Builder
	for line := range strings.Lines(string(raw)) {
		if !strings.HasPrefix(line, "#") {
			digits.WriteString(strings.Join(strings.Fields(line), ""))
		}
	}
	if _, err := hex.DecodeString(digits.String()); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return digits.String()
}

// TestJSCodecGoldenVectors runs static/js/codec.js under node on every
// golden vector of the Go codec: the JS decoder turns preamble + frame into
// the same tree, and the JS encoder writes the same bytes.
func TestJSCodecGoldenVectors(t *testing.T) {
	nodePath(t)
	files, err := filepath.Glob(goldenDir + "/*.xml")
	if err != nil || len(files) < 30 {
		t.Fatalf("%d golden files: %v", len(files), err)
	}
	var cases []goldenCase
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		el, err := xmlstream.ParseElement(bytes.TrimSpace(src), stanza.NSClient, xmlstream.DefaultLimits())
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		cases = append(cases, goldenCase{Name: name, Tree: el, Frame: readHex(t, strings.TrimSuffix(f, ".xml")+".hex")})
	}
	in := map[string]any{"preamble": readHex(t, goldenDir+"/preamble.hex"), "strings": []string{"example.com"}, "cases": cases}
	data, _ := json.Marshal(in)
	path := filepath.Join(t.TempDir(), "golden.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := runNode(t, "testdata/codec_check.mjs", path)
	want := fmt.Sprintf("%d passed, 0 failed", 2*len(cases)+4)
	if !strings.Contains(out, want) {
		t.Fatalf("node output lacks %q:\n%s", want, out)
	}
	t.Logf("%s", strings.TrimSpace(out))
}
