import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { createDb } from "../../src/db/client";
import type { JobMessage, RunPageJob } from "../../src/jobs/messages";
import { handleImportPage } from "../../src/runs/import";
import { createTenant } from "../helpers";

/** D1 whose next `failures` batches fail as a passing storage fault does (the rest is the real D1). */
function flakyD1(real: D1Database, failures: number): D1Database {
  let left = failures;
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (left-- > 0) throw new Error("D1_ERROR: Network connection lost.");
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The hub's own fetch with the queues replaced by recorders: nothing runs on its own. */
async function request(path: string, init: RequestInit) {
  const sent: JobMessage[] = [];
  const queue = {
    send: async (body: JobMessage) => void sent.push(body),
    sendBatch: async (messages: Iterable<MessageSendRequest<JobMessage>>) => void sent.push(...[...messages].map((m) => m.body)),
  } as unknown as Queue<JobMessage>;
  const ctx = createExecutionContext();
  const res = await createApp().request(path, init, { ...env, JOBS: queue, PUSH_BATCHES: queue }, ctx);
  await waitOnExecutionContext(ctx);
  return { res, sent };
}

describe("#29.3 a storage failure never moves an import on", () => {
  it("when D1 fails for a moment the slice is tried again whole: every planned row is imported, none counted failed", async () => {
    // (A row the failed attempt wrote counts as unchanged when the slice is tried again.)
    const t = await createTenant();
    const csv = ["Email,First Name", ...Array.from({ length: 40 }, (_, i) => `f${i}@fault.example,F${i}`)].join("\n");
    const auth = { authorization: `Bearer ${t.apiKey}` };
    const uploaded = await request("/v1/imports", { method: "POST", headers: { ...auth, "content-type": "text/csv" }, body: csv });
    const { id } = (await uploaded.res.json()) as { id: string };
    const applied = await request(`/v1/imports/${id}/apply`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ mapping: { Email: "email", "First Name": "firstName" } }) });
    expect(applied.res.status).toBe(202);
    const job = applied.sent.find((m): m is RunPageJob => m.kind === "run")!;
    // The first three batches fail: the bulk write, its group fallback, and one person's own write.
    const db = createDb(flakyD1(env.DB, 3));
    let failures = 0;
    for (let page = job.page; failures < 10; ) {
      try {
        await handleImportPage(db, env, { ...job, page });
      } catch {
        failures++;
        continue;
      }
      const run = (await env.DB.prepare("SELECT status, page, created, unchanged, failed FROM runs WHERE id = ?").bind(job.runId).first<{ status: string; page: number; created: number; unchanged: number; failed: number }>())!;
      if (run.status !== "running") {
        expect(run).toMatchObject({ status: "done", failed: 0 });
        expect(run.created + run.unchanged).toBe(40);
        break;
      }
      page = run.page;
    }
    expect(failures).toBeGreaterThan(0);
    const people = await env.DB.prepare("SELECT count(*) AS n FROM directory_users WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(people!.n).toBe(40);
  });
});
