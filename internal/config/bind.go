package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/pflag"
)

// The file that holds the configuration is named by a flag and a variable of
// its own; it is not a field of Config.
const (
	FileFlag = "config"
	FileEnv  = "PARLEY_CONFIG"
)

// field describes one Config field, from its struct tags.
type field struct {
	index int    // in Config
	name  string // Go name
	toml  string
	flag  string
	env   string
	help  string
	kind  kind
}

type kind int

const (
	kindString kind = iota
	kindBool
	kindInt
	kindDuration
)

func (k kind) String() string {
	return [...]string{"string", "bool", "int", "duration"}[k]
}

var durationType = reflect.TypeFor[time.Duration]()

// fields lists Config's fields in declaration order. It panics if a field
// lacks a tag or has an unsupported type: a programming error that every
// test of this package catches.
func fields() []field {
	t := reflect.TypeFor[Config]()
	out := make([]field, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		f := field{index: i, name: sf.Name, toml: sf.Tag.Get("toml"), flag: sf.Tag.Get("flag"),
			env: sf.Tag.Get("env"), help: sf.Tag.Get("help")}
		if f.toml == "" || f.flag == "" || f.env == "" || f.help == "" || !strings.HasPrefix(f.env, "PARLEY_") {
			panic("config: field " + sf.Name + " needs toml, flag, env (PARLEY_*) and help tags")
		}
		switch {
		case sf.Type == durationType:
			f.kind = kindDuration
		case sf.Type.Kind() == reflect.String:
			f.kind = kindString
		case sf.Type.Kind() == reflect.Bool:
			f.kind = kindBool
		case sf.Type.Kind() == reflect.Int:
			f.kind = kindInt
		default:
			panic("config: field " + sf.Name + " has unsupported type " + sf.Type.String())
		}
		out = append(out, f)
	}
	return out
}

// value returns the addressable field f of c.
func (f field) value(c *Config) reflect.Value { return reflect.ValueOf(c).Elem().Field(f.index) }

// parse sets field f of c from its text form (environment, flags).
func (f field) parse(c *Config, s string) error {
	v := f.value(c)
	switch f.kind {
	case kindString:
		v.SetString(s)
	case kindBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean (use true or false)", s)
		}
		v.SetBool(b)
	case kindInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 0)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		v.SetInt(n)
	case kindDuration:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a duration (write it like 300s, 5m or 1h30m)", s)
		}
		v.SetInt(int64(d))
	}
	return nil
}

// setTOML sets field f of c from a decoded TOML value.
func (f field) setTOML(c *Config, x any) error {
	v := f.value(c)
	switch f.kind {
	case kindString:
		s, ok := x.(string)
		if !ok {
			return fmt.Errorf("want a string, got %s", tomlType(x))
		}
		v.SetString(s)
	case kindBool:
		b, ok := x.(bool)
		if !ok {
			return fmt.Errorf("want true or false, got %s", tomlType(x))
		}
		v.SetBool(b)
	case kindInt:
		n, ok := x.(int64)
		if !ok {
			return fmt.Errorf("want an integer, got %s", tomlType(x))
		}
		v.SetInt(n)
	case kindDuration:
		s, ok := x.(string)
		if !ok {
			return fmt.Errorf(`want a duration string such as "300s" or "5m", got %s`, tomlType(x))
		}
		return f.parse(c, s)
	}
	return nil
}

// format renders field f of c as its flag and environment variable take it.
func (f field) format(c *Config) string {
	v := f.value(c)
	switch f.kind {
	case kindBool:
		return strconv.FormatBool(v.Bool())
	case kindInt:
		return strconv.FormatInt(v.Int(), 10)
	case kindDuration:
		return time.Duration(v.Int()).String()
	default:
		return v.String()
	}
}

func tomlType(x any) string {
	switch x.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	default:
		return fmt.Sprintf("%T", x)
	}
}

// Bind registers every field of Config as a flag on fs, with the current
// value of the field in *c as its default, writing parsed values to *c. Use
// Load afterwards to layer the sources.
func Bind(fs *pflag.FlagSet, c *Config) {
	for _, f := range fields() {
		bindOne(fs, c, f)
	}
}

// BindSome is Bind for the named flags only (for commands that need a few
// settings). It panics if a name is not a flag of Config.
func BindSome(fs *pflag.FlagSet, c *Config, flags ...string) {
	all := fields()
	for _, name := range flags {
		i := indexOf(all, name)
		if i < 0 {
			panic("config: no flag --" + name)
		}
		bindOne(fs, c, all[i])
	}
}

func indexOf(fs []field, flag string) int {
	for i, f := range fs {
		if f.flag == flag {
			return i
		}
	}
	return -1
}

// Describe replaces the --help text of the setting flag bound on fs, for a
// command that uses the setting for less than "parley serve" does (the
// standalone media server and relay), so that the text stays true there.
// It panics if flag is not a setting bound on fs.
func Describe(fs *pflag.FlagSet, flag, help string) {
	all := fields()
	i, fl := indexOf(all, flag), fs.Lookup(flag)
	if i < 0 || fl == nil {
		panic("config: no bound flag --" + flag)
	}
	fl.Usage = usage(help, all[i])
}

// usage is the --help text of a setting's flag: help and the variable.
func usage(help string, f field) string { return help + " (env " + f.env + ")" }

func bindOne(fs *pflag.FlagSet, c *Config, f field) {
	usage := usage(f.help, f)
	switch p := f.value(c).Addr().Interface().(type) {
	case *string:
		fs.StringVar(p, f.flag, *p, usage)
	case *bool:
		fs.BoolVar(p, f.flag, *p, usage)
	case *int:
		fs.IntVar(p, f.flag, *p, usage)
	case *time.Duration:
		fs.DurationVar(p, f.flag, *p, usage)
	}
}

// Load returns the configuration from, lowest precedence first: Default(),
// the TOML file at path (none when path is ""), PARLEY_* environment
// variables, and the flags of fs that were set on the command line (fs may
// be nil). It does not call Validate. Errors name the file key, the variable
// or the flag at fault.
func Load(path string, fs *pflag.FlagSet) (Config, error) {
	return load(path, fs, os.LookupEnv)
}

func load(path string, fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) (Config, error) {
	c, _, err := loadAll(path, fs, lookupEnv)
	if err != nil {
		return Config{}, err
	}
	return c, nil
}

// LoadValid is Load followed by Validate, with every problem of both
// listed; a problem with a value read from the configuration file names
// the file's key instead of the flag. On error the configuration is
// returned as far as it loaded (bad values left at their defaults), for
// callers that check more of it.
func LoadValid(path string, fs *pflag.FlagSet) (Config, error) {
	return loadValid(path, fs, os.LookupEnv)
}

func loadValid(path string, fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) (Config, error) {
	c, fromFile, err := loadAll(path, fs, lookupEnv)
	errs := []error{err}
	byFlag := make(map[string]field)
	for _, f := range fields() {
		byFlag[f.flag] = f
	}
	for _, e := range unjoin(c.Validate()) {
		if se, ok := e.(*settingError); ok && fromFile[se.flag] {
			e = fmt.Errorf("config file %s: %s = %s: %s", path, byFlag[se.flag].toml, tomlQuote(se.value), se.msg)
		}
		errs = append(errs, e)
	}
	return c, errors.Join(errs...)
}

// unjoin returns the errors errors.Join joined into err.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}

// tomlQuote renders a value of a setting as it is written in the
// configuration file.
func tomlQuote(v any) string {
	if d, ok := v.(time.Duration); ok {
		return tomlString(shortDuration(d))
	}
	return quote(v)
}

// loadAll is load going on past errors: it returns the configuration with
// every value that parsed, the flags whose values came from the file, and
// every problem met.
func loadAll(path string, fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) (Config, map[string]bool, error) {
	c := Default()
	all := fields()
	fromFile := make(map[string]bool)
	var errs []error
	if path != "" {
		errs = append(errs, loadFile(&c, all, path, fromFile))
	}
	for _, f := range all {
		s, ok := lookupEnv(f.env)
		if !ok || (s == "" && f.kind != kindString) {
			continue // an empty string is a value (it disables a listener); for other types it means unset
		}
		delete(fromFile, f.flag)
		if err := f.parse(&c, s); err != nil {
			errs = append(errs, fmt.Errorf("environment variable %s: %w", f.env, err))
		}
	}
	if fs != nil {
		errs = append(errs, loadFlags(&c, all, fs, fromFile))
	}
	return c, fromFile, errors.Join(errs...)
}

// loadFlags applies the flags of fs set on the command line to c; their
// values no longer come from the file.
func loadFlags(c *Config, all []field, fs *pflag.FlagSet, fromFile map[string]bool) error {
	var errs []error
	for _, f := range all {
		fl := fs.Lookup(f.flag)
		if fl == nil || !fl.Changed {
			continue
		}
		delete(fromFile, f.flag)
		if err := f.parse(c, fl.Value.String()); err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", f.flag, err))
		}
	}
	return errors.Join(errs...)
}

// loadFile applies the TOML file at path to c, noting in fromFile the
// flags of the keys it set. Unknown keys are errors.
func loadFile(c *Config, all []field, path string, fromFile map[string]bool) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var m map[string]any
	if _, err := toml.Decode(string(raw), &m); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	byKey := make(map[string]field, len(all))
	for _, f := range all {
		byKey[f.toml] = f
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		f, ok := byKey[k]
		if !ok {
			errs = append(errs, fmt.Errorf("config file %s: unknown key %q%s", path, k, suggest(all, k)))
			continue
		}
		if err := f.setTOML(c, m[k]); err != nil {
			errs = append(errs, fmt.Errorf("config file %s: key %q: %w", path, k, err))
			continue
		}
		fromFile[f.flag] = true
	}
	return errors.Join(errs...)
}

// suggest proposes the key a misspelt one was probably meant to be: the same
// key written with dashes, or a key that differs by case.
func suggest(all []field, key string) string {
	norm := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	for _, f := range all {
		if f.toml == norm {
			return fmt.Sprintf(" (did you mean %q?)", f.toml)
		}
	}
	return ""
}
