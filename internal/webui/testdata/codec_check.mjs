// Checks static/js/codec.js against the Go codec's golden vectors, given
// as JSON by TestJSCodecGoldenVectors: for each case, the JS decoder turns
// preamble + frame into the Go tree, and the JS encoder writes the frame.
import { readFileSync } from 'node:fs';
import { Decoder, Encoder, El, CodecError } from '../static/js/codec.js';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const hex = (s) => Uint8Array.from(s.match(/../g).map((x) => parseInt(x, 16)));
const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

// The Go tree's JSON (stanza.Element) and El, in one comparable shape.
const fromGo = (g) => {
  const el = new El(g.Name, g.Space, null, (g.Children || []).map(fromGo), g.Text || '');
  el.attrs = (g.Attrs || []).map((a) => ({ space: a.Space || '', name: a.Name, value: a.Value || '' }));
  return el;
};
const canon = (el) => JSON.stringify(el, ['name', 'ns', 'attrs', 'space', 'value', 'children', 'text']);

let passed = 0, failed = 0;
const check = (name, ok, detail) => {
  if (ok) passed++; else { failed++; console.log(`FAIL ${name}: ${detail}`); }
};
const pre = hex(input.preamble);
const enc = new Encoder(input.strings);
check('preamble', toHex(enc.preamble()) === input.preamble, toHex(enc.preamble()));

for (const c of input.cases) {
  const want = fromGo(c.tree);
  // decode, one byte at a time (frames split anywhere, as WebSocket messages may)
  let got = null, err = null;
  try {
    const d = new Decoder();
    const all = new Uint8Array([...pre, ...hex(c.frame)]);
    const toks = [];
    for (const b of all) { d.feed([b]); for (let t; (t = d.next()) !== null;) toks.push(t); }
    if (toks.length !== 2 || toks[0].kind !== 'start' || toks[1].kind !== 'stanza') throw new Error('tokens ' + JSON.stringify(toks.map((t) => t.kind)));
    got = toks[1].el;
  } catch (e) { err = e; }
  check(`decode ${c.name}`, !err && canon(got) === canon(want), err || `${canon(got)}\nwant ${canon(want)}`);
  const frame = toHex(enc.frame(want));
  check(`encode ${c.name}`, frame === c.frame, `${frame}\nwant ${c.frame}`);
}

const throws = (bytes) => { try { const d = new Decoder(); d.feed(bytes); while (d.next() !== null); return false; } catch (e) { return e instanceof CodecError; } };
check('bad magic', throws(new Uint8Array([0x3c, 0x3f])), 'accepted "<?"');
check('non-minimal uvarint', throws(new Uint8Array([...pre, 0x82, 0x00])), 'accepted 82 00');

// Mutated frames (a small deterministic fuzz): the decoder either decodes
// or throws a CodecError, never another exception, and always returns.
let seed = 12345;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
let bad = '';
for (let i = 0; i < 3000 && !bad; i++) {
  const c = input.cases[rnd(input.cases.length)];
  const b = Array.from(hex(c.frame));
  for (let k = 1 + rnd(3); k > 0; k--) {
    const op = rnd(3), at = rnd(b.length);
    if (op === 0) b[at] = rnd(256); else if (op === 1) b.splice(at, 1); else b.splice(at, 0, rnd(256));
  }
  try {
    const d = new Decoder();
    d.feed(new Uint8Array([...pre, ...b]));
    for (let n = 0; d.next() !== null; n++) if (n > 10) throw new Error('too many tokens');
  } catch (e) {
    if (!(e instanceof CodecError)) bad = `${c.name} mutated to ${toHex(b)}: ${e}`;
  }
}
check('mutated frames fail cleanly', !bad, bad);

console.log(`codec: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
