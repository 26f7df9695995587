// Webhook ingest throughput and latency against `wrangler dev` over loopback, next to a
// bare route (GET /livez, no I/O) on the same server in the same run.
// Usage: npm run bench:ingest [-- --concurrency 16 --requests 4000]
// Target (issue #5): ingest >= 50% of the bare route's requests/s, p99 < 50 ms at concurrency 16.
import { createHmac } from "node:crypto";
import { parseArgs } from "node:util";
import { load, report, startHub } from "./lib.mjs";

const { values: args } = parseArgs({
  options: {
    concurrency: { type: "string", default: "16" },
    requests: { type: "string", default: "4000" },
    users: { type: "string", default: "2000" },
    tenants: { type: "string", default: "8" },
    port: { type: "string", default: "8797" },
  },
});
const concurrency = Number(args.concurrency);
const total = Number(args.requests);
const userCount = Number(args.users);
const tenantCount = Number(args.tenants);

function sign(secret, id, ts, body) {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
}

const hub = await startHub({ port: Number(args.port) });
try {
  // Several tenants, as a hub sees them (each has its own ingest limit), each with one
  // active integration so that every accepted event is also fanned out to the queue.
  const tenants = [];
  const now = Date.now();
  for (let t = 0; t < tenantCount; t++) {
    const res = await fetch(`${hub.url}/v1/tenants`, {
      method: "POST",
      headers: { authorization: `Bearer ${hub.secrets.OPERATOR_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: `Bench ${t}` }),
    });
    const created = await res.json();
    tenants.push({ id: created.tenant.id, secret: created.webhookSecret });
  }
  hub.sql(
    `INSERT INTO integrations (id, tenant_id, provider, name, status, pending_actions, config, created_at, updated_at) VALUES ${tenants
      .map((t, i) => `('int_bench${i}', '${t.id}', 'zoho-crm', 'bench', 'active', '[]', '{}', ${now}, ${now})`)
      .join(", ")}`,
  );

  const warm = { concurrency, total: 300, expectStatus: [200] };
  await load({ ...warm, makeRequest: () => fetch(`${hub.url}/livez`) });

  const bare = await load({ concurrency, total, expectStatus: [200], makeRequest: () => fetch(`${hub.url}/livez`) });

  const webhook = await load({
    concurrency,
    total,
    expectStatus: [202],
    makeRequest: (i) => {
      const u = i % userCount;
      const tenant = tenants[i % tenants.length];
      const body = JSON.stringify({
        type: i < userCount ? "user.created" : "user.updated",
        timestamp: new Date().toISOString(),
        data: { id: `u_${u}`, email: `person${u}@example.com`, firstName: "Person", lastName: `Number ${u}`, department: `Dept ${u % 7}` },
      });
      const id = `msg_bench_${i}`;
      const ts = String(Math.floor(Date.now() / 1000));
      return fetch(`${hub.url}/webhooks/${tenant.id}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sign(tenant.secret, id, ts, body) },
      });
    },
  });

  const stored = hub.sql("SELECT count(*) AS n FROM webhook_events")[0].results[0].n;
  const ratio = webhook.rps / bare.rps;
  const result = {
    command: `npm run bench:ingest -- --concurrency ${concurrency} --requests ${total} --tenants ${tenantCount}`,
    concurrency,
    tenants: tenantCount,
    bare,
    webhook,
    webhookEventsStored: stored,
    throughputRatio: Math.round(ratio * 100) / 100,
    targets: { ratioAtLeast: 0.5, p99BelowMs: 50, met: ratio >= 0.5 && webhook.p99 < 50 && webhook.failures === 0 },
  };
  report(result);
} finally {
  await hub.stop();
}
