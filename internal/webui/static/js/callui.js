// The call screen: start buttons in the chat's header, the incoming-call
// screen (accept, decline), mute, camera off, hang up, the running
// duration, the videos. It renders calls.js's current call.
const $ = (id) => document.getElementById(id);
const FINAL = ['ended', 'busy', 'declined', 'missed', 'failed'];
const pad = (n) => String(n).padStart(2, '0');

export function duration(secs) {
  const h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60), s = secs % 60;
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

// callText is a call's line in the chat (and the chat list's preview).
export function callText(call, out) {
  const kind = call.media === 'video' ? 'Video call' : 'Voice call';
  switch (call.result) {
    case 'answered': return `${kind} · ${duration(call.duration || 0)}`;
    case 'missed': return out ? `${kind} · No answer` : `Missed ${kind.toLowerCase()}`;
    case 'declined': return `${kind} · Declined`;
    case 'busy': return `${kind} · Busy`;
    case 'cancelled': return `${kind} · Cancelled`;
    default: return `${kind} · Not connected`;
  }
}

function stateText(c) {
  if (FINAL.includes(c.state)) return c.note || 'Call ended';
  if (c.state === 'calling') return 'Calling…';
  if (c.state === 'ringing') return c.out ? 'Ringing…' : `Incoming ${c.media} call`;
  if (c.state === 'connecting') return 'Connecting…';
  return 'Connected';
}

export class CallUI {
  // calls: Calls; current(): the open chat's JID; name(jid): a contact's name
  constructor(calls, current, name) {
    Object.assign(this, { calls, current, name });
    this.tick = 0;
    this.hideTimer = 0;
  }

  attach() {
    for (const b of document.querySelectorAll('[data-testid="call-start"]')) {
      b.onclick = () => { const jid = this.current(); if (jid) this.calls.start(jid, b.dataset.media); };
    }
    $('call-accept').onclick = () => this.calls.accept();
    $('call-decline').onclick = () => this.calls.decline();
    $('call-hangup').onclick = () => this.calls.hangup();
    $('call-mute').onclick = () => this.calls.toggleMute();
    $('call-camera').onclick = () => this.calls.toggleCamera();
    $('call-close').onclick = () => { $('call').hidden = true; };
    $('call').onkeydown = (e) => { if (e.key === 'Escape' && this.calls.active()) { e.preventDefault(); this.calls.hangup(); } };
  }

  render(c) {
    const box = $('call');
    const final = FINAL.includes(c.state);
    const wasHidden = box.hidden;
    clearTimeout(this.hideTimer);
    box.hidden = false;
    box.dataset.media = c.media;
    box.dataset.view = c.media === 'video' && (c.state === 'connecting' || c.state === 'connected') ? 'full' : 'card';
    $('call-peer').textContent = this.name(c.peer);
    const st = $('call-state');
    st.dataset.state = c.state;
    st.textContent = stateText(c);
    const incoming = !c.out && c.state === 'ringing';
    $('call-accept').hidden = !incoming;
    $('call-decline').hidden = !incoming;
    $('call-hangup').hidden = incoming || final;
    $('call-mute').hidden = incoming || final;
    $('call-camera').hidden = incoming || final || c.media !== 'video';
    $('call-close').hidden = !final;
    this.toggle('call-mute', c.muted, 'Unmute microphone', 'Mute microphone');
    this.toggle('call-camera', c.cameraOff, 'Turn camera on', 'Turn camera off');
    this.media(c, final);
    this.timer(c, final);
    for (const b of document.querySelectorAll('[data-testid="call-start"]')) b.disabled = !final;
    this.ring(incoming);
    if (wasHidden || incoming || final) (incoming ? $('call-accept') : final ? $('call-close') : $('call-hangup')).focus();
    if (final) this.hideTimer = setTimeout(() => { if (this.calls.call === c) box.hidden = true; }, 4000);
  }

  // ring plays a ringtone (WebAudio: two 425 Hz bursts every 3 s) and
  // marks the tab's title while an incoming call rings.
  ring(on) {
    if (!on) {
      if (this.ringer) { clearInterval(this.ringer.timer); this.ringer.ctx.close().catch(() => {}); this.ringer = null; document.title = this.title; }
      return;
    }
    if (this.ringer) return;
    this.title = document.title;
    document.title = '📞 Incoming call · Parley';
    try {
      const ctx = new AudioContext();
      const burst = () => {
        for (const at of [0, 0.5]) {
          const o = ctx.createOscillator(), g = ctx.createGain();
          o.frequency.value = 425;
          g.gain.value = 0.08;
          o.connect(g).connect(ctx.destination);
          o.start(ctx.currentTime + at);
          o.stop(ctx.currentTime + at + 0.35);
        }
      };
      burst();
      this.ringer = { ctx, timer: setInterval(burst, 3000) };
    } catch (e) { this.ringer = { ctx: { close: () => Promise.resolve() }, timer: 0 }; }
  }

  toggle(id, on, onLabel, offLabel) {
    const b = $(id);
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
    b.setAttribute('aria-label', on ? onLabel : offLabel);
  }

  media(c, final) {
    const remote = $('remote-video'), local = $('local-video');
    const want = final ? null : c.remote;
    if (remote.srcObject !== want) remote.srcObject = want;
    const mine = final || c.media !== 'video' ? null : c.local;
    if (local.srcObject !== mine) local.srcObject = mine;
    local.hidden = !mine || c.cameraOff;
  }

  // timer shows the running duration while the call is connected.
  timer(c, final) {
    const d = $('call-duration');
    clearInterval(this.tick);
    if (final) { d.textContent = c.connectedAt ? duration(c.duration || 0) : ''; return; }
    if (!c.connectedAt) { d.textContent = ''; return; }
    const show = () => { d.textContent = duration(Math.floor((Date.now() - c.connectedAt) / 1000)); };
    show();
    this.tick = setInterval(show, 1000);
  }
}
