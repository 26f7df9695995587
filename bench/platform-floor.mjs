// What `wrangler dev` on this machine gives a Worker with no application code, measured
// the way bench/webhook-ingest.mjs measures the hub: the floor under issue #5's targets.
// Each route adds one step an ingest must take before its 202 (bench/floor/worker.js).
// Usage: npm run bench:floor [-- --concurrency 16 --requests 4000]
import { parseArgs } from "node:util";
import { load, report, startHub } from "./lib.mjs";

const { values: args } = parseArgs({
  options: {
    concurrency: { type: "string", default: "16" },
    requests: { type: "string", default: "4000" },
    port: { type: "string", default: "8796" },
  },
});
const concurrency = Number(args.concurrency);
const total = Number(args.requests);

const server = await startHub({ port: Number(args.port), config: "bench/floor/wrangler.toml", inspectorPort: 9328 });
try {
  const steps = [
    ["none", 200],
    ["limit", 202],
    ["d1", 202],
    ["ingest", 202],
  ];
  await load({ concurrency, total: 300, expectStatus: [200], makeRequest: () => fetch(`${server.url}/none`) });
  const results = {};
  for (const [route, status] of steps) {
    results[route] = await load({ concurrency, total, expectStatus: [status], makeRequest: () => fetch(`${server.url}/${route}`) });
  }
  const ratio = (route) => Math.round((results[route].rps / results.none.rps) * 100) / 100;
  report({
    command: `npm run bench:floor -- --concurrency ${concurrency} --requests ${total}`,
    concurrency,
    results,
    ratioToNone: { limit: ratio("limit"), d1: ratio("d1"), ingest: ratio("ingest") },
  });
} finally {
  await server.stop();
}
