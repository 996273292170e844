// Scenario 2: xmpp.js logs in over TCP+STARTTLS (xmpp://HOST:PORT) or over
// WebSocket (ws://HOST:PORT/xmpp-websocket).
//
// usage: node login.mjs SERVICE USERNAME [RESOURCE]   (password in $PASSWORD)
// Prints {"event":"online","jid":...,"mechanism":...,"secure":...} or
// {"event":"error","condition":...,"message":...}.
import { deadline, emit, env, fail, newClient } from "./common.mjs";

const [service, username, resource = "xmppjs"] = process.argv.slice(2);
if (!service || !username) fail("usage: login.mjs SERVICE USERNAME [RESOURCE]");
const timer = deadline(20000, `login of ${username} at ${service}`);

let mechanism = null;
const xmpp = newClient({
  service, username, password: env("PASSWORD"), resource,
  onMechanism: (m) => { mechanism = m; },
});
xmpp.on("error", () => {}); // reported through start()'s rejection

try {
  const jid = await xmpp.start();
  const sock = xmpp.socket && xmpp.socket.socket;
  emit("online", {
    jid: jid.toString(), mechanism,
    transport: service.split(":")[0],
    tls: sock && typeof sock.getProtocol === "function" ? sock.getProtocol() : null,
  });
  await xmpp.stop();
} catch (err) {
  emit("error", { condition: err.condition || null, message: String(err.message || err), mechanism });
  try { await xmpp.stop(); } catch {}
}
clearTimeout(timer);
process.exit(process.exitCode || 0);
