// Package config is Parley's server configuration: one typed struct
// (Config) with its defaults (Default), its validation (Config.Validate), and
// the loader that layers the four sources of a value.
//
// Every field declares, in struct tags, its TOML key, its command-line flag,
// its PARLEY_* environment variable and its help text. Everything else is
// derived from those tags by reflection: the flags (Bind), the loading of
// files, environment and flags (Load), the rendering of a configuration as
// TOML (Config.TOML) and the Markdown reference in docs/configuration.md
// (Reference), so the documentation cannot drift from the code.
//
// Precedence, lowest first: defaults, the TOML file, the environment, flags
// set on the command line. Durations are Go duration strings ("300s", "5m")
// in all three sources.
//
// The package holds no state; a Config is a plain value, safe to copy and to
// read from several goroutines.
package config
