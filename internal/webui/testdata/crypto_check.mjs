// Opens, with static/js/crypto.js, what the Go side sealed and encrypted
// (TestJSCryptoOpensWhatGoSeals), and encrypts a file for Go to open.
import { readFileSync, writeFileSync } from 'node:fs';
import { openCredential, decryptFile, encryptFile } from '../static/js/crypto.js';

const v = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const fromURL = (s) => b64(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
let passed = 0, failed = 0;
const check = (name, ok, detail = '') => { if (ok) passed++; else { failed++; console.log(`FAIL ${name} ${detail}`); } };

const privateKey = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'X25519', d: v.priv, x: v.pub }, { name: 'X25519' }, false, ['deriveBits']);
const key = { privateKey, raw: fromURL(v.pub), pub: v.pub };
try {
  check('open credential', (await openCredential(key, v.eph, v.credential, v.jid, v.id)) === v.token);
} catch (e) { check('open credential', false, e); }
try {
  await openCredential(key, v.eph, v.credential, v.jid, 'dev-000000000000');
  check('credential bound to its device id', false, 'opened for another id');
} catch (e) { check('credential bound to its device id', true); }

const plain = b64(v.plain);
const pt = await decryptFile(b64(v.file), v.fragment);
check('decrypt a Go-encrypted file', pt.length === plain.length && pt.every((x, i) => x === plain[i]));
const enc = await encryptFile(plain);
check('ciphertext is the file plus a 16-byte tag, 88-digit fragment', enc.ciphertext.length === plain.length + 16 && enc.fragment.length === 88);
let s = '';
for (const x of enc.ciphertext) s += String.fromCharCode(x);
writeFileSync(v.out, JSON.stringify({ Ciphertext: btoa(s), Fragment: enc.fragment }));
console.log(`crypto: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
