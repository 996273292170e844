package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/parley-im/parley/client"
)

// downloadTimeout bounds one /download.
const downloadTimeout = 30 * time.Minute

// downloadedMsg reports the end of a /download.
type downloadedMsg struct {
	name, path string
	err        error
}

// attachmentLine is how a file shows in a conversation.
func attachmentLine(n int, a *client.Attachment, caption string) string {
	s := fmt.Sprintf("📎 [file %d] %s (%s", n, a.Name, humanBytes(a.Size))
	if a.MediaType != "" {
		s += ", " + a.MediaType
	}
	s += fmt.Sprintf(") /download %d", n)
	if caption != "" {
		s += " — " + caption
	}
	return s
}

// cmdDownload starts downloading file N into the download directory; the
// result comes back as a downloadedMsg.
func (m *chatModel) cmdDownload(arg string) tea.Cmd {
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || n > len(m.chats.files) {
		m.status = "usage: /download N (the number of a [file N] line)"
		return nil
	}
	a, dir, c := *m.chats.files[n-1], m.downloadDir, m.c
	m.status = fmt.Sprintf("downloading %s (%s)…", a.Name, humanBytes(a.Size))
	return func() tea.Msg {
		path, err := freePath(dir, a.Name)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), downloadTimeout)
			defer cancel()
			err = c.DownloadAttachmentFile(ctx, a, path, nil)
		}
		return downloadedMsg{name: a.Name, path: path, err: err}
	}
}

func (m *chatModel) onDownloaded(d downloadedMsg) {
	if d.err != nil {
		m.status = fmt.Sprintf("error: downloading %s: %v", d.name, d.err)
		return
	}
	m.status = "saved " + d.path // hash and tag checked, decrypted
}
