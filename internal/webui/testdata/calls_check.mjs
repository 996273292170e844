// Checks calls.js's and callui.js's pure helpers (TestJSCallHelpers): the
// XEP-0215 services as WebRTC iceServers, relayed ICE candidates, the
// call entries' text.
import { El } from '../static/js/codec.js';
import { iceServer, parseCandidate, missedOf, NS_CALL } from '../static/js/calls.js';
import { callText, duration } from '../static/js/callui.js';

const ED = 'urn:xmpp:extdisco:2';
let passed = 0, failed = 0;
const check = (name, got, want) => {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g === w) passed++; else { failed++; console.log(`FAIL ${name}: got ${g}, want ${w}`); }
};
const svc = (attrs) => new El('service', ED, attrs);

check('turn udp', iceServer(svc({ type: 'turn', host: '127.0.0.1', port: '3478', transport: 'udp', username: '1764612000:alice@example.org', password: 'c2VjcmV0' })),
  { urls: 'turn:127.0.0.1:3478?transport=udp', username: '1764612000:alice@example.org', credential: 'c2VjcmV0' });
check('turns tcp on IPv6', iceServer(svc({ type: 'turns', host: '2001:db8::1', port: '5349', transport: 'tcp', username: 'u', password: 'p' })),
  { urls: 'turns:[2001:db8::1]:5349?transport=tcp', username: 'u', credential: 'p' });
check('stun without credential', iceServer(svc({ type: 'stun', host: 'turn.example.org', port: '3478', transport: 'udp' })), { urls: 'stun:turn.example.org:3478' });
check('not a relay', iceServer(svc({ type: 'ftp', host: 'x', port: '21' })), null);
check('no host', iceServer(svc({ type: 'turn', port: '3478' })), null);

const init = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 50000 typ relay raddr 0.0.0.0 rport 0', sdpMid: '1', sdpMLineIndex: 1, usernameFragment: 'abcd' };
check('JSON candidate', parseCandidate(JSON.stringify(init)), init);
check('a= line', parseCandidate('a=candidate:1 1 udp 1 192.0.2.1 5 typ host'), { candidate: 'candidate:1 1 udp 1 192.0.2.1 5 typ host', sdpMid: '0', sdpMLineIndex: 0 });

const missed = new El('message', 'jabber:client', { type: 'chat' }, [new El('missed', NS_CALL, { id: 'c1', media: 'video', at: '2026-12-01T10:00:00Z' })]);
check('missed call', missedOf(missed), { media: 'video', result: 'missed', duration: 0 });
check('not a missed call', missedOf(new El('message', 'jabber:client')), null);

check('answered', callText({ media: 'video', result: 'answered', duration: 83 }, true), 'Video call · 1:23');
check('long', duration(3725), '1:02:05');
check('missed, callee', callText({ media: 'audio', result: 'missed' }, false), 'Missed voice call');
check('missed, caller', callText({ media: 'audio', result: 'missed' }, true), 'Voice call · No answer');
check('declined', callText({ media: 'audio', result: 'declined' }, false), 'Voice call · Declined');
check('busy', callText({ media: 'video', result: 'busy' }, true), 'Video call · Busy');
check('failed', callText({ media: 'audio', result: 'failed' }, true), 'Voice call · Not connected');
console.log(`calls: ${passed} passed, ${failed} failed`);
if (failed) process.exit(1);
