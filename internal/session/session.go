package session

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/slicepool"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Transport is the device's connection as the session sees it: an encoder
// for the connection's framing plus the socket. Append methods only encode;
// Write sends bytes (with a deadline), is called with Session.mu held and
// keeps no reference to b after it returns (the session reuses it).
type Transport interface {
	AppendElement(dst []byte, e *stanza.Element) []byte
	// AppendClose encodes the end of the stream, preceded by the stream
	// error when err is not nil.
	AppendClose(dst []byte, err *stanza.StreamError) []byte
	Write(b []byte) error
	Close() error
}

// Hub is the server side a session calls into.
type Hub interface {
	// Dispatch processes one stanza sent by the device (from is stamped)
	// and returns a reply for the device itself, or nil.
	Dispatch(ctx context.Context, s *Session, st *stanza.Element) *stanza.Element
	// PresenceChanged runs the availability hooks after the device's own
	// broadcast presence changed its availability.
	PresenceChanged(ctx context.Context, s *Session, available, initial bool)
	// Resumable registers s under its resumption id.
	Resumable(s *Session)
	// Ended is called once when the session is gone for good.
	Ended(ctx context.Context, s *Session, wasAvailable bool)
	// Bounce answers a stanza the device will never get (an unacknowledged
	// iq request of a session that was not resumed).
	Bounce(ctx context.Context, st *stanza.Element)
	// Nonza processes a top-level element that is neither a stanza nor
	// stream management (XEP-0352); false means nothing handles it.
	Nonza(ctx context.Context, s *Session, el *stanza.Element) bool
}

// LogCursor tracks the log positions handed to devices (router.Router).
type LogCursor interface {
	// LogAcked: d acknowledged seqs of log key; it returns the queue
	// positions to erase (those copied into the queue meanwhile).
	LogAcked(d router.Device, key string, seqs []uint64) []uint64
	// LogAckedUnqueued is LogAcked when none of seqs was copied into the
	// queue (true); otherwise, or when it would wait for a lock, it changes
	// nothing (false).
	LogAckedUnqueued(d router.Device, key string, seqs []uint64) bool
	// LogReleased: d will never acknowledge seqs (its session ended).
	LogReleased(d router.Device, key string, seqs []uint64)
	// LogToQueue writes seqs into the user's queue (with the user's other
	// unqueued positions, in order) and returns their queue positions (0
	// for one another device acknowledged): a handoff's record keeps
	// queue positions only.
	LogToQueue(ctx context.Context, d router.Device, key string, seqs []uint64) ([]uint64, error)
}

// Config is shared by all sessions of a server.
type Config struct {
	Domain      string
	MailboxSize int
	// Mailbox, when set, gives the mailbox size at each use instead of
	// MailboxSize (the server changes it on a configuration reload).
	Mailbox       func() int
	ResumeTimeout time.Duration // 0 disables resumption
	// Resumptions, when set, keeps the resumption state of sessions handed
	// off, for a resume in another process or on another node.
	Resumptions store.Resumptions
	Queue       store.Queue
	Codec       router.Codec
	// Router, when set, gives each session a router.Batch: the messages
	// of one read to users with no device online are stored with one
	// queue write at the end of the read (settleInbound).
	Router  *router.Router
	Log     *slog.Logger
	Metrics *Metrics
	Now     func() time.Time
	// Logs, when set, is told what becomes of the log positions the
	// session was handed (router.RouteLogged: a group post stored once):
	// acknowledged, or dropped when the session ends.
	Logs LogCursor

	// out holds output buffers between writes: a session takes one when
	// it has something to write and gives it back after the write, so
	// that an idle session keeps none and a busy one does not grow a new
	// one for every write (a group post's copy to each of 1,024 members).
	out sync.Pool
	// outHolders holds the empty *[]byte that out's buffers came in, for
	// the next buffer given back (releaseOut).
	outHolders sync.Pool
	// unackedArrays holds the arrays of the sessions' unacknowledged
	// lists between a device's bursts (streamManagement.sent).
	unackedArrays slicepool.Pool[unackedStanza]
	// plainPresence marks, in a session's presence, a plain available
	// presence kept as no element (Session.keepPresence); never sent.
	plainPresence stanza.Element
	// ackRequest is the <r/> every session writes (requestAckLocked),
	// made once: its sessions only read it.
	ackRequest     stanza.Element
	ackRequestOnce sync.Once
	// records batches the resumption records of sessions handed off
	// together (restore.go).
	records recordBatcher
	// asker asks lazily acknowledging clients for acks (ackask.go).
	asker ackAsker
	// runners drain the sessions' mailboxes (runners.go).
	runners runnerPool
}

// maxPooledOut is the largest output buffer kept for reuse.
const maxPooledOut = 64 << 10

// freshOutCap is the capacity of an output buffer the pool makes.
const freshOutCap = 2048

// outBuffer returns an empty buffer for a session's output.
func (c *Config) outBuffer() []byte {
	if h, ok := c.out.Get().(*[]byte); ok {
		b := (*h)[:0]
		*h = nil
		c.outHolders.Put(h)
		return b
	}
	return make([]byte, 0, freshOutCap)
}

// keepsArrays reports whether the device's connection is reading (Flush)
// and not parked (Idle): only then does the session keep its emptied
// arrays for the next burst. A parked device that gets a delivery, and
// acknowledges it through the parker, keeps none.
func (s *Session) keepsArrays() bool {
	s.mbMu.Lock()
	defer s.mbMu.Unlock()
	return s.mb.active
}

// outLocked returns s.out, with a buffer from the pool when s has none
// (flushLocked gives it back after each write): an ack or a reply
// appended to no buffer grew one of its own at every write.
func (s *Session) outLocked() []byte {
	if s.out == nil {
		s.out = s.cfg.outBuffer()
	}
	return s.out
}

// releaseOut keeps b for another session's output, in a holder that
// outBuffer emptied: a pool holds pointers, and &b would be an allocation
// per write.
func (c *Config) releaseOut(b []byte) {
	if cap(b) > maxPooledOut {
		return
	}
	h, _ := c.outHolders.Get().(*[]byte)
	if h == nil {
		h = new([]byte)
	}
	*h = b
	c.out.Put(h)
}

type state uint8

const (
	stateActive   state = iota
	stateDetached       // connection lost, waiting for resumption
	stateClosed
)

// Session is one device's actor. See the package documentation.
type Session struct {
	cfg *Config
	hub Hub
	ctx context.Context
	jid jid.JID
	id  string // stream-management resumption id
	// device is the linked device's id ("" for a password login); set at
	// New from the transport, immutable.
	device string

	mbMu sync.Mutex
	mb   mailbox

	// inMu is held while one element from the client is handled, and
	// taken before mu. A message is routed with inMu but without mu (its
	// durable write waits for a WAL sync, and deliveries to this device
	// must not wait behind it); whatever needs the count of handled
	// stanzas exact (resumption, a handoff) takes inMu first, so it never
	// sees a message that is routed but not yet counted.
	inMu sync.Mutex
	// routing (guarded by inMu) is what routing the device's messages
	// needs: made at its first message, reused while it is active, and
	// dropped when it goes quiet (Idle), so that an idle device holds none.
	routing *messageRouting

	// Read by other goroutines without mu.
	available       atomic.Bool
	priority        atomic.Int32
	presence        atomic.Pointer[stanza.Element]
	rosterRequested atomic.Bool
	extensions      atomic.Bool // the transport speaks Parley's extensions
	lastStatus      atomic.Pointer[string]
	lastTraffic     atomic.Int64 // unix nanoseconds of the last bytes from the client
	pingSent        atomic.Int64 // unix nanoseconds of an unanswered ping, 0 when none
	detached        atomic.Bool  // state == stateDetached (written under mu)
	takesPending    atomic.Bool  // AcceptsPending, a hint (written under mu; sendPendingLocked decides)

	// The fields below are ordered so that the struct fits a smaller size
	// class (TestSessionSizeClass): an idle device holds one of these.
	// The four bytes are guarded by mu.
	state       state
	initialDone bool  // the first available presence was processed
	pingOut     bool  // the ping numbered pingCount waits for its answer
	pingCount   uint8 // pings sent, wrapping: the id of the last is "ping-<pingCount>"

	mu sync.Mutex // guards the fields below and writes to tr
	// unackedRoom is log2 of the room the unacknowledged list starts with
	// when it is made again (0: the pool's smallest): the length the last
	// ack that emptied it found, so that a member of a busy group does not
	// grow its list through every smaller array after each ack. One byte,
	// in what was padding.
	unackedRoom uint8
	tr          Transport // nil while detached or closed
	out         []byte    // encoded output waiting for flush
	sm          streamManagement
	drainedUpTo uint64   // highest queue seq delivered by the offline drain
	writtenSeqs []uint64 // stored stanzas written since the last flush (no stream management)
	detachTimer *time.Timer
	holder      module.Holder // holds back outbound stanzas (XEP-0352); nil: none
	handoff     *handoff      // set while the session is handed off for an upgrade
	logs        *logState     // the log positions' lists (logpos.go); nil until the first, and when idle
}

// mailboxSize is the current mailbox bound.
func (c *Config) mailboxSize() int {
	if c.Mailbox != nil {
		return c.Mailbox()
	}
	return c.MailboxSize
}

// New creates an active session for the bound full JID on transport tr.
func New(ctx context.Context, cfg *Config, hub Hub, full jid.JID, tr Transport) *Session {
	s := &Session{cfg: cfg, hub: hub, ctx: ctx, jid: full, tr: tr, id: router.NewID(), device: LinkedDeviceOf(tr)}
	s.extensions.Store(speaksExtensions(tr))
	s.Touch()
	return s
}

// JID returns the device's full JID.
func (s *Session) JID() jid.JID { return s.jid }

// LinkedDevice is the linked device's id when the device logged in with
// its device credential, "" for a password login (module.LinkedSession).
func (s *Session) LinkedDevice() string { return s.device }

// ResumptionID returns the stream-management id of the session.
func (s *Session) ResumptionID() string { return s.id }

// Available reports whether the device is available.
func (s *Session) Available() bool { return s.available.Load() }

// Priority is the priority of the last available presence.
func (s *Session) Priority() int { return int(s.priority.Load()) }

// Presence returns the last broadcast presence, or nil. A plain one is
// built anew for each call (keepPresence): callers must not change it
// either way.
func (s *Session) Presence() *stanza.Element {
	p := s.presence.Load()
	if p == &s.cfg.plainPresence {
		return stanza.NewElement(stanza.NSClient, stanza.KindPresence, "from", s.jid.String())
	}
	return p
}

// keepPresence keeps p, the device's available presence (from stamped),
// for Presence. Most devices send a plain <presence/>: for those the
// session keeps no element (an element, its attributes and the from
// string, about 180 bytes of every idle device), only a mark.
func (s *Session) keepPresence(p *stanza.Element) {
	if isPlainPresence(p, s.jid) {
		s.presence.Store(&s.cfg.plainPresence)
		return
	}
	s.presence.Store(p)
}

// isPlainPresence reports whether p is <presence/> in jabber:client with
// no attribute but from (the full JID) and no content.
func isPlainPresence(p *stanza.Element, full jid.JID) bool {
	if p.Space != stanza.NSClient || p.Name != stanza.KindPresence || len(p.Children) != 0 || p.Text != "" ||
		len(p.Attrs) != 1 || p.Shared != nil {
		return false
	}
	a := p.Attrs[0]
	return a.Space == "" && a.Name == "from" && a.Value == full.String()
}

// LastStatus is the status text of the last broadcast presence.
func (s *Session) LastStatus() string {
	if p := s.lastStatus.Load(); p != nil {
		return *p
	}
	return ""
}

// RosterRequested reports whether the device asked for the roster.
func (s *Session) RosterRequested() bool { return s.rosterRequested.Load() }

// SetRosterRequested records that the device asked for the roster.
func (s *Session) SetRosterRequested() { s.rosterRequested.Store(true) }

// Send queues st for the device (module.Session).
func (s *Session) Send(st *stanza.Element) bool { return s.push(item{st: st}) }

// SendAll queues sts, in order, as one mailbox item (module.BatchSender):
// a burst that answers one request of the device (a room's occupants when
// it joins) does not count against the mailbox limit stanza by stanza.
func (s *Session) SendAll(sts []*stanza.Element) bool {
	if len(sts) == 0 {
		return true
	}
	return s.push(item{ctl: ctlStanzas, sts: sts})
}

// Deliver queues st with its queue position, or its position in a log
// (router.IsLogKey: a group post stored once) (router.Device).
func (s *Session) Deliver(st *stanza.Element, key string, seq uint64) bool {
	if router.IsLogKey(key) {
		return s.push(item{st: st, seq: seq, log: key})
	}
	return s.push(item{st: st, seq: seq})
}

// DeliverLog queues a user's copies of a log's wave, sts at positions seqs
// of log key, as one mailbox item (router.LogBatchDevice): the fan-out
// hands a member its copies with one push, not one per copy.
func (s *Session) DeliverLog(sts []*stanza.Element, key string, seqs []uint64) bool {
	return s.push(item{ctl: ctlLogged, sts: sts, seqs: seqs, log: key})
}

// Close ends the session with a stream error (nil for a plain end). A
// resumable close keeps the session for stream-management resumption.
func (s *Session) Close(err *stanza.StreamError, resumable bool) {
	s.push(item{ctl: ctlClose, err: err, resumable: resumable})
}

// Ping asks the session to send a keep-alive ping to the client.
func (s *Session) Ping() { s.push(item{ctl: ctlPing}) }

// OutputDrainedReporter is a transport that can tell that the client has
// read everything written to it, so that a small write cannot block.
type OutputDrainedReporter interface {
	OutputDrained() bool
}

// PingNow sends the keep-alive ping on the caller's goroutine when that
// cannot wait: the session is not locked and its transport reports its
// output drained. Otherwise it queues the ping (Ping). The keep-alive
// sweep pings thousands of idle sessions in a round: through the mailbox
// each started a runner goroutine (1,500-2,900 at once at 15,000 idle
// devices, whose structs the runtime keeps for good and whose stacks grew
// the heap), where the sweep's own goroutine can write the few bytes.
func (s *Session) PingNow() {
	if !s.mu.TryLock() {
		s.Ping()
		return
	}
	if !s.outputDrainedLocked() {
		s.mu.Unlock()
		s.Ping()
		return
	}
	s.pingLocked()
	s.flushLocked()
	s.mu.Unlock()
}

// outputDrainedLocked (mu held) reports whether the transport tells that
// the client has read all that was written to it: a small write then
// cannot block the caller.
func (s *Session) outputDrainedLocked() bool {
	d, ok := s.tr.(OutputDrainedReporter)
	return ok && d.OutputDrained()
}

// AbsorbKeepAlive handles el on the caller's goroutine if it belongs to
// the keep-alive ping's exchange or is an idle device's ack: the answer
// to the ping, a stream-management ack whose settling writes nothing to
// the store (absorbAckLocked: of stanzas that were not stored, the ping's,
// and of one log's positions, a group member's posts), or an ack request
// when its answer can be written at once (the transport's output is
// drained). It reports false, and el is then for HandleInbound, for
// anything else, or when a lock is taken or what the device sent before
// is not settled. A parked connection's poller calls it, so that a device
// answering a ping is not woken: at 15,000 idle devices each answer woke a
// goroutine that parsed it and then lingered a second (1,500-2,900 at once).
func (s *Session) AbsorbKeepAlive(el *stanza.Element) bool {
	if !s.inMu.TryLock() {
		return false
	}
	defer s.inMu.Unlock()
	if s.routing != nil || !s.mu.TryLock() {
		return false
	}
	defer s.mu.Unlock()
	if s.state != stateActive || s.handoff != nil || s.tr == nil {
		return false
	}
	if el.Space == stanza.NSSM {
		return s.absorbSMLocked(el)
	}
	if !stanza.IsStanza(el) || !s.isPongLocked(el) {
		return false
	}
	s.sm.countInbound()
	return true
}

// absorbSMLocked is AbsorbKeepAlive for a stream-management element: an
// <a/> whose settling writes nothing to the store (absorbAckLocked), or
// an <r/> whose answer cannot block.
func (s *Session) absorbSMLocked(el *stanza.Element) bool {
	if !s.sm.enabled {
		return false
	}
	switch el.Name {
	case "a":
		h, err := strconv.ParseUint(el.Attr("h"), 10, 32)
		return err == nil && s.absorbAckLocked(uint32(h))
	case "r":
		if !s.outputDrainedLocked() {
			return false
		}
		s.answerAckRequestLocked()
		s.flushLocked()
		return true
	}
	return false
}

// Touch records traffic from the client (any bytes, including whitespace
// keep-alives); it answers any outstanding ping.
func (s *Session) Touch() {
	s.lastTraffic.Store(s.cfg.Now().UnixNano())
	if s.pingSent.Load() != 0 {
		s.pingSent.Store(0)
	}
}

// UnreadTrafficReporter is a transport that may leave a client's
// keep-alives unread for a while (a parked connection reads its pulses a
// few at a time): UnreadTraffic reports whether bytes arrived that the
// server has not read, since the last call. The session asks before
// pinging a client that seems quiet.
type UnreadTrafficReporter interface {
	UnreadTraffic() bool
}

// LastTraffic returns when the client last sent anything.
func (s *Session) LastTraffic() time.Time { return time.Unix(0, s.lastTraffic.Load()) }

// PingSent returns when an unanswered ping was sent (zero time if none).
func (s *Session) PingSent() time.Time {
	if n := s.pingSent.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// Detached reports whether the session waits for resumption. It takes no
// lock: hooks on the routing path call it while another session is locked.
func (s *Session) Detached() bool { return s.detached.Load() }

// HandleInbound processes one element the client sent. The caller calls
// Flush after a batch.
func (s *Session) HandleInbound(el *stanza.Element) {
	s.inMu.Lock()
	defer s.inMu.Unlock()
	switch {
	case el.Space == stanza.NSSM && el.Name == "r" && s.routing != nil && s.routing.unsettledAny():
		// Answered once the messages before it are settled, in their
		// order: a client that asks after every write neither costs a WAL
		// sync per write nor stops the reader.
		s.routing.unsettled = append(s.routing.unsettled, unsettledMessage{ackRequest: true})
		return
	case el.Space == stanza.NSSM && el.Name == "a", el.Name == stanza.KindMessage && stanza.IsStanza(el):
		// An <a/> is about what this device was sent, not what it sent.
	default:
		// Whatever the client sent before this element is acknowledged
		// (counted, its "sent" acks written) before this is handled, so
		// that replies stay in order.
		s.settleInbound()
	}
	s.mu.Lock()
	m := s.handleInboundLocked(el)
	s.mu.Unlock()
	if m != nil {
		s.routeMessage(m)
	}
}

// handleInboundLocked handles el, except a message, which it returns (from
// stamped) for routeMessage.
func (s *Session) handleInboundLocked(el *stanza.Element) (message *stanza.Element) {
	if s.state != stateActive {
		return nil
	}
	if s.handoff != nil {
		s.handoffInboundLocked(el)
		return nil
	}
	if el.Space == stanza.NSSM {
		s.handleSMLocked(el)
		return nil
	}
	if !stanza.IsStanza(el) {
		if s.hub.Nonza(s.ctx, s, el) {
			return nil
		}
		s.closeLocked(stanza.NewStreamError(stanza.StreamUnsupportedStanza, "unexpected element <"+el.Name+">"), false)
		return nil
	}
	el.SetAttr("from", s.jid.String())
	if s.isPongLocked(el) {
		s.sm.countInbound()
		return nil
	}
	switch {
	case el.Name == stanza.KindPresence && el.Attr("to") == "":
		s.handleOwnPresenceLocked(el)
	case el.Name == stanza.KindMessage:
		return el
	default:
		if reply := s.hub.Dispatch(s.ctx, s, el); reply != nil {
			s.sendLocked(reply, 0)
		}
	}
	s.sm.countInbound()
	return nil
}

// Idle drops what the session reuses while its device is active (its
// message routing state with the read's unsettled messages, the mailbox's
// items, the stored seqs written without stream management, an empty
// output buffer and unacknowledged list), so that a device gone quiet
// holds none of it: its connection calls it when it parks. A burst grew
// them to hundreds of bytes per session (BenchmarkIdleDeviceHeap/burst=64);
// the next activity makes them again. Until the connection reads again
// (Flush), the session keeps no emptied array (keepsArrays).
func (s *Session) Idle() {
	s.inMu.Lock()
	if r := s.routing; r != nil && !r.unsettledAny() {
		s.routing = nil
	}
	s.inMu.Unlock()
	s.mbMu.Lock()
	s.mb.active = false
	if len(s.mb.items) == 0 {
		s.mb.items = nil
	}
	s.mbMu.Unlock()
	s.mu.Lock()
	s.idleLocked()
	s.mu.Unlock()
}

// idleLocked is Idle's part under s.mu, also run when the poller of a
// parked connection settles its device's ack (absorbAckLocked): a parked
// device's session keeps no buffers of an active one.
func (s *Session) idleLocked() {
	if s.out != nil && len(s.out) == 0 { // a buffer taken and left empty
		s.cfg.releaseOut(s.out)
		s.out = nil
	}
	if len(s.writtenSeqs) == 0 {
		s.writtenSeqs = nil
	}
	// An empty list gives its array back; one a few entries long after a
	// burst moves to a smaller one.
	s.sm.unacked = s.cfg.unackedArrays.DropFront(s.sm.unacked, 0)
	if s.logs != nil && len(s.logs.written) == 0 {
		s.logs = nil
	}
}

// Flush hands the messages of the read to the settler (inMu), which
// acknowledges them once durable, and writes what the session produced
// while handling inbound stanzas.
func (s *Session) Flush() {
	s.mbMu.Lock()
	s.mb.active = true
	s.mbMu.Unlock()
	s.inMu.Lock()
	s.handOverInbound()
	s.inMu.Unlock()
	s.mu.Lock()
	s.flushLocked()
	s.mu.Unlock()
}

func (s *Session) handleOwnPresenceLocked(p *stanza.Element) {
	wasAvailable := s.available.Load()
	if status := p.ChildText(stanza.NSClient, "status"); status != "" {
		s.lastStatus.Store(&status)
	} else {
		s.lastStatus.Store(nil) // LastStatus says "": no string kept
	}
	switch p.Type() {
	case "":
		prio, _ := strconv.Atoi(p.ChildText(stanza.NSClient, "priority"))
		prio = max(-128, min(127, prio))
		s.priority.Store(int32(prio))
		s.keepPresence(p)
		s.available.Store(true)
	case "unavailable":
		s.presence.Store(nil)
		s.available.Store(false)
	}
	if reply := s.hub.Dispatch(s.ctx, s, p); reply != nil {
		s.sendLocked(reply, 0)
	}
	nowAvailable := s.available.Load()
	initial := nowAvailable && !s.initialDone
	if nowAvailable != wasAvailable || nowAvailable {
		s.hub.PresenceChanged(s.ctx, s, nowAvailable, initial)
	}
	if initial {
		s.initialDone = true
		if s.Priority() >= 0 {
			s.drainOfflineLocked()
		}
	}
}

// drainOfflineLocked delivers the account's stored stanzas (XEP-0160) with
// a delay stamp (XEP-0203).
func (s *Session) drainOfflineLocked() {
	key := router.QueueKey(s.jid)
	s.offlinePreviewLocked(key)
	defer s.offlineDoneLocked()
	s.cfg.Metrics.offlineDrained(int(s.drainQueueLocked(key)))
}

// Redrain makes an available session read its offline queue again and
// deliver what it has not sent yet. In a cluster a message stored while
// the routing node did not yet know this device was available (or whose
// hand-over over the bus was lost with a dying node) waits in the queue:
// this catches it up without a new login.
func (s *Session) Redrain() { s.push(item{ctl: ctlRedrain}) }

func (s *Session) redrainLocked() {
	if s.state == stateClosed || !s.initialDone || !s.available.Load() || s.Priority() < 0 {
		return
	}
	s.drainQueueLocked(router.QueueKey(s.jid))
}

// sendLocked encodes st for the client and tracks it for acknowledgement.
func (s *Session) sendLocked(st *stanza.Element, seq uint64) {
	if s.state == stateClosed {
		return
	}
	if seq != 0 && seq <= s.drainedUpTo {
		return // the offline drain already delivered it
	}
	if s.droppedInHandoffLocked(st) {
		return
	}
	if s.tr != nil {
		s.out = s.tr.AppendElement(s.outLocked(), st)
	}
	s.trackSentLocked(unackedStanza{st: st, seq: seq})
}

// trackSentLocked keeps a stanza just written for stream management (or,
// without it, a stored one for its deletion after the write).
func (s *Session) trackSentLocked(u unackedStanza) {
	if s.sm.enabled {
		if s.sm.unacked == nil && s.unackedRoom > 0 {
			s.sm.unacked = s.cfg.unackedArrays.Make(1 << s.unackedRoom)
		}
		s.sm.sent(u, &s.cfg.unackedArrays)
		if s.sm.tooManyUnacked(s.cfg.mailboxSize() * 4) {
			s.closeLocked(stanza.NewStreamError(stanza.StreamPolicyViolation, "too many unacknowledged stanzas"), false)
		}
	} else if u.log != "" {
		l := s.logStateLocked()
		l.written = append(l.written, logPos{key: u.log, seq: u.seq})
	} else if u.seq != 0 {
		s.writtenSeqs = append(s.writtenSeqs, u.seq)
	}
	s.cfg.Metrics.stanzaOut()
}

// flushLocked writes pending output in one write; it reports whether
// the write was made and succeeded.
func (s *Session) flushLocked() (wrote bool) {
	if s.tr == nil || len(s.out) == 0 {
		return false
	}
	s.appendAckRequestLocked()
	err := s.tr.Write(s.out)
	// Keep no buffer between writes: most devices are idle most of the
	// time, and a buffer each would be most of their memory. The buffer
	// goes back to the pool (Transport.Write keeps no reference to it).
	s.cfg.releaseOut(s.out)
	s.out = nil
	if err != nil {
		s.transportLostLocked()
		return false
	}
	if len(s.writtenSeqs) > 0 {
		s.ackQueue(s.writtenSeqs)
		s.writtenSeqs = s.writtenSeqs[:0]
	}
	if l := s.logs; l != nil && len(l.written) > 0 {
		s.ackLog(l.written)
		clear(l.written)
		l.written = l.written[:0]
	}
	return true
}

func (s *Session) ackQueue(seqs []uint64) {
	if err := s.cfg.Queue.AckQueue(s.ctx, router.QueueKey(s.jid), seqs...); err != nil {
		s.cfg.Log.Warn("acknowledging queued stanzas", "user", s.jid.Bare().String(), "err", err)
	}
}

// TransportLost is called by the connection when reading fails (the peer
// went away without closing the stream). tr identifies the connection, so
// that a late report from a replaced connection is ignored.
func (s *Session) TransportLost(tr Transport) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tr != tr || s.state != stateActive {
		return
	}
	s.transportLostLocked()
}

// StreamClosed is called when the client ended its stream gracefully.
func (s *Session) StreamClosed(tr Transport) {
	s.inMu.Lock() // what the client sent before its stream end is acknowledged first
	s.settleInbound()
	s.inMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tr != tr {
		return
	}
	s.closeLocked(nil, false)
}

func (s *Session) transportLostLocked() {
	s.storePendingLocked()
	if s.tr != nil {
		_ = s.tr.Close()
		s.tr = nil
	}
	s.out = s.out[:0]
	s.pingSent.Store(0)
	if s.sm.resumable && s.cfg.ResumeTimeout > 0 && s.state == stateActive {
		s.state = stateDetached
		s.detached.Store(true)
		s.sm.requested = false
		s.detachTimer = time.AfterFunc(s.cfg.ResumeTimeout, func() { s.push(item{ctl: ctlDetachExpired}) })
		s.cfg.Metrics.detached()
		return
	}
	s.terminateLocked()
}

// closeLocked sends the stream end (with err) and closes the connection.
func (s *Session) closeLocked(err *stanza.StreamError, resumable bool) {
	if s.state == stateClosed {
		return
	}
	if s.tr != nil {
		if resumable && s.sm.resumable {
			s.flushLocked()
			s.transportLostLocked()
			return
		}
		if err != nil { // a nil *StreamError in an error panics in Error
			s.cfg.Log.Debug("session closed", "jid", s.jid.String(), "err", err, "handoff", s.handoff != nil)
		} else {
			s.cfg.Log.Debug("session closed", "jid", s.jid.String(), "handoff", s.handoff != nil)
		}
		s.out = s.tr.AppendClose(s.out, err)
		_ = s.tr.Write(s.out)
		s.out = s.out[:0]
		_ = s.tr.Close()
		s.tr = nil
	}
	s.terminateLocked()
}

// terminateLocked ends the session for good.
func (s *Session) terminateLocked() {
	if s.state == stateClosed {
		return
	}
	s.state = stateClosed
	s.detached.Store(false)
	if s.detachTimer != nil {
		s.detachTimer.Stop()
	}
	s.storePendingLocked() // before a refused delivery can store a later message
	s.mbMu.Lock()
	s.mb.closed = true
	s.mbMu.Unlock()
	wasAvailable := s.available.Swap(false)
	s.presence.Store(nil)
	var bounce []*stanza.Element // iq requests to bounce: dropped in a handoff, then unacknowledged
	if s.handoff != nil {
		bounce, s.handoff.bounce = s.handoff.bounce, nil
	}
	bounce = append(bounce, s.sm.unackedIQRequests()...)
	s.releaseLogLocked()
	s.sm.reset()
	// Hooks run without s.mu: they route presence to other sessions.
	go func() {
		s.hub.Ended(s.ctx, s, wasAvailable)
		for _, st := range bounce {
			s.hub.Bounce(s.ctx, st)
		}
	}()
}

// Resume attaches a new connection to a detached (or still attached but
// stale) session after the client authenticated as the same user, and
// re-sends what the client has not acknowledged. It reports false when the
// session can no longer be resumed.
func (s *Session) Resume(tr Transport, h uint32) bool {
	s.inMu.Lock() // a message the old connection sent is counted before <resumed h/>
	defer s.inMu.Unlock()
	s.settleInbound()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateClosed || !s.sm.resumable {
		return false
	}
	if s.tr != nil { // the old connection is not known dead yet
		_ = s.tr.Close()
	}
	if s.detachTimer != nil {
		s.detachTimer.Stop()
		s.detachTimer = nil
	}
	s.tr = tr
	s.extensions.Store(speaksExtensions(tr))
	s.state = stateActive
	s.detached.Store(false)
	s.takesPending.Store(true)
	s.out = s.out[:0]
	if !s.processAckLocked(h) {
		return false
	}
	s.out = tr.AppendElement(s.out, stanza.NewElement(stanza.NSSM, "resumed",
		"h", strconv.FormatUint(uint64(s.sm.inH), 10), "previd", s.id))
	for i := range s.sm.unacked {
		s.out = s.appendUnackedLocked(s.out, tr, &s.sm.unacked[i])
	}
	s.requestResentAckLocked()
	s.Touch()
	s.flushLocked()
	s.cfg.Metrics.resumed()
	return s.state == stateActive
}

func (s *Session) pingLocked() {
	if s.tr == nil || s.pingSent.Load() != 0 {
		return
	}
	if u, ok := s.tr.(UnreadTrafficReporter); ok && u.UnreadTraffic() {
		s.Touch() // the client is there: its keep-alives wait unread
		return
	}
	s.pingCount++
	s.pingOut = true
	iq := stanza.NewIQ("get", "ping-"+strconv.FormatUint(uint64(s.pingCount), 10))
	iq.SetAttr("from", s.cfg.Domain)
	iq.SetAttr("to", s.jid.String())
	iq.AddChild(stanza.NewElement(stanza.NSPing, "ping"))
	s.pingSent.Store(s.cfg.Now().UnixNano())
	s.sendLocked(iq, 0)
}

// isPongLocked reports whether el answers the server's keep-alive ping.
func (s *Session) isPongLocked(el *stanza.Element) bool {
	if el.Name != stanza.KindIQ || !s.pingOut {
		return false
	}
	if n, ok := strings.CutPrefix(el.ID(), "ping-"); !ok || n != strconv.FormatUint(uint64(s.pingCount), 10) {
		return false
	}
	if t := el.Type(); t != "result" && t != "error" {
		return false
	}
	s.pingOut = false
	return true
}

// HandleStreamError ends the session because the client sent bad input:
// the stream error is sent and the session terminated (not resumable).
func (s *Session) HandleStreamError(tr Transport, err *stanza.StreamError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tr != tr {
		return
	}
	s.closeLocked(err, false)
}
