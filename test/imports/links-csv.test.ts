import { describe, expect, it } from "vitest";
import { csvCell } from "../../src/lib/csv-out";
import { call } from "../helpers";
import { connectedCrm, linkIn, send } from "../sync/helpers";

describe("GET /v1/integrations/{id}/links.csv", () => {
  it("lists the links as CSV and neutralises cells a spreadsheet would read as a formula", async () => {
    const { t, integrationId } = await connectedCrm();
    await send(t, "user.created", { id: "u_formula", email: "=HYPERLINK@csv.example", firstName: '=HYPERLINK("http://evil.example","x")', lastName: "Formula" });
    await send(t, "user.created", { id: "u_plain", email: "plain@csv.example", lastName: "Plain" });
    await linkIn(integrationId, "u_formula", ["synced"]);
    await linkIn(integrationId, "u_plain", ["synced"]);
    const res = await call(`/v1/integrations/${integrationId}/links.csv`, { token: t.apiKey });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const lines = (await res.text()).trimEnd().split("\r\n");
    // #29.12: API.md's columns, firstName and lastName included (manual kept last).
    expect(lines[0]).toBe("userId,email,firstName,lastName,status,remoteId,remoteUrl,lastSyncedAt,lastError,manual");
    expect(lines.find((l) => l.startsWith("u_formula,"))).toMatch(/^u_formula,'=HYPERLINK@csv\.example,"'=HYPERLINK\(""http:\/\/evil\.example"",""x""\)",Formula,synced,\d+,http/);
    expect(lines.find((l) => l.startsWith("u_plain,"))).toMatch(/^u_plain,plain@csv\.example,,Plain,synced,/);
  });

  it("quotes and neutralises every dangerous start", () => {
    expect(["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "a,b", 'say "hi"', "line\nbreak", "safe"].map(csvCell)).toEqual([
      "'=1+1",
      "'+1",
      "'-1",
      "'@SUM(A1)",
      "'\tx",
      "\"'\rx\"",
      '"a,b"',
      '"say ""hi"""',
      '"line\nbreak"',
      "safe",
    ]);
  });
});
