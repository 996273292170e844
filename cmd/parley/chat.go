package main

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
)

func newChatCmd(a *app) *cobra.Command {
	var lf loginFlags
	var downloadDir string
	cmd := &cobra.Command{
		Use:   "chat",
		Short: "Chat from the terminal: conversations, ticks, typing, last seen",
		Long: `Log in and open an interactive chat screen: the list of conversations
(your contacts, and whoever writes to you) with unread counts on the left,
the open conversation on the right with the ticks of your messages, whether
the contact is typing, online or when they were last seen, and an input
line at the bottom.

While you type, the contact sees "typing…" (XEP-0085 chat states); the
messages you see in the open conversation are marked seen for their sender
(XEP-0333), and every message you get is acknowledged as delivered
(XEP-0184). Messages that waited on the server while you were away arrive
when it starts. Use /open to write to someone new: it also asks to see when
they are online, which they approve with /approve (or their own app).

` + chatKeysHelp + `

` + loginHelp,
		Example: `  # On this machine, against "parley serve" (self-signed certificate)
  parley chat --jid alice@localhost --insecure
  # then type: /open bob@localhost

  # With the settings in ~/.config/parley/client.toml:
  #   jid = "alice@example.org"
  #   password = "..."     (chmod 600 the file)
  parley chat`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			return chat(cmd.Context(), cmd, a, &lf, downloadDir)
		}),
	}
	cmd.Flags().StringVar(&downloadDir, "download-dir", ".", "where /download saves files")
	lf.bind(cmd.Flags())
	return cmd
}

// chat logs in and runs the chat screen until the user quits.
func chat(ctx context.Context, cmd *cobra.Command, a *app, lf *loginFlags, downloadDir string) error {
	if !isTerminal(a.stdin) || !isTerminal(a.stdout) {
		return errors.New("parley chat needs a terminal (for scripts: parley send and parley listen)")
	}
	c, s, err := lf.login(ctx, cmd, a, true)
	if err != nil {
		return err
	}
	defer c.Close()
	m := newChatModel(c, bareJID(s.JID), time.Now)
	m.downloadDir = downloadDir
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	items, err := c.Roster(rctx)
	cancel()
	if err != nil {
		return err
	}
	m.chats.addRoster(items)
	if err := c.SetPresence("", ""); err != nil { // after the roster: queued messages find their conversations
		return err
	}
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(a.stdin), tea.WithOutput(a.stdout))
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, tea.ErrInterrupted) {
		return err
	}
	return nil
}
