// Parley's binary encoding of XMPP stanzas (docs/protocol/binary.md), the
// JavaScript twin of internal/wire/binary. Checked against the Go codec's
// golden vectors by internal/webui's tests (node).
import { TOKENS } from './dict.js';

export const NS_CLIENT = 'jabber:client';
export const NS_XML = 'http://www.w3.org/XML/1998/namespace';
export const MAX_FRAME = 1 << 20;

const MAGIC = [0x50, 0x52, 0x4c, 0x42]; // "PRLB"
const T_EMPTY = 0x00, T_STREAM0 = 0xd0, T_PAGE0 = 0xe0, T_LITERAL = 0xf0, T_NUMBER = 0xf1,
  T_HEXLOW = 0xf2, T_HEXUP = 0xf3, T_UUID = 0xf4, T_UUIDUP = 0xf5, T_BASE64 = 0xf6, T_JID = 0xf7,
  T_QNAME = 0xf8, T_XMLLANG = 0xf9;
const ONE_PAGE = 0xcf;
const NUM_ALPHA = '0123456789-.:+TZ';
const HEXL = '0123456789abcdef';
const HEXU = '0123456789ABCDEF';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const C_NUM = 1, C_HEXL = 2, C_HEXU = 4, C_B64 = 8, C_NOJID = 16;

const CLASS = new Uint8Array(256);
const NIB_NUM = new Uint8Array(256);
const NIB_HEX = new Uint8Array(256);
const B64VAL = new Uint8Array(256);
for (let i = 0; i < 0x21; i++) CLASS[i] |= C_NOJID;
CLASS[0x7f] |= C_NOJID;
for (let i = 0; i < 16; i++) {
  CLASS[NUM_ALPHA.charCodeAt(i)] |= C_NUM; NIB_NUM[NUM_ALPHA.charCodeAt(i)] = i;
  CLASS[HEXL.charCodeAt(i)] |= C_HEXL; NIB_HEX[HEXL.charCodeAt(i)] = i;
  CLASS[HEXU.charCodeAt(i)] |= C_HEXU; NIB_HEX[HEXU.charCodeAt(i)] = i;
}
for (let i = 0; i < 64; i++) { CLASS[B64.charCodeAt(i)] |= C_B64; B64VAL[B64.charCodeAt(i)] = i; }
const TOKEN_INDEX = new Map(TOKENS.map((t, i) => [t, i]));

const utf8 = new TextEncoder();
const fromUTF8 = new TextDecoder();

export class CodecError extends Error {}

// El is one XML element: namespace, name, ordered attributes
// ({space, name, value}), text and children.
export class El {
  constructor(name, ns = '', attrs = null, children = null, text = '') {
    this.name = name;
    this.ns = ns;
    this.attrs = [];
    this.children = children || [];
    this.text = text;
    if (attrs) for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) this.attrs.push({ space: '', name: k, value: String(v) });
  }
  attr(name) { const a = this.attrs.find((x) => x.space === '' && x.name === name); return a ? a.value : ''; }
  setAttr(name, value) {
    const a = this.attrs.find((x) => x.space === '' && x.name === name);
    if (a) a.value = String(value); else this.attrs.push({ space: '', name, value: String(value) });
    return this;
  }
  child(name, ns) { return this.children.find((c) => c.name === name && (ns === undefined || c.ns === ns)) || null; }
  add(c) { this.children.push(c); return c; }
  childText(name, ns) { const c = this.child(name, ns); return c ? c.text : ''; }
}

// ---- encoder ----

class Out {
  constructor() { this.b = []; }
  byte(x) { this.b.push(x); }
  bytes(a) { for (const x of a) this.b.push(x); }
  uvarint(x) { while (x >= 0x80) { this.b.push((x & 0x7f) | 0x80); x = Math.floor(x / 128); } this.b.push(x); }
}

function uvarintLen(x) { let n = 1; while (x >= 0x80) { x = Math.floor(x / 128); n++; } return n; }

export class Encoder {
  constructor(strings = []) {
    if (strings.length > 16) throw new CodecError('more than 16 preamble strings');
    this.strings = strings.slice();
  }

  preamble() {
    const o = new Out();
    o.bytes(MAGIC); o.byte(1); o.byte(1); o.byte(this.strings.length);
    for (const s of this.strings) { const b = utf8.encode(s); o.uvarint(b.length); o.bytes(b); }
    return Uint8Array.from(o.b);
  }

  // frame returns el as one frame (length prefix and element).
  frame(el) {
    const body = new Out();
    this.element(body, el, NS_CLIENT);
    const o = new Out();
    o.uvarint(body.b.length);
    o.bytes(body.b);
    return Uint8Array.from(o.b);
  }

  element(o, el, parentNS) {
    const kids = el.children.filter(Boolean);
    const na = el.attrs.length;
    let h = (Math.min(na, 7) << 2) | (Math.min(kids.length, 7) << 5);
    if (el.ns !== parentNS) h |= 1;
    if (el.text !== '') h |= 2;
    o.byte(h);
    this.string(o, el.name, true);
    if (h & 1) this.string(o, el.ns, true);
    if (na >= 7) o.uvarint(na - 7);
    if (kids.length >= 7) o.uvarint(kids.length - 7);
    for (const a of el.attrs) {
      if (a.space === '') this.string(o, a.name, true);
      else if (a.space === NS_XML && a.name === 'lang') o.byte(T_XMLLANG);
      else { o.byte(T_QNAME); this.string(o, a.space, true); this.string(o, a.name, true); }
      this.string(o, a.value, true);
    }
    if (h & 2) this.string(o, el.text, true);
    for (const c of kids) this.element(o, c, el.ns);
  }

  // string appends s in its shortest form, as the Go encoder chooses it.
  string(o, s, jidOK) {
    if (s === '') { o.byte(T_EMPTY); return; }
    const tok = TOKEN_INDEX.get(s);
    if (tok !== undefined) {
      if (tok < ONE_PAGE) o.byte(tok + 1);
      else { const i = tok - ONE_PAGE; o.byte(T_PAGE0 + (i >> 8)); o.byte(i & 0xff); }
      return;
    }
    const si = this.strings.indexOf(s);
    if (si >= 0) { o.byte(T_STREAM0 + si); return; }
    const b = utf8.encode(s);
    const n = b.length;
    if (n < 2) { literal(o, b); return; }
    let cls = CLASS[b[0]] & (C_NUM | C_HEXL | C_HEXU);
    for (let i = 1; cls !== 0 && i < n; i++) cls &= CLASS[b[i]];
    if (cls !== 0) {
      let tag = T_HEXUP, nib = NIB_HEX;
      if (cls & C_NUM) { tag = T_NUMBER; nib = NIB_NUM; } else if (cls & C_HEXL) tag = T_HEXLOW;
      o.byte(tag); o.uvarint(n);
      for (let i = 0; i + 1 < n; i += 2) o.byte((nib[b[i]] << 4) | nib[b[i + 1]]);
      if (n % 2 === 1) o.byte(nib[b[n - 1]] << 4);
      return;
    }
    if (n === 36) {
      const up = isUUID(b);
      if (up >= 0) {
        o.byte(T_UUID + up);
        for (let i = 0; i < 36; i += 2) { if (b[i] === 0x2d) i++; o.byte((NIB_HEX[b[i]] << 4) | NIB_HEX[b[i + 1]]); }
        return;
      }
    }
    let best = 1 + uvarintLen(n) + n;
    let raw = -1;
    if (n >= 8) {
      raw = base64Len(b);
      if (raw >= 0) { const sz = 1 + uvarintLen(raw) + raw; if (sz < best) best = sz; else raw = -1; }
    }
    if (jidOK && n <= 3 * 1023 + 2) {
      const parts = splitJID(b);
      if (parts) {
        const j = new Out();
        j.byte(T_JID);
        for (const p of parts) this.string(j, fromUTF8.decode(p), false);
        if (j.b.length < best) { o.bytes(j.b); return; }
      }
    }
    if (raw >= 0) { o.byte(T_BASE64); o.uvarint(raw); o.bytes(base64Decode(b)); return; }
    literal(o, b);
  }
}

function literal(o, b) { o.byte(T_LITERAL); o.uvarint(b.length); o.bytes(b); }

function isUUID(b) {
  if (b.length !== 36 || b[8] !== 0x2d || b[13] !== 0x2d || b[18] !== 0x2d || b[23] !== 0x2d) return -1;
  let cls = C_HEXL | C_HEXU;
  for (let i = 0; i < 36; i++) if (i !== 8 && i !== 13 && i !== 18 && i !== 23) cls &= CLASS[b[i]];
  if (cls & C_HEXL) return 0;
  if (cls & C_HEXU) return 1;
  return -1;
}

function base64Len(b) {
  const n = b.length;
  if (n < 4 || n % 4 !== 0) return -1;
  let pad = 0;
  if (b[n - 1] === 0x3d) { pad++; if (b[n - 2] === 0x3d) pad++; }
  for (let i = 0; i < n - pad; i++) if ((CLASS[b[i]] & C_B64) === 0) return -1;
  if (pad === 1 && (B64VAL[b[n - 2]] & 3) !== 0) return -1;
  if (pad === 2 && (B64VAL[b[n - 3]] & 0xf) !== 0) return -1;
  return (n / 4) * 3 - pad;
}

function base64Decode(b) {
  const out = [];
  for (let i = 0; i < b.length; i += 4) {
    let w = (B64VAL[b[i]] << 18) | (B64VAL[b[i + 1]] << 12);
    if (b[i + 2] === 0x3d) out.push((w >> 16) & 0xff);
    else if (b[i + 3] === 0x3d) { w |= B64VAL[b[i + 2]] << 6; out.push((w >> 16) & 0xff, (w >> 8) & 0xff); }
    else { w |= (B64VAL[b[i + 2]] << 6) | B64VAL[b[i + 3]]; out.push((w >> 16) & 0xff, (w >> 8) & 0xff, w & 0xff); }
  }
  return out;
}

function splitJID(b) {
  const slash = b.indexOf(0x2f);
  let rest = b, resource = new Uint8Array(0), local = new Uint8Array(0);
  if (slash >= 0) {
    rest = b.subarray(0, slash); resource = b.subarray(slash + 1);
    if (resource.length === 0) return null;
  }
  const at = rest.indexOf(0x40);
  if (at >= 0) {
    local = rest.subarray(0, at); rest = rest.subarray(at + 1);
    if (local.length === 0) return null;
  }
  if (rest.length === 0 || (slash < 0 && at < 0)) return null;
  for (const c of b) if (CLASS[c] & C_NOJID) return null;
  return [local, rest, resource];
}

// ---- decoder ----

// Decoder is a push decoder of one direction of a stream: feed it bytes,
// then call next() until it returns null (more bytes needed). next returns
// {kind: 'start', strings}, {kind: 'stanza', el} or {kind: 'end'}; a
// malformed stream throws a CodecError, after which the decoder stays failed.
export class Decoder {
  constructor(maxFrame = MAX_FRAME) {
    this.buf = new Uint8Array(0);
    this.started = false;
    this.ended = false;
    this.strings = [];
    this.maxFrame = maxFrame;
    this.failed = null;
  }

  feed(bytes) {
    const b = new Uint8Array(this.buf.length + bytes.length);
    b.set(this.buf); b.set(bytes, this.buf.length);
    this.buf = b;
  }

  next() {
    if (this.failed) throw this.failed;
    try { return this.step(); } catch (e) { this.failed = e; throw e; }
  }

  step() {
    for (;;) {
      if (!this.started) return this.preamble();
      if (this.buf.length === 0) return null;
      if (this.ended) throw new CodecError('data after the end frame');
      const [len, pos] = readUvarint(this.buf, 0, 4);
      if (len < 0) return null;
      if (len > this.maxFrame) throw new CodecError('frame too large');
      if (this.buf.length < pos + len) return null;
      const payload = this.buf.subarray(pos, pos + len);
      this.buf = this.buf.subarray(pos + len);
      if (len === 0) continue; // keep-alive
      if (len === 1) {
        if (payload[0] !== 0) throw new CodecError('reserved control frame');
        this.ended = true;
        return { kind: 'end' };
      }
      const r = new Reader(payload, this.strings);
      const el = r.element(NS_CLIENT, 1);
      if (r.pos !== payload.length) throw new CodecError('bytes left after the element');
      return { kind: 'stanza', el };
    }
  }

  preamble() {
    const b = this.buf;
    for (let i = 0; i < 4 && i < b.length; i++) if (b[i] !== MAGIC[i]) throw new CodecError('bad magic');
    if (b.length < 7) return null;
    if (b[4] !== 1) throw new CodecError('unsupported protocol version ' + b[4]);
    if (b[5] < 1 || b[5] > 1) throw new CodecError('unknown dictionary version ' + b[5]);
    const count = b[6];
    if (count > 16) throw new CodecError('too many preamble strings');
    let pos = 7;
    const strings = [];
    for (let i = 0; i < count; i++) {
      const [n, p] = readUvarint(b, pos, 2);
      if (n < 0) return null;
      if (n < 1 || n > 1023) throw new CodecError('bad preamble string length');
      if (b.length < p + n) return null;
      const s = fromUTF8.decode(b.subarray(p, p + n));
      if (strings.includes(s)) throw new CodecError('preamble string twice');
      strings.push(s);
      pos = p + n;
    }
    this.strings = strings;
    this.started = true;
    this.buf = b.subarray(pos);
    return { kind: 'start', strings };
  }
}

// readUvarint returns [value, next position], or [-1, pos] when incomplete.
function readUvarint(b, pos, maxBytes) {
  let x = 0, mul = 1;
  for (let i = 0; i < maxBytes; i++) {
    if (pos + i >= b.length) return [-1, pos];
    const c = b[pos + i];
    if (i > 0 && c === 0) throw new CodecError('non-minimal uvarint');
    x += (c & 0x7f) * mul;
    mul *= 128;
    if (c < 0x80) return [x, pos + i + 1];
  }
  throw new CodecError('uvarint too long');
}

class Reader {
  constructor(b, strings) { this.b = b; this.pos = 0; this.strings = strings; }

  byte() { if (this.pos >= this.b.length) throw new CodecError('truncated element'); return this.b[this.pos++]; }
  uvarint() { const [x, p] = readUvarint(this.b, this.pos, 5); if (x < 0) throw new CodecError('truncated element'); this.pos = p; return x; }
  take(n) { if (this.pos + n > this.b.length) throw new CodecError('truncated element'); const s = this.b.subarray(this.pos, this.pos + n); this.pos += n; return s; }

  element(parentNS, depth) {
    if (depth > 32) throw new CodecError('too deep');
    const h = this.byte();
    const name = this.string(true);
    const ns = h & 1 ? this.string(true) : parentNS;
    let na = (h >> 2) & 7, nk = (h >> 5) & 7;
    if (na === 7) na += this.uvarint();
    if (nk === 7) nk += this.uvarint();
    if (na > 64) throw new CodecError('too many attributes');
    if (2 * (na + nk) > this.b.length - this.pos) throw new CodecError('counts beyond the frame');
    const el = new El(name, ns);
    for (let i = 0; i < na; i++) {
      const t = this.b[this.pos];
      let space = '', an;
      if (t === T_XMLLANG) { this.pos++; space = NS_XML; an = 'lang'; } else if (t === T_QNAME) { this.pos++; space = this.string(true); an = this.string(true); } else an = this.string(true);
      el.attrs.push({ space, name: an, value: this.string(true) });
    }
    if (h & 2) el.text = this.string(true);
    for (let i = 0; i < nk; i++) el.children.push(this.element(ns, depth + 1));
    return el;
  }

  string(jidOK) {
    const t = this.byte();
    if (t === T_EMPTY) return '';
    if (t <= ONE_PAGE) return token(t - 1);
    if (t < T_PAGE0) {
      const s = this.strings[t - T_STREAM0];
      if (s === undefined) throw new CodecError('undeclared preamble string');
      return s;
    }
    if (t <= 0xe3) return token(ONE_PAGE + 256 * (t - T_PAGE0) + this.byte());
    switch (t) {
      case T_LITERAL: return fromUTF8.decode(this.take(this.uvarint()));
      case T_NUMBER: return this.nibbles(NUM_ALPHA);
      case T_HEXLOW: return this.nibbles(HEXL);
      case T_HEXUP: return this.nibbles(HEXU);
      case T_UUID: case T_UUIDUP: {
        const alpha = t === T_UUID ? HEXL : HEXU;
        let s = '';
        const raw = this.take(16);
        for (let i = 0; i < 16; i++) {
          if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
          s += alpha[raw[i] >> 4] + alpha[raw[i] & 15];
        }
        return s;
      }
      case T_BASE64: {
        const n = this.uvarint();
        if (n < 1) throw new CodecError('empty base64');
        return base64Encode(this.take(n));
      }
      case T_JID: {
        if (!jidOK) throw new CodecError('JID inside a JID');
        const local = this.string(false), domain = this.string(false), resource = this.string(false);
        if (domain === '') throw new CodecError('JID without a domain');
        return (local ? local + '@' : '') + domain + (resource ? '/' + resource : '');
      }
    }
    throw new CodecError('reserved string tag 0x' + t.toString(16));
  }

  nibbles(alpha) {
    const n = this.uvarint();
    if (n < 1) throw new CodecError('empty packed string');
    const raw = this.take((n + 1) >> 1);
    let s = '';
    for (let i = 0; i < n; i++) s += alpha[i % 2 === 0 ? raw[i >> 1] >> 4 : raw[i >> 1] & 15];
    if (n % 2 === 1 && (raw[raw.length - 1] & 15) !== 0) throw new CodecError('bad nibble padding');
    return s;
  }
}

function token(i) {
  if (i >= TOKENS.length) throw new CodecError('token beyond the dictionary');
  return TOKENS[i];
}

export function base64Encode(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64Decode64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export const KEEP_ALIVE = new Uint8Array([0]);
export const STREAM_END = new Uint8Array([1, 0]);
