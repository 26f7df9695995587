import { describe, expect, it } from "vitest";
import { beforeHandler, outOfScope, type SourceUser } from "../../src/sync/mapping";
import { call } from "../helpers";
import { createIntegration } from "../integrations/helpers";
import { createTenant } from "../helpers";

/**
 * #29.9 A tenant's regular expression runs in the shared consumers beside every other
 * tenant's messages: it must run in linear time. `^(a+)+$` against forty a's and a "!"
 * backtracks 2^40 times in a backtracking engine (hours); in linear time it is instant.
 */
const CATASTROPHIC = "^(a+)+$";
const person = (email: string): SourceUser => ({ id: "u_re", email, attributes: {}, department: `${"a".repeat(40)}!` });

describe("#29.9 tenant patterns run in linear time", () => {
  it("a catastrophic pattern in a scope rule answers at once", () => {
    expect(outOfScope(person("re@x.example"), { include: [{ field: "department", matches: CATASTROPHIC }] })).toBe("not included by scope");
    expect(outOfScope(person("re@x.example"), { exclude: [{ field: "department", matches: "^a+!$" }] })).toContain("excluded by scope");
  });

  it("a catastrophic pattern in a before expression answers at once, and $match, $replace, $split still work", async () => {
    const integration = { id: "int_re", name: "Regex", provider: "zoho-crm" };
    const skipped = await beforeHandler(`$contains(user.department, /${CATASTROPHIC}/) ? user : null`, person("re@x.example"), integration);
    expect(skipped).toMatchObject({ skipped: true, failed: false });
    const changed = await beforeHandler(
      `$merge([user, { "lastName": $replace(user.email, /^([a-z]+)\\.([a-z]+)@.*$/i, "$2"), "nickname": $split("a1b22c", /[0-9]+/)[2], "designation": $match("x-12-y", /[0-9]+/).match }])`,
      person("Ada.Lovelace@x.example"),
      integration,
    );
    expect(changed).toMatchObject({ user: { lastName: "Lovelace", nickname: "c", designation: "12" } });
  });

  it("a pattern that needs backtracking (a backreference, a lookahead) is refused when saved, naming it", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const res = await call(`/v1/integrations/${i.id}`, {
      method: "PATCH",
      token: t.apiKey,
      json: { config: { scope: { include: [{ field: "department", matches: "^(a)\\1$" }] }, handlers: { before: { expr: "$contains(user.email, /^(?=a)/) ? user : null" } } } },
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: { path: string; message: string }[] };
    expect(body.errors.map((e) => e.path).sort()).toEqual(["config.handlers.before.expr", "config.scope.include.0.matches"]);
  });
});
