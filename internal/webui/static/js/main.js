// Entry point: pair by QR code when this browser has no device credential,
// else log in with it and show the chats.
import qrcode from '../vendor/qrcode-generator-2.0.4/qrcode.mjs';
import { pair, wsURL } from './conn.js';
import { pairingKey, openCredential } from './crypto.js';
import { Client, callsKey } from './client.js';
import { UI } from './ui.js';
import { Calls } from './calls.js';
import { CallUI } from './callui.js';

const CRED_KEY = 'parley.device';
const $ = (id) => document.getElementById(id);

function loadCredential() {
  try {
    const c = JSON.parse(localStorage.getItem(CRED_KEY) || 'null');
    return c && c.jid && c.id && c.token ? c : null;
  } catch (e) { return null; }
}

function drawQR(text) {
  const qr = qrcode(0, 'L');
  qr.addData(text, 'Byte');
  qr.make();
  const canvas = $('qr');
  const n = qr.getModuleCount();
  const quiet = 4;
  const scale = Math.max(4, Math.floor(264 / (n + 2 * quiet)));
  canvas.width = canvas.height = (n + 2 * quiet) * scale;
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = '#000';
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) g.fillRect((c + quiet) * scale, (r + quiet) * scale, scale, scale);
  canvas.dataset.payload = text;
  $('qr-text').value = text;
}

// startPairing shows QR codes until a logged-in device links this browser.
async function startPairing(cfg, note = '') {
  $('app').hidden = true;
  $('pairing').hidden = false;
  $('pairing-status').textContent = note;
  for (;;) {
    try {
      const key = await pairingKey();
      const paired = await pair(wsURL(), cfg.domain, key.pub, (ref) => drawQR(`parley-link:1:${ref}:${key.pub}`));
      $('pairing-status').textContent = 'Linked. Logging in…';
      const jid = paired.attr('jid'), id = paired.attr('id');
      const token = await openCredential(key, paired.attr('eph'), paired.attr('credential'), jid, id);
      const cred = { jid, id, token };
      localStorage.setItem(CRED_KEY, JSON.stringify(cred));
      startApp(cfg, cred);
      return;
    } catch (e) {
      if (e.name === 'NotSupportedError') {
        $('pairing-status').textContent = 'This browser cannot link: it lacks X25519 in WebCrypto. Use a current Chromium, Chrome, Edge, Firefox or Safari.';
        return;
      }
      $('pairing-status').textContent = `${e.message}. Starting again…`;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function startApp(cfg, cred) {
  $('pairing').hidden = true;
  $('app').hidden = false;
  const ui = new UI(cfg, cred);
  const client = new Client(wsURL(), cfg.domain, cred, {
    onChat: (jid) => ui.chatChanged(jid),
    onChats: () => ui.render(),
    onState: (state, detail) => ui.connection(state, detail),
    onRevoked: () => {
      localStorage.removeItem(CRED_KEY);
      localStorage.removeItem(callsKey(cred));
      startPairing(cfg, 'This browser was unlinked from the account. Link it again to use it.');
    },
  });
  ui.attach(client);
  const c = (jid) => client.chat(jid);
  const callUI = new CallUI(null, () => ui.current, (jid) => c(jid).name || jid);
  const calls = new Calls(client, { onChange: (call) => callUI.render(call), onEntry: (peer, e) => client.addCallEntry(peer, e) });
  callUI.calls = calls;
  callUI.attach();
  client.calls = calls;
  // For the browser tests and the console: the current call's WebRTC
  // statistics (connection state, inbound bytes, candidate types).
  window.parleyCallStats = () => calls.stats();
  $('logout').onclick = () => {
    client.stop();
    localStorage.removeItem(CRED_KEY);
    localStorage.removeItem(callsKey(cred));
    location.reload();
  };
  client.run();
}

async function main() {
  if (!window.isSecureContext || !globalThis.crypto || !crypto.subtle) {
    $('pairing').hidden = false;
    $('pairing-status').textContent = 'Open this page over HTTPS (or from localhost): browsers allow its cryptography only in a secure context.';
    return;
  }
  const cfg = await (await fetch('/config.json')).json();
  const cred = loadCredential();
  if (cred) startApp(cfg, cred); else startPairing(cfg);
}

main();
