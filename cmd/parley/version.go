package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the source revision and the Go version",
		Long: `Print Parley's version, the source revision it was built from (when the
build recorded it) and the Go toolchain that built it. Include this in bug
reports.`,
		Example: `  parley version`,
		Args:    cobra.NoArgs,
		RunE: runE(func(*cobra.Command, []string) error {
			fmt.Fprint(a.stdout, versionInfo())
			return nil
		}),
	}
}

// buildInfo is what the binary knows about its build.
type buildInfo struct {
	version, commit, time string
	modified              bool
}

func readBuildInfo() buildInfo {
	b := buildInfo{version: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.version = bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.commit = s.Value
		case "vcs.time":
			b.time = s.Value
		case "vcs.modified":
			b.modified = s.Value == "true"
		}
	}
	return b
}

// versionLine is the one-line version (parley --version).
func versionLine() string {
	b := readBuildInfo()
	if b.commit != "" {
		return b.version + " (" + short(b.commit) + ")"
	}
	return b.version
}

// versionInfo is the output of "parley version".
func versionInfo() string {
	b := readBuildInfo()
	var s strings.Builder
	fmt.Fprintf(&s, "parley  %s\n", b.version)
	commit := "unknown (built without version control information)"
	if b.commit != "" {
		commit = b.commit
		if b.time != "" {
			commit += " " + b.time
		}
		if b.modified {
			commit += " (with uncommitted changes)"
		}
	}
	fmt.Fprintf(&s, "commit  %s\n", commit)
	fmt.Fprintf(&s, "go      %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return s.String()
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
