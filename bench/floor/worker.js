// Each route adds one of the steps that issue #5 requires of an ingest before its 202,
// with none of the hub's code: no routing library, no validation, no signature.
//   /none     answers at once
//   /limit    only the Rate Limiting binding (one call per delivery, as the issue asks)
//   /d1       only one D1 batch: the person's upsert and the delivery record
//   /ingest   all three: the Rate Limiting binding, the D1 batch, then one queue send
export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/none" || pathname === "/healthz") return new Response("ok");
    const id = crypto.randomUUID();
    const person = String(Math.floor(Math.random() * 2000));
    if (pathname === "/limit" || pathname === "/ingest") {
      const { success } = await env.LIMITER.limit({ key: "tenant" });
      if (!success) return new Response("limited", { status: 429 });
      if (pathname === "/limit") return new Response("accepted", { status: 202 });
    }
    if (pathname === "/d1" || pathname === "/ingest") {
      await env.DB.batch([
        env.DB.prepare("INSERT INTO people (id, body, version) VALUES (?1, ?2, 1) ON CONFLICT(id) DO UPDATE SET body = excluded.body, version = people.version + 1").bind(person, id),
        env.DB.prepare("INSERT INTO deliveries (id, person_id) VALUES (?1, ?2)").bind(id, person),
      ]);
      if (pathname === "/ingest") await env.JOBS.send({ person });
      return new Response("accepted", { status: 202 });
    }
    return new Response("not found", { status: 404 });
  },
  async queue(batch) {
    batch.ackAll();
  },
};
