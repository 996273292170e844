// One connection to the server: the binary protocol over the WebSocket at
// /ws (docs/protocol/binary.md §10), stream negotiation, the pairing
// stream (docs/protocol/devices.md) and the logged-in session with stream
// management (XEP-0198 acks; no resumption: a new connection logs in
// again and the server's offline queue re-sends what was not acknowledged).
import { Encoder, Decoder, El } from './codec.js';

export const NS = {
  framing: 'urn:ietf:params:xml:ns:xmpp-framing', stream: 'http://etherx.jabber.org/streams',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl', bind: 'urn:ietf:params:xml:ns:xmpp-bind', sm: 'urn:xmpp:sm:3',
  devices: 'urn:parley:devices:0', parley: 'urn:parley:0', client: 'jabber:client', streams: 'urn:ietf:params:xml:ns:xmpp-streams',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
};

export class StreamError extends Error {
  constructor(condition, text) { super(`${condition}${text ? ': ' + text : ''}`); this.condition = condition; this.text = text; }
}
export class AuthError extends Error {
  constructor(condition) { super('authentication failed: ' + condition); this.condition = condition; }
}

let counter = 0;
export function newID() {
  if (globalThis.crypto.randomUUID) return crypto.randomUUID();
  return `w${Date.now().toString(36)}${(counter++).toString(36)}`;
}

// Wire is one WebSocket with the binary codec. Elements arrive through
// next() while negotiating, then through onElement once set.
export class Wire {
  static open(url, domain) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, 'parley');
      ws.binaryType = 'arraybuffer';
      const w = new Wire(ws, domain);
      ws.onopen = () => { ws.send(w.enc.preamble()); resolve(w); };
      ws.onerror = () => reject(new Error('cannot connect to ' + url));
    });
  }

  constructor(ws, domain) {
    this.ws = ws;
    this.domain = domain;
    this.enc = new Encoder([domain]);
    this.dec = new Decoder();
    this.queue = [];
    this.waiters = [];
    this.closed = false;
    this.onElement = null;
    this.onClose = null;
    ws.onmessage = (ev) => this.receive(new Uint8Array(ev.data));
    ws.onclose = () => this.ended(new Error('connection closed'));
  }

  receive(bytes) {
    try {
      this.dec.feed(bytes);
      for (let t; (t = this.dec.next()) !== null;) {
        if (t.kind === 'stanza') this.deliver(t.el);
        else if (t.kind === 'end') this.ended(new Error('the server ended the stream'));
      }
    } catch (e) {
      this.ended(e);
      this.ws.close();
    }
  }

  deliver(el) {
    if (el.name === 'error' && el.ns === NS.stream) {
      const cond = el.children.find((c) => c.ns === NS.streams && c.name !== 'text');
      this.ended(new StreamError(cond ? cond.name : 'undefined-condition', el.childText('text', NS.streams)));
      return;
    }
    if (this.onElement) this.onElement(el);
    else if (this.waiters.length) this.waiters.shift().resolve(el);
    else this.queue.push(el);
  }

  ended(err) {
    if (this.closed) return;
    this.closed = true;
    this.error = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
    if (this.onClose) this.onClose(err);
  }

  next(timeoutMs = 15000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closed) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      const timer = setTimeout(() => { this.waiters = this.waiters.filter((x) => x !== w); reject(new Error('timed out waiting for the server')); }, timeoutMs);
      w.resolve = (v) => { clearTimeout(timer); resolve(v); };
      w.reject = (e) => { clearTimeout(timer); reject(e); };
      this.waiters.push(w);
    });
  }

  // listen hands every element, queued ones first, to fn from now on.
  listen(fn) {
    this.onElement = fn;
    for (const el of this.queue.splice(0)) fn(el);
  }

  send(el) {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(this.enc.frame(el));
    return true;
  }

  keepAlive() { if (!this.closed && this.ws.readyState === WebSocket.OPEN) this.ws.send(new Uint8Array([0])); }

  close() {
    if (!this.closed && this.ws.readyState === WebSocket.OPEN) {
      this.send(new El('close', NS.framing));
      this.ws.send(new Uint8Array([1, 0]));
    }
    this.ended(new Error('closed'));
    this.ws.close();
  }

  // openStream sends <open/> and returns the server's <stream:features/>.
  async openStream() {
    this.send(new El('open', NS.framing, { to: this.domain, version: '1.0' }));
    for (;;) {
      const el = await this.next();
      if (el.name === 'features' && el.ns === NS.stream) return el;
      if (el.name !== 'open') throw new Error(`expected stream features, got <${el.name}>`);
    }
  }

  // iq sends an iq during negotiation and waits for its answer.
  async iq(el) {
    const id = newID();
    el.setAttr('id', id);
    this.send(el);
    for (;;) {
      const r = await this.next();
      if (r.name === 'iq' && r.attr('id') === id) {
        if (r.attr('type') === 'error') throw iqError(r);
        return r;
      }
      this.queue.push(r); // not ours: keep for later
      if (this.queue.length > 100) throw new Error('no answer to iq');
    }
  }
}

export function iqError(r) {
  const e = r.child('error');
  const cond = e ? e.children.find((c) => c.ns === NS.stanzas && c.name !== 'text') : null;
  const err = new Error((cond ? cond.name : 'error') + (e && e.childText('text', NS.stanzas) ? ': ' + e.childText('text', NS.stanzas) : ''));
  err.condition = cond ? cond.name : 'undefined-condition';
  return err;
}

export function wsURL() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
}

// login opens a connection and logs in with the device credential
// (SASL X-PARLEY-DEVICE), binds and enables stream management. It returns
// the wire (listening not started) and the bound JID.
export async function login(url, domain, cred) {
  const w = await Wire.open(url, domain);
  try {
    let f = await w.openStream();
    const mechs = (f.child('mechanisms', NS.sasl) || new El('x')).children.map((c) => c.text);
    if (!mechs.includes('X-PARLEY-DEVICE')) throw new Error('the server does not offer device login');
    const local = cred.jid.split('@')[0];
    const auth = new El('auth', NS.sasl, { mechanism: 'X-PARLEY-DEVICE' });
    auth.text = btoa(unescape(encodeURIComponent(`${local}\u0000${cred.id}\u0000${cred.token}`)));
    w.send(auth);
    const r = await w.next();
    if (r.name !== 'success') {
      const cond = r.children.find((c) => c.name !== 'text');
      throw new AuthError(cond ? cond.name : 'not-authorized');
    }
    f = await w.openStream();
    const bind = new El('iq', NS.client, { type: 'set' }, [new El('bind', NS.bind, null, [new El('resource', NS.bind, null, null, cred.id)])]);
    const res = await w.iq(bind);
    const jid = res.child('bind', NS.bind).childText('jid', NS.bind);
    let sm = false;
    if (f.child('sm', NS.sm)) {
      w.send(new El('enable', NS.sm));
      for (;;) {
        const e = await w.next();
        if (e.ns === NS.sm) { sm = e.name === 'enabled'; break; }
        w.queue.push(e);
      }
    }
    return { wire: w, jid, sm };
  } catch (e) {
    w.close();
    throw e;
  }
}

// pair opens a pairing stream for the public key pub. onRef gets each
// reference (the first at once, then every rotation); the promise
// resolves with the <paired/> element once a logged-in device links it.
export async function pair(url, domain, pub, onRef) {
  const w = await Wire.open(url, domain);
  try {
    const f = await w.openStream();
    if (!f.child('pair', NS.devices)) throw new Error('this server does not offer pairing here');
    const res = await w.iq(new El('iq', NS.client, { type: 'set' }, [new El('pair', NS.devices, { key: pub })]));
    const p = res.child('pair', NS.devices);
    onRef(p.attr('ref'), p.attr('expires'));
    for (;;) {
      const el = await w.next(300000);
      if (el.ns !== NS.devices) continue;
      if (el.name === 'pair') onRef(el.attr('ref'), el.attr('expires'));
      if (el.name === 'paired') { w.close(); return el; }
    }
  } catch (e) {
    w.close();
    throw e;
  }
}
