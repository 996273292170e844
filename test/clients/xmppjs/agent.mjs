// An xmpp.js client driven line by line from stdin, for the scenarios where
// xmpp.js and slixmpp talk to each other (the Go harness sequences both).
//
// usage: node agent.mjs SERVICE USERNAME RESOURCE   (password in $PASSWORD)
// SERVICE is xmpp://HOST:PORT (STARTTLS) or ws://HOST:PORT/xmpp-websocket.
//
// Commands (JSON lines on stdin):
//   {"cmd":"send","xml":"<message .../>"}      xmpp.send(parsed element)
//   {"cmd":"iq","xml":"<iq .../>"}             iqCaller.request:
//        {"event":"iq_result"|"iq_error",...}
//   {"cmd":"quit"}                             xmpp.stop(), exit 0
// Events (JSON lines on stdout): ready, stanza (every incoming stanza),
// error, offline, fail.
import readline from "node:readline";
import { deadline, emit, env, fail, newClient, parse, summarize } from "./common.mjs";

const [service, username, resource] = process.argv.slice(2);
if (!service || !username || !resource) fail("usage: agent.mjs SERVICE USERNAME RESOURCE");

const xmpp = newClient({ service, username, password: env("PASSWORD"), resource });
xmpp.on("error", (err) => emit("error", { condition: err.condition || null, message: String(err.message || err) }));
xmpp.on("offline", () => emit("offline"));
xmpp.on("stanza", (el) => emit("stanza", summarize(el)));

const timer = deadline(20000, `login of ${username} at ${service}`);
try {
  const jid = await xmpp.start();
  clearTimeout(timer);
  emit("ready", { jid: jid.toString() });
} catch (err) {
  fail(`login failed: ${err.condition || ""} ${err.message || err}`);
}

async function handle(cmd) {
  switch (cmd.cmd) {
    case "send":
      await xmpp.send(parse(cmd.xml));
      emit("sent", { tag: cmd.tag });
      return true;
    case "iq":
      try {
        const res = await xmpp.iqCaller.request(parse(cmd.xml), 10000);
        emit("iq_result", { tag: cmd.tag, ...summarize(res) });
      } catch (err) {
        emit("iq_error", { tag: cmd.tag, condition: err.condition || null, message: String(err.message || err) });
      }
      return true;
    case "quit":
      await xmpp.stop();
      return false;
    default:
      fail(`unknown command ${JSON.stringify(cmd)}`);
      return false;
  }
}

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    fail(`bad command line ${line}`);
    break;
  }
  if (!(await handle(cmd))) break;
}
try { await xmpp.stop(); } catch {}
process.exit(process.exitCode || 0);
