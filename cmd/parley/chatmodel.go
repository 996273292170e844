package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/parley-im/parley/client"
)

// chatClient is what "parley chat" needs from a client.
type chatClient interface {
	Events() <-chan client.Event
	SendMessage(to, body string) (string, error)
	SendReceipt(to, id string) error
	SendDisplayed(to, id string) error
	SendChatState(to, state string) error
	Subscribe(contact string) error
	ApproveSubscription(contact string) error
	LastSeen(ctx context.Context, contact string) (time.Duration, string, error)
	DownloadAttachmentFile(ctx context.Context, a client.Attachment, path string, progress func(done, total int64)) error
}

// pauseAfter is how long the input may stay untouched before "composing"
// becomes "paused" (XEP-0085 suggests about 30 s; chat apps use a few).
const pauseAfter = 3 * time.Second

// Messages of the chat program besides keys and window sizes.
type (
	eventMsg    struct{ e client.Event }
	closedMsg   struct{}
	lastSeenMsg struct {
		peer string
		ago  time.Duration
		err  error
	}
	pauseMsg struct{ seq int } // the input may have gone quiet
)

// chatModel is the state of "parley chat".
type chatModel struct {
	c      chatClient
	chats  *chats
	active *conversation // the open conversation, or nil
	input  textinput.Model
	now    func() time.Time
	st     chatStyles

	width, height int
	status        string // connection state or the last error
	scroll        int    // lines scrolled back in the open conversation

	showHelp  bool // the help replaces the messages until the next key
	composing bool // we sent "composing" to active.peer
	typeSeq   int  // counts key presses that changed the input

	downloadDir string // where /download saves files
}

func newChatModel(c chatClient, me string, now func() time.Time) *chatModel {
	in := textinput.New()
	in.Prompt = "> "
	in.Placeholder = "type a message; /open bob@localhost starts a chat; /help"
	in.CharLimit = 4000
	in.Focus()
	return &chatModel{c: c, chats: newChats(me), input: in, now: now, st: newChatStyles(), width: 80, height: 24, status: "connected"}
}

// waitEvent reads the client's next event.
func waitEvent(ch <-chan client.Event) tea.Cmd {
	return func() tea.Msg {
		e, ok := <-ch
		if !ok {
			return closedMsg{}
		}
		return eventMsg{e}
	}
}

func (m *chatModel) Init() tea.Cmd {
	cmds := []tea.Cmd{waitEvent(m.c.Events()), textinput.Blink}
	if len(m.chats.list) > 0 {
		cmds = append(cmds, m.open(m.chats.list[0]))
	}
	return tea.Batch(cmds...)
}

func (m *chatModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.input.SetWidth(max(10, m.width-listWidth-6))
		return m, nil
	case tea.KeyPressMsg:
		return m, m.onKey(msg)
	case eventMsg:
		return m, tea.Batch(m.onEvent(msg.e), waitEvent(m.c.Events()))
	case closedMsg:
		m.status = "disconnected"
		return m, nil
	case lastSeenMsg:
		m.onLastSeen(msg)
		return m, nil
	case downloadedMsg:
		m.onDownloaded(msg)
		return m, nil
	case pauseMsg:
		if msg.seq == m.typeSeq {
			m.stopComposing("paused")
		}
		return m, nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return m, cmd
}

// onKey handles a key press: the program's keys, else the input line.
func (m *chatModel) onKey(k tea.KeyPressMsg) tea.Cmd {
	m.showHelp = false
	switch k.String() {
	case "ctrl+c", "ctrl+d":
		m.stopComposing("paused")
		return tea.Quit
	case "tab", "down", "ctrl+n":
		return m.cycle(1)
	case "shift+tab", "up", "ctrl+p":
		return m.cycle(-1)
	case "pgup":
		m.scroll += max(1, m.height/2)
		return nil
	case "pgdown":
		m.scroll = max(0, m.scroll-max(1, m.height/2))
		return nil
	case "esc":
		m.input.SetValue("")
		m.stopComposing("paused")
		return nil
	case "enter":
		return m.submit()
	}
	before := m.input.Value()
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(k)
	if m.input.Value() != before {
		return tea.Batch(cmd, m.typed())
	}
	return cmd
}

// typed sends "composing" when the user starts typing a message, and
// schedules the check that turns it into "paused".
func (m *chatModel) typed() tea.Cmd {
	v := m.input.Value()
	if m.active == nil || strings.HasPrefix(v, "/") {
		return nil
	}
	if v == "" {
		m.stopComposing("paused")
		return nil
	}
	if !m.composing {
		m.composing = true
		m.report(m.c.SendChatState(m.active.peer, "composing"))
	}
	m.typeSeq++
	seq := m.typeSeq
	return tea.Tick(pauseAfter, func(time.Time) tea.Msg { return pauseMsg{seq} })
}

// stopComposing tells the contact we stopped typing (state "paused"), or
// nothing when we had not said we were.
func (m *chatModel) stopComposing(state string) {
	if !m.composing || m.active == nil {
		return
	}
	m.composing = false
	if state != "" {
		m.report(m.c.SendChatState(m.active.peer, state))
	}
}

// cycle opens the next (+1) or previous (-1) conversation of the list.
func (m *chatModel) cycle(dir int) tea.Cmd {
	n := len(m.chats.list)
	if n == 0 {
		return nil
	}
	i := slices.Index(m.chats.list, m.active)
	if i < 0 {
		i = 0
	} else {
		i = (i + dir + n) % n
	}
	return m.open(m.chats.list[i])
}

// open makes cv the open conversation: its messages count as seen.
func (m *chatModel) open(cv *conversation) tea.Cmd {
	if m.active != cv {
		m.stopComposing("paused")
	}
	m.active, m.scroll = cv, 0
	m.markSeen()
	if len(cv.online) > 0 {
		return nil
	}
	return m.queryLastSeen(cv.peer)
}

// markSeen sends the displayed marker for what the open conversation
// shows, and clears its unread count.
func (m *chatModel) markSeen() {
	cv := m.active
	if cv == nil {
		return
	}
	cv.unread = 0
	if cv.toMark != "" {
		m.report(m.c.SendDisplayed(cv.toMarkFrom, cv.toMark))
		cv.toMark, cv.toMarkFrom = "", ""
	}
}

func (m *chatModel) queryLastSeen(peer string) tea.Cmd {
	c := m.c
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ago, _, err := c.LastSeen(ctx, peer)
		return lastSeenMsg{peer: peer, ago: ago, err: err}
	}
}

func (m *chatModel) onLastSeen(r lastSeenMsg) {
	cv := m.chats.get(r.peer, false)
	if cv == nil || r.err != nil || len(cv.online) > 0 {
		return // not allowed (no subscription) or unknown: show nothing
	}
	if r.ago > 0 {
		cv.lastSeen = m.now().Add(-r.ago)
	}
}

// submit sends the input line, or runs it when it is a command.
func (m *chatModel) submit() tea.Cmd {
	text := strings.TrimSpace(m.input.Value())
	m.input.SetValue("")
	if text == "" {
		return nil
	}
	if strings.HasPrefix(text, "/") {
		return m.command(text)
	}
	if m.active == nil {
		m.status = "no open conversation: /open bob@localhost starts one"
		return nil
	}
	m.composing = false // the message itself ends "composing"
	id, err := m.c.SendMessage(m.active.peer, text)
	if err != nil {
		m.report(err)
		return nil
	}
	m.chats.outgoing(m.active, id, text, m.now())
	m.scroll = 0
	return nil
}

// command runs a /command.
func (m *chatModel) command(text string) tea.Cmd {
	name, arg, _ := strings.Cut(text, " ")
	arg = strings.TrimSpace(arg)
	switch name {
	case "/open":
		return m.cmdOpen(arg)
	case "/approve":
		return m.cmdApprove(arg)
	case "/download":
		return m.cmdDownload(arg)
	case "/quit":
		return tea.Quit
	case "/help":
		m.showHelp = true
		return nil
	}
	m.status = fmt.Sprintf("unknown command %s (try /help)", name)
	return nil
}

func (m *chatModel) cmdOpen(arg string) tea.Cmd {
	peer, err := checkJID(arg)
	if err != nil {
		m.status = "usage: /open bob@localhost"
		return nil
	}
	cv := m.chats.get(peer, true)
	if !cv.seesPresence() {
		cv.asked = true
		m.report(m.c.Subscribe(peer))
	}
	return m.open(cv)
}

func (m *chatModel) cmdApprove(arg string) tea.Cmd {
	peer := arg
	if peer == "" && m.active != nil {
		peer = m.active.peer
	}
	peer, err := checkJID(peer)
	if err != nil {
		m.status = "usage: /approve bob@localhost"
		return nil
	}
	m.report(m.c.ApproveSubscription(peer))
	cv := m.chats.get(peer, true)
	m.chats.note(cv, "you let "+peer+" see when you are online", m.now())
	if !cv.seesPresence() {
		cv.asked = true
		m.report(m.c.Subscribe(peer)) // and ask for theirs: both ways, as in a phone's contacts
	}
	return nil
}

// onEvent applies one client event.
func (m *chatModel) onEvent(e client.Event) tea.Cmd {
	now := m.now()
	switch e := e.(type) {
	case *client.Message:
		m.onMessage(e, now)
	case *client.Sent:
		m.chats.tick(e.ID, tickOne)
	case *client.MessageFailed:
		if m.chats.fail(e.ID, failureReason(e)) {
			m.status = "not sent: " + failureText(e)
		}
	case *client.Receipt:
		for _, id := range e.IDs {
			m.chats.tick(id, tickTwo)
		}
	case *client.Marker:
		m.chats.tick(e.ID, map[string]int{"received": tickTwo, "displayed": tickBlue, "acknowledged": tickBlue}[e.Kind])
	case *client.ChatState:
		if cv := m.chats.get(bareJID(e.From), false); cv != nil {
			cv.typing = e.State == "composing"
		}
	case *client.Presence:
		if cv := m.chats.presence(e, now); cv != nil && cv == m.active && e.Type == "unavailable" && len(cv.online) == 0 {
			return m.queryLastSeen(cv.peer)
		}
	case *client.Connected:
		m.status = "connected"
	case *client.Disconnected:
		m.status = fmt.Sprintf("connection lost (%v); reconnecting…", e.Err)
	}
	return nil
}

func (m *chatModel) onMessage(e *client.Message, now time.Time) {
	cv := m.chats.incoming(e, now)
	if e.WantsReceipt && e.ID != "" {
		m.report(m.c.SendReceipt(e.From, e.ID))
	}
	if m.active == nil {
		m.active = cv
	}
	if cv == m.active {
		m.markSeen()
		return
	}
	cv.unread++
}

// report shows err in the status line.
func (m *chatModel) report(err error) {
	if err != nil {
		m.status = "error: " + err.Error()
	}
}
