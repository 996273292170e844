// The chat screen: conversation list, chat view with bubbles and ticks,
// typing, presence and last seen, the composer, attachments, the offline
// banner. Text goes into the page as text (textContent), never as HTML.
import { El } from './codec.js';
import { NS } from './conn.js';
import { X } from './client.js';
import { encryptFile, decryptFile, sha256, splitAesgcm } from './crypto.js';
import { base64Encode } from './codec.js';

const $ = (id) => document.getElementById(id);

function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'tabindex') e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const k of kids) if (k) e.append(k);
  return e;
}

const pad = (n) => String(n).padStart(2, '0');
const hm = (t) => { const d = new Date(t); return `${pad(d.getHours())}:${pad(d.getMinutes())}`; };
function dayLabel(t) {
  const d = new Date(t), now = new Date();
  if (d.toDateString() === now.toDateString()) return 'today';
  const y = new Date(now); y.setDate(now.getDate() - 1);
  if (d.toDateString() === y.toDateString()) return 'yesterday';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
function listTime(t) { return dayLabel(t) === 'today' ? hm(t) : dayLabel(t); }

const TICKS = { pending: ['🕓', 'sending'], sent: ['✓', 'sent'], delivered: ['✓✓', 'delivered'], seen: ['✓✓', 'seen'] };

export class UI {
  constructor(cfg, cred) {
    this.cfg = cfg;
    this.cred = cred;
    this.current = '';
    this.images = new Map(); // aesgcm URL -> blob: URL
    $('me-jid').textContent = cred.jid;
  }

  attach(client) {
    this.client = client;
    $('compose-form').onsubmit = (e) => { e.preventDefault(); this.sendComposer(); };
    $('composer').onkeydown = (e) => {
      if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); this.sendComposer(); }
    };
    $('composer').oninput = () => this.typing();
    $('file').onchange = () => { const f = $('file').files[0]; $('file').value = ''; if (f) this.sendFile(f); };
    $('new-chat').onclick = () => {
      const jid = (prompt('Chat with (user@domain):') || '').trim();
      if (jid) this.select(jid.includes('@') ? jid : `${jid}@${this.cfg.domain}`);
    };
    $('chat-list').onkeydown = (e) => this.listKeys(e);
    document.addEventListener('visibilitychange', () => { if (this.current) this.client.open(this.current); });
    this.render();
  }

  connection(state, detail) {
    const b = $('banner');
    document.body.dataset.connection = state;
    if (state === 'online') { b.hidden = true; b.textContent = ''; return; }
    b.hidden = false;
    if (state === 'replaced') {
      const use = h('button', { type: 'button', id: 'use-here', class: 'use-here', text: 'Use here' });
      use.onclick = () => this.client.useHere();
      b.replaceChildren(h('span', { text: `${detail} ` }), use);
      return;
    }
    b.textContent = state === 'revoked' ? `Logged out: ${detail}` : `You are offline. ${detail || 'Reconnecting…'}`;
  }

  chatChanged(jid) {
    this.render();
    if (jid === this.current) this.renderChat();
  }

  sortedChats() {
    const last = (c) => (c.messages.length ? c.messages[c.messages.length - 1].time : 0);
    return [...this.client.chats.values()].sort((a, b) => last(b) - last(a) || a.jid.localeCompare(b.jid));
  }

  render() {
    if (!this.client) return;
    const list = $('chat-list');
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.jid : '';
    list.replaceChildren(...this.sortedChats().map((c) => this.chatItem(c)));
    if (focused) { const el = list.querySelector(`[data-jid="${CSS.escape(focused)}"]`); if (el) el.focus(); }
  }

  chatItem(c) {
    const last = c.messages[c.messages.length - 1];
    const preview = last ? (last.file ? `📎 ${last.file.name || 'file'}` : last.body) : '';
    const li = h('li', {
      class: 'chat-item' + (c.jid === this.current ? ' selected' : ''), role: 'option', tabindex: '0',
      'data-testid': 'chat-item', 'data-jid': c.jid, 'aria-selected': c.jid === this.current ? 'true' : 'false',
      'aria-label': `${c.name || c.jid}${c.unread ? `, ${c.unread} unread` : ''}${c.typing ? ', typing' : ''}`,
    },
    h('span', { class: 'name', text: c.name || c.jid }),
    h('span', { class: 'time', text: last ? listTime(last.time) : '' }),
    h('span', { class: 'preview', text: c.typing ? 'typing…' : (last && last.out && !last.call ? `${TICKS[last.status][0]} ` : '') + preview }),
    c.unread ? h('span', { class: 'unread', 'data-testid': 'unread', 'aria-label': `${c.unread} unread messages`, text: String(c.unread) }) : null);
    li.onclick = () => this.select(c.jid);
    return li;
  }

  listKeys(e) {
    const items = [...$('chat-list').children];
    const i = items.indexOf(document.activeElement);
    if (e.key === 'ArrowDown' && i + 1 < items.length) { items[i + 1].focus(); e.preventDefault(); }
    if (e.key === 'ArrowUp' && i > 0) { items[i - 1].focus(); e.preventDefault(); }
    if ((e.key === 'Enter' || e.key === ' ') && i >= 0) { this.select(items[i].dataset.jid); e.preventDefault(); }
  }

  select(jid) {
    this.current = jid;
    $('chat').hidden = false;
    $('empty').hidden = true;
    this.client.open(jid);
    this.render();
    this.renderChat();
    $('composer').focus();
  }

  presenceText(c) {
    if (c.online) return 'online';
    if (c.lastSeen) return `last seen ${dayLabel(c.lastSeen)} at ${hm(c.lastSeen)}`;
    return '';
  }

  renderChat() {
    const c = this.client.chat(this.current);
    $('chat-title').textContent = c.name || c.jid;
    $('presence').textContent = this.presenceText(c);
    $('presence').dataset.state = c.online ? 'online' : c.lastSeen ? 'last-seen' : c.lastSeenHidden ? 'hidden' : 'unknown';
    $('typing').hidden = !c.typing;
    const box = $('messages');
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.replaceChildren(...c.messages.map((m) => this.bubble(m)));
    if (atBottom || c.messages.length && c.messages[c.messages.length - 1].out) box.scrollTop = box.scrollHeight;
  }

  bubble(m) {
    if (m.call) return this.callEntry(m);
    const status = m.out ? m.status : undefined;
    const content = m.file ? this.fileView(m.file) : h('span', { class: 'text', text: m.body });
    const tick = m.out ? h('span', { class: `ticks ${m.status}`, 'aria-label': TICKS[m.status][1], text: TICKS[m.status][0] }) : null;
    return h('li', { class: `message ${m.out ? 'out' : 'in'}`, 'data-testid': 'message', 'data-id': m.id, 'data-status': status,
      'aria-label': `${m.out ? 'You' : 'They'} at ${hm(m.time)}${m.out ? ', ' + TICKS[m.status][1] : ''}` },
    content, h('span', { class: 'meta' }, h('time', { dateTime: new Date(m.time).toISOString(), text: hm(m.time) }), tick));
  }

  callEntry(m) {
    return h('li', { class: `message call-entry ${m.out ? 'out' : 'in'}`, 'data-testid': 'call-entry', 'data-id': m.id,
      'data-result': m.call.result, 'data-media': m.call.media, 'aria-label': `${m.body} at ${hm(m.time)}` },
    h('span', { class: 'icon', 'aria-hidden': 'true', text: m.call.media === 'video' ? '🎥 ' : '📞 ' }),
    h('span', { class: 'text', text: m.body }),
    h('span', { class: 'meta' }, h('time', { dateTime: new Date(m.time).toISOString(), text: hm(m.time) })));
  }

  fileView(f) {
    const isImage = (f.type || '').startsWith('image/');
    if (isImage) {
      const img = h('img', { class: 'attachment', alt: f.name || 'image', 'data-testid': 'image' });
      this.blobURL(f).then((u) => { img.src = u; }).catch(() => { img.alt = `${f.name || 'image'} (cannot be opened)`; });
      return img;
    }
    const a = h('a', { href: '#', class: 'file', text: `📎 ${f.name || 'file'}` });
    a.onclick = async (e) => {
      e.preventDefault();
      const u = await this.blobURL(f);
      const dl = h('a', { href: u, download: f.name || 'file' });
      dl.click();
    };
    return a;
  }

  // blobURL downloads and decrypts an aesgcm:// file once.
  async blobURL(f) {
    if (f.local) return f.local;
    if (this.images.has(f.url)) return this.images.get(f.url);
    const p = (async () => {
      const s = splitAesgcm(f.url);
      if (!s) throw new Error('not an encrypted file');
      const r = await fetch(s.fetch);
      if (!r.ok) throw new Error(`download: ${r.status}`);
      const pt = await decryptFile(new Uint8Array(await r.arrayBuffer()), s.fragment);
      return URL.createObjectURL(new Blob([pt], { type: f.type || 'application/octet-stream' }));
    })();
    this.images.set(f.url, p);
    return p;
  }

  sendComposer() {
    const box = $('composer');
    const text = box.value.replace(/\s+$/, '');
    if (!text.trim() || !this.current) return;
    this.client.sendText(this.current, text);
    box.value = '';
    clearTimeout(this.pausedTimer);
    this.composing = false;
  }

  typing() {
    if (!this.current) return;
    if (!this.composing) { this.composing = true; this.client.chatState(this.current, 'composing'); }
    clearTimeout(this.pausedTimer);
    this.pausedTimer = setTimeout(() => { this.composing = false; this.client.chatState(this.current, 'paused'); }, 5000);
  }

  // sendFile encrypts f in the browser, uploads it through an XEP-0363
  // slot with a progress bar and sends its aesgcm:// URL.
  async sendFile(file) {
    const to = this.current;
    if (!to) return;
    const bar = $('upload-bar');
    $('upload-progress').hidden = false;
    bar.value = 0;
    try {
      const data = new Uint8Array(await file.arrayBuffer());
      const { ciphertext, fragment } = await encryptFile(data);
      const sum = await sha256(ciphertext);
      const ext = (file.name.match(/\.([a-z0-9]{1,8})$/i) || [null, 'bin'])[1].toLowerCase();
      const slot = await this.client.requestSlot(`${crypto.randomUUID().slice(0, 16).replace(/-/g, '')}.${ext}`, ciphertext.length, base64Encode(sum));
      await put(slot, ciphertext, (p) => { bar.value = p; });
      const url = slot.get.replace(/^https?:/, 'aesgcm:') + '#' + fragment;
      const type = file.type || 'application/octet-stream';
      const hexSum = Array.from(sum, (b) => b.toString(16).padStart(2, '0')).join('');
      const extra = [new El('x', X.oob, null, [new El('url', X.oob, null, null, url)]),
        new El('file', NS.parley, { size: data.length, 'media-type': type, name: file.name, sha256: hexSum })];
      const local = URL.createObjectURL(new Blob([data], { type }));
      this.client.sendText(to, url, extra, { url, name: file.name, type, size: data.length, local });
    } catch (e) {
      alert(`Could not send ${file.name}: ${e.message}`);
    } finally {
      $('upload-progress').hidden = true;
    }
  }
}

// put uploads body to the slot with XMLHttpRequest (fetch reports no
// upload progress).
function put(slot, body, progress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('PUT', slot.put);
    for (const [k, v] of Object.entries(slot.headers)) x.setRequestHeader(k, v);
    x.setRequestHeader('Content-Type', 'application/octet-stream');
    x.upload.onprogress = (e) => { if (e.lengthComputable) progress(Math.round((100 * e.loaded) / e.total)); };
    x.onload = () => (x.status === 201 || x.status === 200 ? resolve() : reject(new Error(`upload: ${x.status} ${x.responseText.trim()}`)));
    x.onerror = () => reject(new Error('upload failed'));
    x.send(body);
  });
}
