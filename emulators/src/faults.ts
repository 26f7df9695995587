import { createMiddleware } from "hono/factory";
import { world } from "./state";

/** The service a path belongs to; faults and call counts are kept per service. */
export function serviceOf(path: string): string | null {
  const m = /^\/(zoho)\/[^/]+\/(accounts|api|connect|people)\b|^\/(microsoft)\/(login|graph)\b/.exec(path);
  if (!m) return null;
  if (m[1]) return `zoho-${m[2] === "api" ? "crm" : m[2]}`;
  return `microsoft-${m[4]}`;
}

function throttled(service: string, retryAfter: number): Response {
  if (service.startsWith("microsoft")) {
    return Response.json(
      { error: { code: "TooManyRequests", message: "Please retry again later.", innerError: { code: "429" } } },
      { status: 429, headers: { "retry-after": String(retryAfter) } },
    );
  }
  // Zoho CRM v8: TOO_MANY_REQUESTS with details.retry_after (the OAS sample; units unconfirmed: seconds here).
  return Response.json(
    { code: "TOO_MANY_REQUESTS", details: { retry_after: retryAfter }, message: "Too many requests. Please try again later.", status: "error" },
    { status: 429, headers: { "retry-after": String(retryAfter) } },
  );
}

function failed(service: string): Response {
  if (service.startsWith("microsoft")) {
    return Response.json({ error: { code: "serviceNotAvailable", message: "Service unavailable (emulated fault)." } }, { status: 503 });
  }
  return Response.json({ code: "INTERNAL_ERROR", details: {}, message: "Internal Server Error (emulated fault)", status: "error" }, { status: 500 });
}

/** A response whose body breaks off: the client sees a dropped connection. */
function dropped(): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.error(new Error("connection dropped (emulated fault)"));
      },
    }),
    { status: 200, headers: { "content-type": "application/json" } },
  );
}

const WRITE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Counts every provider call and applies the switchable faults: latency, rate and
 * concurrency limits (429), a failure rate (5xx with no effect), and "apply then fail"
 * (the write is stored, then the answer is a 500 or a dropped connection).
 */
export const faultsAndCounts = createMiddleware(async (c, next) => {
  const service = serviceOf(c.req.path);
  if (!service) return next();
  const f = world.faults;
  const applies = (f.services.length === 0 || f.services.includes(service)) && (f.methods.length === 0 || f.methods.includes(c.req.method));

  if (applies && f.rateLimit) {
    const now = Date.now();
    let win = world.windows.get(service);
    if (!win || now - win.start >= f.rateLimit.windowSeconds * 1000) world.windows.set(service, (win = { start: now, count: 0 }));
    if (++win.count > f.rateLimit.limit) return count(c, service, 429, throttled(service, f.retryAfterSeconds));
  }
  // A request is in flight from arrival (added latency included) until its answer.
  const inFlight = world.inFlight.get(service) ?? 0;
  if (applies && f.concurrency !== null && inFlight >= f.concurrency) {
    return count(c, service, 429, throttled(service, f.retryAfterSeconds));
  }
  world.inFlight.set(service, inFlight + 1);
  try {
    if (applies && f.latencyMs > 0) await new Promise((r) => setTimeout(r, f.latencyMs));
    if (applies && f.failureRate > 0 && world.random() < f.failureRate) return count(c, service, 500, failed(service));
    await next();
  } finally {
    world.inFlight.set(service, (world.inFlight.get(service) ?? 1) - 1);
  }
  recordCall(c.req.method, c.req.routePath, c.req.path);
  if (applies && WRITE.has(c.req.method) && f.applyThenFail.rate > 0 && c.res.status < 300 && world.random() < f.applyThenFail.rate) {
    c.res = undefined;
    c.res = f.applyThenFail.mode === "drop" ? dropped() : failed(service);
  }
});

/** A faulted answer: counted under `fault <status> <service>` as well as its path. */
function count(c: { req: { method: string; path: string } }, service: string, status: number, res: Response): Response {
  const key = `fault ${status} ${service}`;
  world.calls.set(key, (world.calls.get(key) ?? 0) + 1);
  recordCall(c.req.method, null, c.req.path);
  return res;
}

/** Call counts per endpoint, as `METHOD /path/pattern` with the data centre filled in. */
function recordCall(method: string, routePath: string | null, path: string): void {
  const dc = /^\/zoho\/([^/]+)\//.exec(path)?.[1];
  const pattern = routePath && routePath !== "/*" ? routePath.replace(":dc", dc ?? ":dc") : path;
  const key = `${method} ${pattern}`;
  world.calls.set(key, (world.calls.get(key) ?? 0) + 1);
}
