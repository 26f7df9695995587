// `npm run demo:webhook`: sends one signed user.created to the local hub for the demo
// tenant that `npm start` created, the way a host app would (Standard Webhooks). Each run
// changes Ada's job title, so a second run shows an update reaching Zoho.
import { createHmac, randomUUID } from "node:crypto";
import { readDemo } from "./local.mjs";

const demo = readDemo();
const body = JSON.stringify({
  type: "user.created",
  timestamp: new Date().toISOString(),
  data: {
    id: "u_ada",
    email: "Ada@example.com",
    firstName: "Ada",
    lastName: "Lovelace",
    role: "mentee",
    department: "Analytics",
    designation: `Analyst (sent ${new Date().toISOString().slice(11, 19)})`,
  },
});
const id = `msg_${randomUUID()}`;
const ts = String(Math.floor(Date.now() / 1000));
const key = Buffer.from(demo.webhookSecret.slice("whsec_".length), "base64");
const signature = `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
const res = await fetch(`${demo.hubUrl}/webhooks/${demo.tenantId}`, {
  method: "POST",
  headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": signature },
  body,
});
console.log(res.status, await res.text());
if (res.status === 202) console.log(`Ada is in the directory: curl -s ${demo.hubUrl}/v1/directory/users/u_ada -H 'authorization: Bearer ${demo.apiKey}'`);
if (!res.ok) process.exitCode = 1;
