package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/parley-im/parley/client"
)

// sendFile logs in, encrypts and uploads the file at path, sends it to to
// with caption, and waits for the wanted tick.
func sendFile(ctx context.Context, cmd *cobra.Command, a *app, lf *loginFlags, to, path, caption, wait string) error {
	c, _, err := lf.login(ctx, cmd, a, false)
	if err != nil {
		return err
	}
	defer c.Close()
	bar := newTransferBar(a.stderr, "uploading")
	att, err := c.UploadFile(ctx, path, bar.update)
	bar.finish()
	if err != nil {
		return fmt.Errorf("uploading %s: %w", path, err)
	}
	fmt.Fprintf(a.stderr, "parley: uploaded %s (%s, %s), encrypted\n", att.Name, humanBytes(att.Size), att.MediaType)
	id, err := c.SendAttachment(bareJID(to), att, caption)
	if err != nil {
		return err
	}
	return waitTick(ctx, a, c, id, wait)
}

// transferBar is a progress bar on a terminal, nothing elsewhere.
type transferBar struct {
	w    io.Writer
	desc string
	pb   *progressbar.ProgressBar
}

func newTransferBar(w io.Writer, desc string) *transferBar {
	if !isTerminal(w) {
		return &transferBar{}
	}
	return &transferBar{w: w, desc: desc}
}

// update is the client's progress callback.
func (b *transferBar) update(done, total int64) {
	if b.w == nil {
		return
	}
	if b.pb == nil {
		b.pb = progressbar.NewOptions64(total, progressbar.OptionSetWriter(b.w), progressbar.OptionSetDescription(b.desc),
			progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100_000_000), progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish())
	}
	_ = b.pb.Set64(done)
}

func (b *transferBar) finish() {
	if b.pb != nil {
		_ = b.pb.Finish()
	}
}

// humanBytes is a size for people: 1.5 MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// attachmentJSON is the "attachment" of a message's JSON line in listen.
type attachmentJSON struct {
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
	Encrypted bool   `json:"encrypted"`
	Path      string `json:"path,omitempty"`     // where it was saved (--download-dir)
	Verified  bool   `json:"verified,omitempty"` // hash and tag checked
	Error     string `json:"error,omitempty"`    // why the download failed
}

// saveAttachment downloads, verifies and decrypts a message's file into
// dir under its name (made safe, and unique), and returns its JSON form.
func saveAttachment(ctx context.Context, c *client.Client, att *client.Attachment, dir string) *attachmentJSON {
	j := &attachmentJSON{Name: att.Name, Size: att.Size, MediaType: att.MediaType, SHA256: att.SHA256, Encrypted: att.Encrypted()}
	if dir == "" {
		return j
	}
	path, err := freePath(dir, att.Name)
	if err == nil {
		err = c.DownloadAttachmentFile(ctx, *att, path, nil)
	}
	if err != nil {
		j.Error = err.Error()
		return j
	}
	j.Path, j.Verified = path, true
	return j
}

// freePath is a path in dir for a file called name that does not exist
// yet: the name's last element without control characters, with " (N)"
// added when taken.
func freePath(dir, name string) (string, error) {
	base := safeName(name)
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	for i := 0; i < 1000; i++ {
		candidate := base
		if i > 0 {
			candidate = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		p := filepath.Join(dir, candidate)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
	}
	return "", fmt.Errorf("no free file name for %q in %s", base, dir)
}

// safeName is a file name that cannot leave the directory or hide.
func safeName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(name, ".")
	if name == "" || name == "/" {
		return "file"
	}
	return name
}
