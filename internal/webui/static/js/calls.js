// 1:1 voice and video calls: Parley's call signalling (urn:parley:call:0,
// docs/calls.md) over the account's connection, and the media with
// WebRTC, peer to peer or through the server's TURN relay, whose
// short-lived credentials come from XEP-0215. One call at a time; the
// screen (callui.js) renders `call` and calls the methods here.
import { El } from './codec.js';

export const NS_CALL = 'urn:parley:call:0';
const EXTDISCO = 'urn:xmpp:extdisco:2';
// localStorage key: '1' relays every call through the server's TURN relay
// (iceTransportPolicy 'relay': the other party never learns this
// device's IP address, WhatsApp's "protect IP address in calls").
export const RELAY_KEY = 'parley.relayCalls';
const FINAL = ['ended', 'busy', 'declined', 'missed', 'failed'];

const bare = (jid) => (jid || '').split('/')[0];

// iceServer turns one XEP-0215 <service/> into an RTCIceServer (null for
// what WebRTC cannot use).
export function iceServer(s) {
  const type = s.attr('type'), port = s.attr('port');
  let host = s.attr('host');
  if (!['stun', 'turn', 'turns'].includes(type) || !host) return null;
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  let url = `${type}:${host}${port ? ':' + port : ''}`;
  if (type !== 'stun' && s.attr('transport')) url += `?transport=${s.attr('transport')}`;
  const out = { urls: url };
  if (s.attr('username')) { out.username = s.attr('username'); out.credential = s.attr('password'); }
  return out;
}

// parseCandidate reads a relayed candidate: a JSON RTCIceCandidateInit
// (what Parley's clients send) or a bare a=candidate line.
export function parseCandidate(text) {
  const t = (text || '').trim();
  if (t.startsWith('{')) return JSON.parse(t);
  return { candidate: t.replace(/^a=/, ''), sdpMid: '0', sdpMLineIndex: 0 };
}

export class Calls {
  // client: the Client (iq, send, jid); cb: onChange(call), onEntry(peer, entry)
  constructor(client, cb) {
    this.client = client;
    this.cb = cb;
    this.call = null; // the current call, or the last one once it is over
  }

  active() { return this.call && !FINAL.includes(this.call.state) ? this.call : null; }

  set(state, note = '') {
    const c = this.call;
    c.state = state;
    c.note = note;
    this.cb.onChange(c);
  }

  request(payload) { return this.client.iq('set', this.client.domain, payload); }

  // iceConfig asks the server for its relays with fresh credentials.
  async iceConfig() {
    let servers = [];
    try {
      const r = await this.client.iq('get', this.client.domain, new El('services', EXTDISCO));
      const q = r.child('services', EXTDISCO);
      servers = (q ? q.children : []).filter((s) => s.name === 'service').map(iceServer).filter(Boolean);
    } catch (e) { /* no relay: direct connections only */ }
    const relay = localStorage.getItem(RELAY_KEY) === '1';
    return { iceServers: servers, iceTransportPolicy: relay ? 'relay' : 'all' };
  }

  // newCall prepares the call record; the media starts in connect().
  newCall(o) {
    return Object.assign({ id: '', device: '', state: 'calling', note: '', muted: false, cameraOff: false,
      pc: null, local: null, remote: null, connectedAt: 0, outCands: [], inCands: [], canSend: false }, o);
  }

  // start calls a contact (bare JID) with audio or video.
  async start(peer, media) {
    if (this.active()) return;
    const c = this.call = this.newCall({ peer, media, out: true });
    this.cb.onChange(c);
    try {
      await this.connect(c);
      const offer = await c.pc.createOffer();
      await c.pc.setLocalDescription(offer);
      if (this.call !== c || FINAL.includes(c.state)) return;
      const r = await this.request(new El('offer', NS_CALL, { to: peer, media }, [new El('sdp', NS_CALL, null, null, c.pc.localDescription.sdp)]));
      const o = r.child('offer', NS_CALL);
      c.id = o.attr('id');
      if (o.attr('state') === 'busy') { this.finish(c, 'busy', 'Busy'); return; }
      if (this.call !== c || FINAL.includes(c.state)) { this.request(new El('terminate', NS_CALL, { id: c.id, reason: 'hangup' })).catch(() => {}); return; }
      c.canSend = true;
      this.flushOut(c);
    } catch (e) {
      this.finish(c, 'failed', e.condition ? `Cannot call: ${e.condition}` : e.message);
    }
  }

  // connect gets the camera and microphone and makes the peer connection.
  async connect(c) {
    const cfg = await this.iceConfig();
    c.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: c.media === 'video' });
    if (this.call !== c || FINAL.includes(c.state)) { stopStream(c.local); throw new Error('call over'); }
    const pc = c.pc = new RTCPeerConnection(cfg);
    c.remote = new MediaStream();
    for (const t of c.local.getTracks()) pc.addTrack(t, c.local);
    pc.ontrack = (ev) => { c.remote.addTrack(ev.track); this.cb.onChange(c); };
    pc.onicecandidate = (ev) => { if (ev.candidate && ev.candidate.candidate) { c.outCands.push(JSON.stringify(ev.candidate.toJSON())); this.flushOut(c); } };
    pc.onconnectionstatechange = () => this.pcState(c);
    this.cb.onChange(c);
  }

  pcState(c) {
    if (this.call !== c || FINAL.includes(c.state)) return;
    const s = c.pc.connectionState;
    if (s === 'connected' && c.state !== 'connected') {
      c.connectedAt = Date.now();
      this.set('connected');
    } else if (s === 'failed') {
      this.hangup('Connection failed');
    }
  }

  // flushOut sends local ICE candidates once the server lets this device
  // send them (the caller once it has the call's id, the callee once its
  // answer is taken).
  flushOut(c) {
    if (!c.canSend || this.call !== c) return;
    for (const cand of c.outCands.splice(0)) {
      this.request(new El('candidate', NS_CALL, { id: c.id }, null, cand)).catch(() => { /* the call is over */ });
    }
  }

  async flushIn(c) {
    if (!c.pc || !c.pc.remoteDescription) return;
    for (const cand of c.inCands.splice(0)) {
      try { await c.pc.addIceCandidate(parseCandidate(cand)); } catch (e) { console.warn('ICE candidate', e.message); }
    }
  }

  // accept answers the ringing incoming call on this device.
  async accept() {
    const c = this.active();
    if (!c || c.out || c.state !== 'ringing') return;
    this.set('connecting');
    try {
      await this.connect(c);
      await c.pc.setRemoteDescription({ type: 'offer', sdp: c.offerSDP });
      await this.flushIn(c);
      const answer = await c.pc.createAnswer();
      await c.pc.setLocalDescription(answer);
      if (this.call !== c || FINAL.includes(c.state)) return;
      await this.request(new El('accept', NS_CALL, { id: c.id }, [new El('sdp', NS_CALL, null, null, c.pc.localDescription.sdp)]));
      c.canSend = true;
      this.flushOut(c);
    } catch (e) {
      if (this.call === c && !FINAL.includes(c.state)) this.finish(c, 'ended', e.condition === 'conflict' ? 'Answered on another device' : `Cannot answer: ${e.condition || e.message}`);
    }
  }

  decline() {
    const c = this.active();
    if (!c || c.out || c.state !== 'ringing') return;
    this.request(new El('reject', NS_CALL, { id: c.id, reason: 'decline' })).catch(() => {});
    this.finish(c, 'declined', 'You declined');
  }

  // hangup ends the call: cancels a ringing outgoing one (the callee gets
  // a missed call), or ends an answered one.
  hangup(note = '') {
    const c = this.active();
    if (!c) return;
    if (!c.out && c.state === 'ringing') { this.decline(); return; }
    if (c.id) this.request(new El('terminate', NS_CALL, { id: c.id, reason: 'hangup' })).catch(() => {});
    const cancelled = c.out && !c.answered;
    this.finish(c, 'ended', note || (cancelled ? 'Cancelled' : 'Call ended'), cancelled ? 'cancelled' : '');
  }

  toggleMute() {
    const c = this.active();
    if (!c) return;
    c.muted = !c.muted;
    if (c.local) for (const t of c.local.getAudioTracks()) t.enabled = !c.muted;
    this.cb.onChange(c);
  }

  toggleCamera() {
    const c = this.active();
    if (!c || c.media !== 'video') return;
    c.cameraOff = !c.cameraOff;
    if (c.local) for (const t of c.local.getVideoTracks()) t.enabled = !c.cameraOff;
    this.cb.onChange(c);
  }

  // event handles one call element the server sent, from the other party.
  event(from, q) {
    if (q.name === 'offer') { this.incoming(from, q); return; }
    const c = this.active();
    if (!c || q.attr('id') !== c.id || bare(from) !== c.peer) return;
    switch (q.name) {
      case 'ringing': if (c.state === 'calling') this.set('ringing'); break;
      case 'accept': this.answered(c, q); break;
      case 'reject': this.finish(c, q.attr('reason') === 'busy' ? 'busy' : 'declined', q.attr('reason') === 'busy' ? 'Busy' : 'Declined'); break;
      case 'candidate': c.inCands.push(q.text); this.flushIn(c); break;
      case 'terminate': this.terminated(c, q.attr('reason')); break;
      default:
    }
  }

  incoming(from, q) {
    const id = q.attr('id');
    if (!id) return;
    if (this.active()) {
      if (this.call.id !== id) this.request(new El('reject', NS_CALL, { id, reason: 'busy' })).catch(() => {});
      return;
    }
    const c = this.call = this.newCall({ id, peer: bare(from), device: from, media: q.attr('media') === 'video' ? 'video' : 'audio',
      out: false, state: 'ringing', offerSDP: q.childText('sdp', NS_CALL) });
    this.cb.onChange(c);
    this.request(new El('ringing', NS_CALL, { id })).catch(() => {});
  }

  async answered(c, q) {
    if (!c.out || c.answered) return;
    c.answered = true;
    c.device = q.attr('device');
    this.set('connecting');
    try {
      await c.pc.setRemoteDescription({ type: 'answer', sdp: q.childText('sdp', NS_CALL) });
      await this.flushIn(c);
    } catch (e) {
      this.hangup(`Cannot connect: ${e.message}`);
    }
  }

  terminated(c, reason) {
    const notes = {
      timeout: c.out ? ['missed', 'No answer'] : ['missed', 'Missed call'],
      cancelled: ['missed', 'Missed call'],
      'answered-elsewhere': ['ended', 'Answered on another device'],
      'rejected-elsewhere': ['declined', 'Declined on another device'],
      gone: ['ended', 'Connection lost'],
    };
    const [state, note] = notes[reason] || ['ended', 'Call ended'];
    this.finish(c, state, note, reason);
  }

  // disconnected: the server ends this device's call when it goes.
  disconnected() {
    const c = this.active();
    if (c) this.finish(c, 'ended', 'Connection lost', 'gone');
  }

  // finish ends the call locally and writes its entry in the chat.
  finish(c, state, note = '', reason = '') {
    if (FINAL.includes(c.state)) return;
    const secs = c.connectedAt ? Math.round((Date.now() - c.connectedAt) / 1000) : 0;
    c.duration = secs;
    if (c.pc) c.pc.close();
    stopStream(c.local);
    this.set(state, note);
    // The server writes the callee's missed call in the chat (a message
    // with the call's id, which the chat dedupes): none here for it.
    const missedHere = !c.out && state === 'missed';
    const elsewhere = reason === 'answered-elsewhere' || reason === 'rejected-elsewhere';
    if (!missedHere && !elsewhere) {
      this.cb.onEntry(c.peer, { id: c.id || `call-${Date.now()}`, out: c.out, time: Date.now(),
        call: { media: c.media, result: c.connectedAt ? 'answered' : (reason === 'cancelled' ? 'cancelled' : state), duration: secs } });
    }
  }

  // stats sums the inbound RTP bytes per kind and names the selected
  // candidate pair's local type (for the call screen's details and tests).
  async stats() {
    const c = this.call;
    if (!c || !c.pc) return null;
    const out = { connectionState: c.pc.connectionState, audio: 0, video: 0, localType: '', remoteType: '' };
    const report = await c.pc.getStats();
    let pair = null;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp') out[s.kind] += s.bytesReceived || 0;
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId);
    });
    if (pair) {
      out.localType = (report.get(pair.localCandidateId) || {}).candidateType || '';
      out.remoteType = (report.get(pair.remoteCandidateId) || {}).candidateType || '';
    }
    return out;
  }
}

function stopStream(s) { if (s) for (const t of s.getTracks()) t.stop(); }

// missedOf reads a missed-call message's <missed/> into a chat entry's call.
export function missedOf(m) {
  const x = m.child('missed', NS_CALL);
  return x ? { media: x.attr('media') === 'video' ? 'video' : 'audio', result: 'missed', duration: 0 } : null;
}
