package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/internal/admin"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/store/pebble"
)

func newBackupCmd(a *app) *cobra.Command {
	cfg := config.Default()
	var file string
	cmd := &cobra.Command{
		Use:   "backup DIR",
		Short: "Write a consistent snapshot of the embedded store to DIR",
		Long: `Write a consistent snapshot of the embedded store (accounts, rosters,
queued messages, archives, everything in <data>/store) to DIR, which must
not exist yet. It works while "parley serve" runs (through its admin socket;
the server keeps serving: the snapshot is a Pebble checkpoint, mostly hard
links of immutable files) and when it does not.

Bring a snapshot back with "parley restore DIR". The TLS certificate and the
media files in the data directory are plain files: copy them as you would
any file. A PostgreSQL store (--store) is backed up with PostgreSQL's own
tools (pg_dump, or base backups with WAL archiving).`,
		Example: `  parley backup /var/backups/parley/$(date +%F)
  parley backup /tmp/snapshot --data ./parley-data`,
		Args: exactArgs(1, "the directory to write the snapshot to"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			dir, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			if _, err := os.Lstat(dir); err == nil {
				return usagef("%s exists: a snapshot goes to a new directory", dir)
			}
			start := time.Now()
			if err := backup(cmd.Context(), a, cfg, dir); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "snapshot of the store written to %s in %v\n", dir, time.Since(start).Round(time.Millisecond))
			return nil
		}),
	}
	addConfigFileFlag(cmd.Flags(), &file)
	config.BindSome(cmd.Flags(), &cfg, "data", "admin-socket", "store")
	return cmd
}

// backup snapshots through a running server's admin socket, else directly.
func backup(ctx context.Context, a *app, cfg config.Config, dir string) error {
	if cfg.Store != "" {
		return errors.New("--store is PostgreSQL: back it up with pg_dump or PostgreSQL base backups")
	}
	if c, err := admin.Dial(config.AdminSocketPath(cfg)); err == nil {
		defer c.Close()
		return c.Backup(ctx, dir)
	}
	st, err := openStore(cfg, newLogger(cfg, a.stderr), false)
	if err != nil {
		return err
	}
	defer st.Close()
	cp, ok := st.(interface{ Checkpoint(string) error })
	if !ok {
		return errors.New("this store takes no snapshots")
	}
	return cp.Checkpoint(dir)
}

func newRestoreCmd(a *app) *cobra.Command {
	cfg := config.Default()
	var file string
	cmd := &cobra.Command{
		Use:   "restore DIR",
		Short: "Replace the embedded store with a snapshot made by parley backup",
		Long: `Replace the embedded store of the data directory with the snapshot in DIR
(made by "parley backup"). Stop "parley serve" first: restore refuses while a
server answers on the admin socket or holds the store. The current store is
kept beside it as <data>/store.before-restore-<time>, so a restore can be
undone by hand. DIR itself is left as it was.`,
		Example: `  parley restore /var/backups/parley/2026-12-01 --data /var/lib/parley`,
		Args:    exactArgs(1, "the snapshot directory"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			kept, err := restore(a, cfg, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "store restored from %s", args[0])
			if kept != "" {
				fmt.Fprintf(a.stdout, "; the previous store is kept in %s", kept)
			}
			fmt.Fprintln(a.stdout)
			return nil
		}),
	}
	addConfigFileFlag(cmd.Flags(), &file)
	config.BindSome(cmd.Flags(), &cfg, "data", "admin-socket")
	return cmd
}

// restore checks the snapshot, moves the current store aside and copies
// the snapshot in; it returns where the previous store went ("" if none).
func restore(a *app, cfg config.Config, snapshot string) (string, error) {
	if c, err := admin.Dial(config.AdminSocketPath(cfg)); err == nil {
		c.Close()
		return "", errors.New("a server is running on this data directory: stop it first (parley restore replaces its store)")
	}
	if err := looksLikeSnapshot(snapshot); err != nil {
		return "", err
	}
	dir := config.StoreDir(cfg)
	kept := ""
	if _, err := os.Stat(dir); err == nil {
		if lockErr := assertUnlocked(cfg, dir); lockErr != nil {
			return "", lockErr
		}
		kept = dir + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(dir, kept); err != nil {
			return "", err
		}
	} else if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return "", err
	}
	if err := copyTree(snapshot, dir); err != nil {
		return kept, fmt.Errorf("copying the snapshot: %w (the previous store is in %s)", err, kept)
	}
	return kept, nil
}

// looksLikeSnapshot checks that dir holds a Pebble store (its MANIFEST),
// without opening it: opening would write to it.
func looksLikeSnapshot(dir string) error {
	manifests, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
	if len(manifests) == 0 {
		return fmt.Errorf("%s is not a snapshot made by parley backup (no MANIFEST file)", dir)
	}
	return nil
}

// assertUnlocked fails when another process holds the store.
func assertUnlocked(cfg config.Config, dir string) error {
	st, err := pebble.Open(dir, pebble.Options{Logger: newLogger(cfg, io.Discard)})
	if err != nil {
		return fmt.Errorf("the current store in %s cannot be opened (is a server running?): %w", dir, err)
	}
	return st.Close()
}

// copyTree copies the regular files of src into a new directory dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
