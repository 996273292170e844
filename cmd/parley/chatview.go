package main

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// listWidth is the width of the conversation list.
const listWidth = 30

// chatKeysHelp is shown by /help, and in "parley chat --help".
const chatKeysHelp = `Keys and commands:
  enter               send the message (or run the /command)
  tab, down, ctrl+n   open the next conversation
  shift+tab, up, ctrl+p  open the previous one
  pgup, pgdown        scroll the open conversation
  esc                 clear the input line
  ctrl+c, ctrl+d      quit (also /quit)
  /open JID           open a conversation with JID (bob@localhost) and ask
                      to see when they are online
  /approve [JID]      let JID (default: the open conversation) see when
                      you are online, and ask for theirs
  /download N         save file N (a "📎 [file N]" line) into --download-dir,
                      its hash and authentication tag checked, decrypted
  /help               show this until the next key

Ticks: ◷ sending, ✓ sent (the server has it), ✓✓ delivered (their device
has it), ✓✓ in blue: seen; ✗ not sent, with the server's reason (no such
account, another server's address).`

// chatStyles are the styles of the chat screen.
type chatStyles struct {
	faint, bold, selected, seen, typing, unread, failed lipgloss.Style
}

func newChatStyles() chatStyles {
	return chatStyles{
		faint:    lipgloss.NewStyle().Faint(true),
		bold:     lipgloss.NewStyle().Bold(true),
		selected: lipgloss.NewStyle().Reverse(true),
		seen:     lipgloss.NewStyle().Foreground(lipgloss.Color("39")).Bold(true), // blue
		typing:   lipgloss.NewStyle().Foreground(lipgloss.Color("34")),
		unread:   lipgloss.NewStyle().Foreground(lipgloss.Color("34")).Bold(true),
		failed:   lipgloss.NewStyle().Foreground(lipgloss.Color("160")), // red
	}
}

func (m *chatModel) View() tea.View {
	rows := max(m.height-1, 4)
	left, right := m.listColumn(rows), m.conversationColumn(rows)
	var b strings.Builder
	for i := range rows {
		b.WriteString(padRight(left[i], listWidth))
		b.WriteString(m.st.faint.Render(" │ "))
		b.WriteString(right[i])
		b.WriteByte('\n')
	}
	b.WriteString(m.st.faint.Render(truncate("tab/↑↓ switch chat · /open JID · /help · ctrl+c quit", m.width)))
	v := tea.NewView(b.String())
	v.AltScreen = true
	v.WindowTitle = "parley chat: " + m.chats.me
	return v
}

// listColumn renders the conversation list, rows lines.
func (m *chatModel) listColumn(rows int) []string {
	out := []string{m.st.bold.Render(truncate(m.chats.me, listWidth)), m.st.faint.Render(strings.Repeat("─", listWidth))}
	for _, cv := range m.chats.list {
		out = append(out, m.listEntry(cv))
	}
	out = fit(out, rows-1, false)
	return append(out, m.st.faint.Render(truncate(m.status, listWidth)))
}

func (m *chatModel) listEntry(cv *conversation) string {
	badge := ""
	if cv.unread > 0 {
		badge = fmt.Sprintf(" (%d)", cv.unread)
	}
	dot := "  "
	if len(cv.online) > 0 {
		dot = "● "
	}
	name := truncate(cv.peer, listWidth-len(dot)-lipgloss.Width(badge))
	if cv == m.active {
		return m.st.selected.Render(padRight(dot+name+badge, listWidth))
	}
	if badge != "" {
		badge = m.st.unread.Render(badge)
	}
	return dot + name + badge
}

// conversationColumn renders the open conversation (or the help) above
// the input line, rows lines.
func (m *chatModel) conversationColumn(rows int) []string {
	return append(m.conversationBody(rows-1), m.input.View())
}

func (m *chatModel) conversationBody(rows int) []string {
	w := max(m.width-listWidth-3, 10)
	if m.showHelp {
		return fit(strings.Split(chatKeysHelp, "\n"), rows, false)
	}
	if m.active == nil {
		return fit([]string{"No conversation open.", "", "/open bob@localhost starts one; /help lists the keys."}, rows, false)
	}
	head := m.st.bold.Render(m.active.peer)
	if st := m.presenceText(m.active); st != "" {
		head += "  " + st
	}
	out := []string{truncate(head, w), m.st.faint.Render(strings.Repeat("─", w))}
	msgs := m.messageLines(m.active, w)
	end := max(len(msgs)-m.scroll, 0)
	m.scroll = len(msgs) - end
	return append(out, fit(msgs[:end], rows-2, true)...)
}

// presenceText is "typing…", "online", "last seen today at 14:03" or "".
func (m *chatModel) presenceText(cv *conversation) string {
	switch {
	case cv.typing:
		return m.st.typing.Render("typing…")
	case len(cv.online) > 0:
		return m.st.typing.Render("online")
	case !cv.lastSeen.IsZero():
		return m.st.faint.Render(lastSeenText(cv.lastSeen, m.now()))
	}
	return ""
}

// messageLines renders cv's lines wrapped to width w.
func (m *chatModel) messageLines(cv *conversation, w int) []string {
	var out []string
	wrap := lipgloss.NewStyle().Width(w)
	for _, l := range cv.lines {
		stamp := m.st.faint.Render(l.at.Local().Format("15:04"))
		var s string
		switch {
		case l.system:
			s = stamp + " " + m.st.faint.Render("— "+l.body)
		case l.mine:
			s = stamp + " " + m.st.bold.Render("you") + ": " + l.body + " " + m.tickMark(l)
		default:
			s = stamp + " " + m.st.typing.Render(localPart(cv.peer)) + ": " + l.body
		}
		out = append(out, strings.Split(wrap.Render(s), "\n")...)
	}
	return out
}

// tickMark is the tick of an outgoing message, or ✗ and the reason the
// server refused it.
func (m *chatModel) tickMark(l *chatLine) string {
	if l.failed != "" {
		return m.st.failed.Render("✗ " + l.failed)
	}
	switch l.tick {
	case tickOne:
		return m.st.faint.Render("✓")
	case tickTwo:
		return m.st.faint.Render("✓✓")
	case tickBlue:
		return m.st.seen.Render("✓✓")
	}
	return m.st.faint.Render("◷")
}

// lastSeenText says when t was, as a phone would: "last seen today at
// 14:03", "yesterday at", a weekday within a week, else the date.
func lastSeenText(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	day := func(x time.Time) time.Time { return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.Local) }
	days := int(day(now).Sub(day(t)).Hours() / 24)
	clock := t.Format("15:04")
	switch {
	case days <= 0:
		return "last seen today at " + clock
	case days == 1:
		return "last seen yesterday at " + clock
	case days < 7:
		return "last seen " + t.Format("Monday") + " at " + clock
	case t.Year() == now.Year():
		return "last seen " + t.Format("2 Jan") + " at " + clock
	}
	return "last seen " + t.Format("2 Jan 2006") + " at " + clock
}

func localPart(bare string) string {
	l, _, _ := strings.Cut(bare, "@")
	return l
}

// fit returns exactly n lines of lines: the first n (or the last n when
// tail is set), padded with empty lines.
func fit(lines []string, n int, tail bool) []string {
	if n <= 0 {
		return nil
	}
	if len(lines) > n {
		if tail {
			lines = lines[len(lines)-n:]
		} else {
			lines = lines[:n]
		}
	}
	out := make([]string, n)
	if tail {
		copy(out[n-len(lines):], lines)
	} else {
		copy(out, lines)
	}
	return out
}

// truncate cuts s (which may hold styles) to w cells.
func truncate(s string, w int) string {
	return lipgloss.NewStyle().MaxWidth(w).Render(s)
}

// padRight pads s with spaces to w cells (cutting it when longer).
func padRight(s string, w int) string {
	s = truncate(s, w)
	return s + strings.Repeat(" ", max(w-lipgloss.Width(s), 0))
}
