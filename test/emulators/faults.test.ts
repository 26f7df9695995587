import { beforeEach, describe, expect, it } from "vitest";
import { calls, emu, EMU, freshCrmSession, setFaults, zoho } from "./helpers";

let api: string;
let token: string;

beforeEach(async () => {
  ({ api, token } = await freshCrmSession());
});

const insert = (email: string) => zoho(api, token, "/crm/v8/Contacts", { method: "POST", json: { data: [{ Last_Name: "Fault", Email: email }] } });
const countByEmail = async (email: string) => ((await (await emu(`/_emulator/zoho/us/crm/Contacts?email=${email}`)).json()) as { count: number }).count;

describe("emulator faults", () => {
  it("a rate limit answers Zoho's 429 TOO_MANY_REQUESTS past the limit, per service", async () => {
    await setFaults({ rateLimit: { limit: 3, windowSeconds: 60 }, retryAfterSeconds: 7, services: ["zoho-crm"] });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await zoho(api, token, "/crm/v8/org"));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
    expect(await answers[3]!.json()).toEqual({ code: "TOO_MANY_REQUESTS", details: { retry_after: 7 }, message: "Too many requests. Please try again later.", status: "error" });
    // Other services are not limited.
    expect((await emu(`${EMU}/zoho/us/accounts/oauth/serverinfo`)).status).toBe(200);
    expect((await calls()).calls["fault 429 zoho-crm"]).toBe(2);
  });

  it("Graph throttling answers 429 with Retry-After", async () => {
    await setFaults({ rateLimit: { limit: 0, windowSeconds: 60 }, retryAfterSeconds: 3, services: ["microsoft-graph"] });
    const res = await emu(`${EMU}/microsoft/graph/v1.0/users/delta`, { headers: { authorization: "Bearer x" } });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(await res.json()).toEqual({ error: { code: "TooManyRequests", message: "Please retry again later.", innerError: { code: "429" } } });
  });

  it("a concurrency limit answers 429 to requests beyond it", async () => {
    await setFaults({ concurrency: 2, latencyMs: 150, services: ["zoho-crm"] });
    const statuses = (await Promise.all(Array.from({ length: 6 }, () => zoho(api, token, "/crm/v8/org")))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBe(2);
    expect(statuses.filter((s) => s === 429).length).toBe(4);
  });

  it("a failure rate answers 5xx and changes nothing", async () => {
    await setFaults({ failureRate: 1, services: ["zoho-crm"] });
    const res = await insert("fail@hub.example");
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe("INTERNAL_ERROR");
    expect(await countByEmail("fail@hub.example")).toBe(0);
  });

  it("a partial failure rate is reproducible with a seed", async () => {
    const run = async () => {
      await setFaults({ failureRate: 0.5, seed: 7, services: ["zoho-crm"] });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await zoho(api, token, "/crm/v8/org")).status);
      return out;
    };
    const first = await run();
    const second = await run();
    expect(first).toEqual(second);
    expect(first.filter((s) => s === 500).length).toBeGreaterThan(3);
    expect(first.filter((s) => s === 200).length).toBeGreaterThan(3);
  });

  it("added latency delays every answer", async () => {
    await setFaults({ latencyMs: 200 });
    const started = Date.now();
    expect((await zoho(api, token, "/crm/v8/org")).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it("apply then fail (500): the write is stored, the answer is a 500", async () => {
    await setFaults({ applyThenFail: { rate: 1, mode: "500" }, services: ["zoho-crm"] });
    const res = await insert("applied@hub.example");
    expect(res.status).toBe(500);
    expect(await countByEmail("applied@hub.example")).toBe(1);
    // Reads are not affected.
    expect((await zoho(api, token, "/crm/v8/org")).status).toBe(200);
  });

  it("apply then fail (drop): the write is stored, the connection breaks off", async () => {
    await setFaults({ applyThenFail: { rate: 1, mode: "drop" }, services: ["zoho-crm"] });
    const outcome = await insert("dropped@hub.example").then(
      (res) => res.json().then(() => "parsed", () => "broken"),
      () => "broken",
    );
    expect(outcome).toBe("broken");
    expect(await countByEmail("dropped@hub.example")).toBe(1);
  });

  it("faults are switched off again", async () => {
    await setFaults({ failureRate: 1 });
    expect((await zoho(api, token, "/crm/v8/org")).status).toBe(500);
    await emu("/_emulator/faults", { method: "DELETE" });
    expect((await zoho(api, token, "/crm/v8/org")).status).toBe(200);
  });

  it("counts calls per endpoint", async () => {
    await emu("/_emulator/calls", { method: "DELETE" });
    await insert("count1@hub.example");
    await insert("count2@hub.example");
    await zoho(api, token, "/crm/v8/Contacts/search?email=count1@hub.example");
    const { calls: counted, total } = await calls();
    expect(counted["POST /zoho/us/api/crm/v8/:module"]).toBe(2);
    expect(counted["GET /zoho/us/api/crm/v8/:module/search"]).toBe(1);
    expect(total).toBe(3);
  });
});
