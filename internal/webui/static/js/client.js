// The logged-in account as the page sees it: chats and their messages,
// ticks, typing, presence and last seen, kept up to date from one
// connection that reconnects by itself. The UI (ui.js) renders it and
// calls its methods; it tells the UI what changed through callbacks.
import { El } from './codec.js';
import { login, newID, iqError, NS, AuthError, StreamError } from './conn.js';
import { NS_CALL, missedOf } from './calls.js';
import { callText } from './callui.js';

const X = {
  receipts: 'urn:xmpp:receipts', markers: 'urn:xmpp:chat-markers:0', states: 'http://jabber.org/protocol/chatstates',
  sid: 'urn:xmpp:sid:0', delay: 'urn:xmpp:delay', carbons: 'urn:xmpp:carbons:2', forward: 'urn:xmpp:forward:0',
  mam: 'urn:xmpp:mam:2', rsm: 'http://jabber.org/protocol/rsm', roster: 'jabber:iq:roster', last: 'jabber:iq:last',
  ping: 'urn:xmpp:ping', oob: 'jabber:x:oob', upload: 'urn:xmpp:http:upload:0', hashes: 'urn:xmpp:hashes:2',
};
const STATES = ['active', 'composing', 'paused', 'inactive', 'gone'];
const RANK = { pending: 0, sent: 1, delivered: 2, seen: 3 };

export const bare = (jid) => (jid || '').split('/')[0];

export class Client {
  // cb: onChat(jid), onChats(), onState(state, detail), onRevoked()
  constructor(url, domain, cred, cb) {
    Object.assign(this, { url, domain, cred, cb });
    this.chats = new Map();
    this.state = 'connecting';
    this.wire = null;
    this.jid = '';
    this.pending = new Map();
    this.outbox = []; // messages not yet acknowledged by the server (re-sent after a reconnect)
    this.openChat = '';
    this.stopped = false;
    this.calls = null; // calls.js, set by main.js
    this.loadCallEntries();
  }

  chat(jid) {
    jid = bare(jid);
    let c = this.chats.get(jid);
    if (!c) {
      c = { jid, messages: [], byId: new Map(), unread: 0, online: false, lastSeen: null, lastSeenHidden: false, typing: false, typingTimer: 0 };
      this.chats.set(jid, c);
    }
    return c;
  }

  setState(state, detail = '') {
    this.state = state;
    this.cb.onState(state, detail);
  }

  // run keeps a session up until stop() or a revocation.
  async run() {
    let delay = 500;
    while (!this.stopped) {
      try {
        const { wire, jid, sm } = await login(this.url, this.domain, this.cred);
        delay = 500;
        const closed = new Promise((resolve) => { wire.onClose = resolve; });
        this.attach(wire, jid, sm);
        const err = await closed;
        this.detach();
        if (err instanceof StreamError && err.condition === 'not-authorized') { this.revoked(err.text); return; }
        if (err instanceof StreamError && err.condition === 'conflict') { this.replaced(); return; }
      } catch (e) {
        if (e instanceof AuthError && e.condition === 'not-authorized') { this.revoked('the server no longer knows this device'); return; }
      }
      if (this.stopped) return;
      this.setState('offline', 'Connecting…');
      await new Promise((r) => setTimeout(r, delay + Math.random() * 250));
      delay = Math.min(delay * 2, 4000);
    }
  }

  revoked(why) {
    this.stopped = true;
    this.setState('revoked', why || 'this device was unlinked');
    this.cb.onRevoked();
  }

  // replaced: another tab or window of this browser logged in as the same
  // device and took over; this one waits until the user takes it back
  // (useHere), instead of the two taking turns forever.
  replaced() {
    this.stopped = true;
    this.setState('replaced', 'Parley is open in another window.');
  }

  useHere() {
    if (!this.stopped || this.state !== 'replaced') return;
    this.stopped = false;
    this.setState('offline', 'Connecting…');
    this.run();
  }

  stop() {
    this.stopped = true;
    if (this.wire) this.wire.close();
  }

  attach(wire, jid, sm) {
    this.wire = wire;
    this.jid = jid;
    this.sm = sm;
    this.h = 0;
    wire.listen((el) => this.handle(el));
    this.keepAlive = setInterval(() => wire.keepAlive(), 30000);
    this.setState('online');
    this.loadRoster();
    this.loadHistory().finally(() => {
      this.send(new El('presence', NS.client)); // the server then drains the offline queue
      for (const m of this.outbox) this.send(m.stanza);
    });
  }

  detach() {
    clearInterval(this.keepAlive);
    for (const p of this.pending.values()) p.reject(new Error('disconnected'));
    this.pending.clear();
    this.wire = null;
    if (this.calls) this.calls.disconnected();
    for (const c of this.chats.values()) { c.online = false; c.typing = false; }
    this.cb.onChats();
  }

  send(el) { return this.wire ? this.wire.send(el) : false; }

  iq(type, to, payload) {
    const id = newID();
    const el = new El('iq', NS.client, { type, id, to: to || undefined }, [payload]);
    return new Promise((resolve, reject) => {
      if (!this.send(el)) { reject(new Error('offline')); return; }
      this.pending.set(id, { resolve, reject });
    });
  }

  handle(el) {
    if (el.ns === NS.client && (el.name === 'message' || el.name === 'presence' || el.name === 'iq')) document.body.dataset.handled = String(++this.h);
    if (el.ns === NS.sm) {
      if (el.name === 'r' && this.sm && this.send(new El('a', NS.sm, { h: this.h }))) document.body.dataset.acked = String(this.h);
      return;
    }
    if (el.ns === NS.parley) {
      if (el.name === 'ack') this.acked(el.attr('id'), el.attr('stamp'));
      if (el.name === 'offline-done') document.body.dataset.offline = 'done';
      return;
    }
    if (el.ns !== NS.client) return;
    try {
      if (el.name === 'iq') this.handleIQ(el);
      else if (el.name === 'presence') this.handlePresence(el);
      else if (el.name === 'message') this.handleMessage(el);
    } catch (e) {
      console.error('handling', el, e);
    }
  }

  handleIQ(el) {
    const type = el.attr('type');
    if (type === 'result' || type === 'error') {
      const p = this.pending.get(el.attr('id'));
      if (!p) return;
      this.pending.delete(el.attr('id'));
      if (type === 'result') p.resolve(el); else p.reject(iqError(el));
      return;
    }
    const from = el.attr('from');
    const q = el.children[0];
    if (from && bare(from) !== bare(this.jid) && from !== this.domain) return;
    const answer = new El('iq', NS.client, { type: 'result', id: el.attr('id'), to: from || undefined });
    if (q && q.ns === X.roster && type === 'set') this.rosterItems(q);
    else if (!(q && q.ns === X.ping && type === 'get')) {
      answer.setAttr('type', 'error');
      answer.add(new El('error', NS.client, { type: 'cancel' }, [new El('service-unavailable', NS.stanzas)]));
    }
    this.send(answer);
  }

  async loadRoster() {
    try {
      const r = await this.iq('get', '', new El('query', X.roster));
      this.rosterItems(r.child('query', X.roster));
    } catch (e) { /* offline */ }
  }

  rosterItems(q) {
    if (!q) return;
    for (const it of q.children) {
      if (it.name !== 'item' || it.attr('subscription') === 'remove') continue;
      const c = this.chat(it.attr('jid'));
      c.name = it.attr('name') || c.name;
    }
    this.cb.onChats();
  }

  // loadHistory fetches the last page of the archive (nothing when the
  // server keeps no history).
  async loadHistory() {
    const q = new El('query', X.mam, { queryid: newID() }, [new El('set', X.rsm, null, [new El('max', X.rsm, null, null, '100'), new El('before', X.rsm)])]);
    let note = 'loaded';
    try { await this.iq('set', '', q); } catch (e) { note = e.condition || 'failed'; /* no archive: start empty */ }
    document.body.dataset.history = note;
    this.cb.onChats();
  }

  handlePresence(el) {
    const from = el.attr('from');
    if (!from || bare(from) === bare(this.jid)) return;
    const type = el.attr('type');
    if (type && type !== 'unavailable') return;
    const c = this.chat(from);
    const was = c.online;
    c.online = type !== 'unavailable';
    if (!c.online) c.typing = false;
    if (was && !c.online) this.queryLastSeen(c.jid);
    this.cb.onChat(c.jid);
  }

  async queryLastSeen(jid) {
    const c = this.chat(jid);
    try {
      const r = await this.iq('get', jid, new El('query', X.last));
      const secs = parseInt(r.child('query', X.last).attr('seconds'), 10);
      c.lastSeen = Number.isFinite(secs) ? Date.now() - secs * 1000 : null;
      c.lastSeenHidden = false;
    } catch (e) {
      c.lastSeen = null;
      c.lastSeenHidden = true; // privacy settings, or no subscription
    }
    this.cb.onChat(jid);
  }

  handleMessage(el) {
    const me = bare(this.jid);
    const from = el.attr('from');
    const call = el.attr('type') === 'headline' && el.children.find((c) => c.ns === NS_CALL && c.name !== 'missed');
    if (call) { // call signalling from the other party (the server stamps from)
      if (this.calls && from) this.calls.event(from, call);
      return;
    }
    const mam = el.child('result', X.mam);
    if (mam) {
      if (from && bare(from) !== me) return;
      const fwd = mam.child('forwarded', X.forward);
      const inner = fwd && fwd.child('message');
      if (!inner) return;
      const stamp = fwd.child('delay', X.delay);
      this.process(inner, { archived: true, time: stamp ? Date.parse(stamp.attr('stamp')) : Date.now(), stanzaId: mam.attr('id') });
      return;
    }
    for (const kind of ['sent', 'received']) {
      const cc = el.child(kind, X.carbons);
      if (!cc) continue;
      if (bare(from) !== me) return; // only our own server may send carbons
      const inner = cc.child('forwarded', X.forward) && cc.child('forwarded', X.forward).child('message');
      if (inner) this.process(inner, { carbon: kind, time: Date.now() });
      return;
    }
    const d = el.child('delay', X.delay);
    this.process(el, { time: d ? Date.parse(d.attr('stamp')) : Date.now() });
  }

  // process handles one message: ours (sent by another device of the
  // account, or archived) or a contact's.
  process(m, o) {
    const me = bare(this.jid);
    const out = bare(m.attr('from')) === me;
    const peer = bare(out ? m.attr('to') : m.attr('from'));
    if (!peer || peer === me || m.attr('type') === 'groupchat' || m.attr('type') === 'error') return;
    const c = this.chat(peer);
    const live = !o.archived && o.carbon !== 'sent';
    const body = m.child('body');
    if (body && body.text) {
      const originID = m.child('origin-id', X.sid);
      const id = m.attr('id') || (originID && originID.attr('id')) || o.stanzaId || newID();
      const call = missedOf(m);
      const msg = this.addMessage(c, { id, out, body: call ? callText(call, out) : body.text, time: o.time || Date.now(), status: out ? 'sent' : '', file: call ? null : fileOf(m), call });
      if (msg && !out && live && !o.carbon && m.child('request', X.receipts)) {
        this.send(new El('message', NS.client, { to: m.attr('from'), id: newID() }, [new El('received', X.receipts, { id })]));
      }
      if (msg && !out && !o.archived) {
        if (this.isReading(peer)) this.markRead(c); else if (o.carbon !== 'sent') c.unread++;
      }
      if (!out) c.typing = false;
    }
    for (const ch of m.children) {
      if (ch.ns === X.receipts && ch.name === 'received' && !out) this.tick(c, [ch.attr('id')], 'delivered');
      if (ch.ns === NS.parley && ch.name === 'receipts' && !out) this.tick(c, ch.children.map((x) => x.text), 'delivered');
      if (ch.ns === X.markers && ch.name === 'displayed') {
        if (out) { c.unread = 0; c.readUpTo = ch.attr('id'); } // read on another device of ours
        else this.seenUpTo(c, ch.attr('id'));
      }
      if (ch.ns === X.states && STATES.includes(ch.name) && !out && live) this.setTyping(c, ch.name === 'composing');
    }
    this.cb.onChat(peer);
  }

  addMessage(c, msg) {
    if (c.byId.has(msg.id)) return null;
    c.byId.set(msg.id, msg);
    c.messages.push(msg);
    if (c.messages.length > 1 && msg.time < c.messages[c.messages.length - 2].time) c.messages.sort((a, b) => a.time - b.time);
    return msg;
  }

  // addCallEntry writes a call that ended on this device in its chat, and
  // keeps it in this browser (the server stores only missed calls).
  addCallEntry(peer, entry) {
    const c = this.chat(peer);
    this.addMessage(c, { ...entry, body: callText(entry.call, entry.out), status: entry.out ? 'sent' : '' });
    const saved = savedCalls(this.cred).concat([{ peer, id: entry.id, out: entry.out, time: entry.time, call: entry.call }]);
    try { localStorage.setItem(callsKey(this.cred), JSON.stringify(saved.slice(-MAX_SAVED_CALLS))); } catch (e) { /* storage full: the chat still shows it */ }
    this.cb.onChat(c.jid);
  }

  loadCallEntries() {
    for (const e of savedCalls(this.cred)) {
      if (e && e.peer && e.id && e.call) this.addMessage(this.chat(e.peer), { id: e.id, out: !!e.out, time: e.time, call: e.call, body: callText(e.call, !!e.out), status: e.out ? 'sent' : '' });
    }
  }

  tick(c, ids, status) {
    for (const id of ids) {
      const m = c.byId.get(id);
      if (m && m.out && RANK[status] > RANK[m.status]) m.status = status;
    }
  }

  seenUpTo(c, id) {
    const idx = c.messages.findIndex((m) => m.id === id);
    if (idx < 0) return;
    for (let i = 0; i <= idx; i++) if (c.messages[i].out) c.messages[i].status = 'seen';
  }

  setTyping(c, on) {
    c.typing = on;
    clearTimeout(c.typingTimer);
    if (on) c.typingTimer = setTimeout(() => { c.typing = false; this.cb.onChat(c.jid); }, 30000);
  }

  acked(id) {
    const i = this.outbox.findIndex((m) => m.id === id);
    if (i < 0) return;
    const { chat } = this.outbox[i];
    this.outbox.splice(i, 1);
    this.tick(chat, [id], 'sent');
    this.cb.onChat(chat.jid);
  }

  isReading(jid) { return this.openChat === jid && document.visibilityState === 'visible'; }

  // markRead sends the displayed marker for the chat's last message from
  // the contact (the phone and the contact both learn it was read).
  markRead(c) {
    c.unread = 0;
    const last = [...c.messages].reverse().find((m) => !m.out);
    if (!last || c.readUpTo === last.id) return;
    c.readUpTo = last.id;
    this.send(new El('message', NS.client, { to: c.jid, type: 'chat', id: newID() }, [new El('displayed', X.markers, { id: last.id })]));
  }

  open(jid) {
    this.openChat = jid;
    const c = this.chat(jid);
    this.markRead(c);
    if (!c.online && c.lastSeen === null && !c.lastSeenHidden) this.queryLastSeen(jid);
    this.cb.onChat(jid);
  }

  // sendText sends a chat message; it is re-sent after a reconnect until
  // the server acknowledges it (the recipient dedupes by id).
  sendText(to, text, extra = [], file = null) {
    const id = newID();
    const st = new El('message', NS.client, { to, type: 'chat', id }, [
      new El('body', NS.client, null, null, text), ...extra,
      new El('request', X.receipts), new El('markable', X.markers), new El('origin-id', X.sid, { id }), new El('active', X.states)]);
    const c = this.chat(to);
    this.addMessage(c, { id, out: true, body: text, time: Date.now(), status: 'pending', file });
    this.outbox.push({ id, stanza: st, chat: c });
    this.send(st);
    this.cb.onChat(c.jid);
    return id;
  }

  chatState(to, state) {
    this.send(new El('message', NS.client, { to, type: 'chat', id: newID() }, [new El(state, X.states), new El('no-store', 'urn:xmpp:hints')]));
  }

  // requestSlot asks the upload service for an XEP-0363 slot.
  async requestSlot(name, size, sha256b64) {
    const req = new El('request', X.upload, { filename: name, size, 'content-type': 'application/octet-stream' },
      [new El('hash', X.hashes, { algo: 'sha-256' }, null, sha256b64)]);
    const r = await this.iq('get', this.domain, req);
    const slot = r.child('slot', X.upload);
    const put = slot.child('put', X.upload);
    const headers = {};
    for (const h of put.children) if (h.name === 'header') headers[h.attr('name')] = h.text;
    return { put: put.attr('url'), get: slot.child('get', X.upload).attr('url'), headers };
  }
}

const MAX_SAVED_CALLS = 200;
// callsKey is where this browser keeps the device's call entries.
export const callsKey = (cred) => `parley.calls.${cred.id}`;
function savedCalls(cred) {
  try { const v = JSON.parse(localStorage.getItem(callsKey(cred)) || '[]'); return Array.isArray(v) ? v : []; } catch (e) { return []; }
}

// fileOf reads a message's attachment (Parley's <file/> and XEP-0066).
function fileOf(m) {
  const oob = m.child('x', X.oob);
  const url = oob ? oob.childText('url', X.oob) : (/^aesgcm:\/\//i.test(m.childText('body')) ? m.childText('body') : '');
  if (!url) return null;
  const f = m.child('file', NS.parley);
  return { url, name: f ? f.attr('name') : '', type: f ? f.attr('media-type') : '', size: f ? Number(f.attr('size')) : 0 };
}

export { X, StreamError };
