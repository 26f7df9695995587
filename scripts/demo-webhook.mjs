// `npm run demo:webhook`: sends one signed user.created to the local hub for the demo
// tenant that `npm start` created, the way a host app would (Standard Webhooks).
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const demo = JSON.parse(readFileSync(join(root, ".wrangler", "usersync-demo.json"), "utf8"));
const hub = `http://127.0.0.1:${process.env.PORT ?? 8787}`;
const body = JSON.stringify({
  type: "user.created",
  timestamp: new Date().toISOString(),
  data: { id: "u_ada", email: "Ada@example.com", firstName: "Ada", lastName: "Lovelace", role: "mentee", department: "Analytics" },
});
const id = `msg_${randomUUID()}`;
const ts = String(Math.floor(Date.now() / 1000));
const key = Buffer.from(demo.webhookSecret.slice("whsec_".length), "base64");
const signature = `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
const res = await fetch(`${hub}/webhooks/${demo.tenantId}`, {
  method: "POST",
  headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": signature },
  body,
});
console.log(res.status, await res.text());
