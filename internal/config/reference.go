package config

import (
	"fmt"
	"strings"
	"time"
)

// Markers around the generated reference in docs/configuration.md.
const (
	ReferenceBegin = "<!-- BEGIN CONFIG REFERENCE -->"
	ReferenceEnd   = "<!-- END CONFIG REFERENCE -->"
)

// Reference renders the configuration reference as a Markdown table: one
// row per setting with its flag, environment variable, TOML key, default
// and description, all taken from Config's tags and Default. The text
// between the markers in docs/configuration.md is exactly this (a test
// checks it).
func Reference() string {
	var b strings.Builder
	b.WriteString("| Flag | Environment | TOML key | Default | Description |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	fmt.Fprintf(&b, "| `--%s string` | `%s` | | | the TOML configuration file to read (none by default) |\n", FileFlag, FileEnv)
	def := Default()
	for _, f := range fields() {
		arg := " " + f.kind.String() // as --help shows it
		if f.kind == kindBool {
			arg = ""
		}
		fmt.Fprintf(&b, "| `--%s%s` | `%s` | `%s` | `%s` | %s |\n",
			f.flag, arg, f.env, f.toml, f.tomlValue(&def), markdownText(f.help))
	}
	return b.String()
}

// markdownText escapes text for a Markdown table cell.
func markdownText(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

// TOML renders c as a TOML configuration file, each key preceded by its
// description. Loading the result gives c back.
func (c Config) TOML() string {
	var b strings.Builder
	for i, f := range fields() {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "# %s\n%s = %s\n", f.help, f.toml, f.tomlValue(&c))
	}
	return b.String()
}

// tomlValue renders field f of c as a TOML value.
func (f field) tomlValue(c *Config) string {
	v := f.value(c)
	switch f.kind {
	case kindString:
		return tomlString(v.String())
	case kindDuration:
		return tomlString(shortDuration(time.Duration(v.Int())))
	default:
		return f.format(c)
	}
}

// shortDuration is d.String() without zero trailing units: "5m", not "5m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u`)
			b.WriteString(fmt.Sprintf("%04X", r))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
