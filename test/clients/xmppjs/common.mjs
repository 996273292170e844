// Shared helpers for Parley's xmpp.js scenario scripts (driven by
// internal/server/realclients_test.go). Each script prints JSON lines
// ({"event": ...}) of what it observed; the Go harness decides pass/fail.
import { createRequire } from "node:module";
import { client } from "@xmpp/client";

const require = createRequire(import.meta.url);
export const parse = require("@xmpp/xml/lib/parse");

export const TIMEOUT_MS = Number(process.env.SCENARIO_TIMEOUT || "20") * 1000;

export function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + "\n");
}

export function fail(msg) {
  emit("fail", { error: msg });
  process.stderr.write("FAIL: " + msg + "\n");
  process.exitCode = 1;
  // let stdout drain, then leave whatever is still pending
  setTimeout(() => process.exit(1), 50);
}

export function summarize(el) {
  const out = { kind: el.name };
  for (const a of ["from", "to", "type", "id"]) {
    if (el.attrs[a] !== undefined) out[a] = el.attrs[a];
  }
  const body = el.getChild("body");
  if (body) out.body = body.text();
  const status = el.getChild("status");
  if (status) out.status = status.text();
  out.children = el.children
    .filter((c) => typeof c !== "string")
    .map((c) => `${c.attrs.xmlns || ""} ${c.name}`);
  out.xml = el.toString();
  return out;
}

// newClient makes an xmpp.js client that never reconnects on its own and
// reports the SASL mechanism it picked through onMechanism.
export function newClient({ service, username, password, resource, onMechanism }) {
  const xmpp = client({
    service,
    domain: process.env.XMPP_DOMAIN || "localhost",
    resource,
    credentials: async (auth, mechanism) => {
      if (onMechanism) onMechanism(mechanism);
      return auth({ username, password });
    },
  });
  xmpp.reconnect.stop();
  return xmpp;
}

export function deadline(ms, what) {
  return setTimeout(() => fail(`timed out after ${ms / 1000}s: ${what}`), ms).unref();
}

export function env(name) {
  const v = process.env[name];
  if (v === undefined) fail(`environment variable ${name} is not set`);
  return v;
}
