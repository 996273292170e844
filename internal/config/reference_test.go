package config

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the reference in docs/configuration.md from the code")

const docPath = "../../docs/configuration.md"

// TestReferenceInDocs checks that docs/configuration.md holds exactly
// Reference() between its markers. After changing a field or a tag, run
//
//	go test ./internal/config -run TestReferenceInDocs -update
func TestReferenceInDocs(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	begin := strings.Index(doc, ReferenceBegin)
	end := strings.Index(doc, ReferenceEnd)
	if begin < 0 || end < begin {
		t.Fatalf("%s: markers %q and %q not found in order", docPath, ReferenceBegin, ReferenceEnd)
	}
	head, body, tail := doc[:begin+len(ReferenceBegin)], doc[begin+len(ReferenceBegin):end], doc[end:]
	want := "\n" + Reference() + ReferenceEnd
	if body+ReferenceEnd == want {
		return
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(head+want+tail[len(ReferenceEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date with the code; run\n\tgo test ./internal/config -run TestReferenceInDocs -update\ngot:\n%s\nwant:\n%s",
		docPath, body, "\n"+Reference())
}

// TestReferenceCoversEveryField checks the table has a row per setting.
func TestReferenceCoversEveryField(t *testing.T) {
	ref := Reference()
	for _, f := range fields() {
		for _, s := range []string{"`--" + f.flag, "`" + f.env + "`", "`" + f.toml + "`"} {
			if !strings.Contains(ref, s) {
				t.Errorf("reference lacks %s", s)
			}
		}
	}
	if !strings.Contains(ref, "`"+FileEnv+"`") {
		t.Error("reference lacks the config file row")
	}
}

// TestDocExampleIsValid loads the example parley.toml of the docs.
func TestDocExampleIsValid(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```toml\n(.*?)```").FindSubmatch(raw)
	if m == nil {
		t.Fatalf("%s has no ```toml example", docPath)
	}
	c, err := load(writeFile(t, string(m[1])), nil, noEnv)
	if err != nil {
		t.Fatalf("example: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("example: %v", err)
	}
}
