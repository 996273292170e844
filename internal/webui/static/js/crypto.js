// The web client's cryptography, all WebCrypto (no private key or token
// ever leaves the browser except the token to the server at login):
// - the pairing key (X25519) and opening the sealed device credential
//   (docs/protocol/devices.md §3: ECDH, HKDF-SHA-256, AES-256-GCM);
// - files: AES-256-GCM in XEP-0454's format (aesgcm:// URLs, docs/media.md).
const subtle = globalThis.crypto ? globalThis.crypto.subtle : undefined; // undefined outside a secure context (main.js says so)
const te = new TextEncoder();

export function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function unb64url(text) {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

export function hex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(''); }

export function unhex(text) {
  if (text.length % 2 || /[^0-9a-fA-F]/.test(text)) throw new Error('not hex');
  return Uint8Array.from(text.match(/../g) || [], (x) => parseInt(x, 16));
}

// pairingKey generates the X25519 key pair the QR code is bound to; pub is
// the 43-character base64url public key.
export async function pairingKey() {
  const kp = await subtle.generateKey({ name: 'X25519' }, false, ['deriveBits']);
  const raw = new Uint8Array(await subtle.exportKey('raw', kp.publicKey));
  return { privateKey: kp.privateKey, raw, pub: b64url(raw) };
}

// openCredential decrypts the token the server sealed to key (devicelink.Open).
export async function openCredential(key, ephB64, sealedB64, jid, id) {
  const ephRaw = unb64url(ephB64);
  const sealed = unb64url(sealedB64);
  const eph = await subtle.importKey('raw', ephRaw, { name: 'X25519' }, false, []);
  const shared = await subtle.deriveBits({ name: 'X25519', public: eph }, key.privateKey, 256);
  const salt = new Uint8Array(64);
  salt.set(ephRaw, 0);
  salt.set(key.raw, 32);
  const ikm = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  const aesKey = await subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt, info: te.encode('parley-link:1 credential') },
    ikm, { name: 'AES-GCM', length: 256 }, false, ['decrypt']);
  const aad = te.encode(`parley-link:1\u0000${jid}\u0000${id}`);
  const pt = await subtle.decrypt({ name: 'AES-GCM', iv: sealed.subarray(0, 12), additionalData: aad }, aesKey, sealed.subarray(12));
  return new TextDecoder().decode(pt);
}

export async function sha256(bytes) { return new Uint8Array(await subtle.digest('SHA-256', bytes)); }

// encryptFile encrypts data with a fresh key and IV: the ciphertext with
// its tag, and the URL fragment (hex IV then key, 88 digits).
export async function encryptFile(data) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const keyRaw = crypto.getRandomValues(new Uint8Array(32));
  const key = await subtle.importKey('raw', keyRaw, 'AES-GCM', false, ['encrypt']);
  const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv }, key, data));
  return { ciphertext: ct, fragment: hex(iv) + hex(keyRaw) };
}

// decryptFile reverses encryptFile given the fragment (an IV of 12 or 16
// bytes, then the 32-byte key).
export async function decryptFile(ciphertext, fragment) {
  const raw = unhex(fragment);
  if (raw.length !== 44 && raw.length !== 48) throw new Error('bad aesgcm fragment');
  const iv = raw.subarray(0, raw.length - 32);
  const key = await subtle.importKey('raw', raw.subarray(raw.length - 32), 'AES-GCM', false, ['decrypt']);
  return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv }, key, ciphertext));
}

// httpURL turns an aesgcm:// URL into the URL to fetch and its fragment.
export function splitAesgcm(url) {
  const hash = url.indexOf('#');
  if (!/^aesgcm:\/\//i.test(url) || hash < 0) return null;
  const rest = url.slice(9, hash);
  const host = rest.split('/')[0].split(':')[0];
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
  return { fetch: (loopback ? 'http://' : 'https://') + rest, fragment: url.slice(hash + 1) };
}
