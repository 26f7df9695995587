import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ZOHOCRMSDK from "@zohocrm/typescript-sdk-8.0";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

// Zoho's official TypeScript SDK, unmodified, pointed at the emulator with its own
// Environment class: if the SDK can do its record calls, the emulator answers as Zoho does.

const EMU = inject("emulatorUrl");
const CLIENT = { id: "1000.EMULATORCLIENT", secret: "emulator-zoho-secret", redirect: "http://hub.test/oauth/callback" };
const SCOPES = ["ZohoCRM.modules.ALL", "ZohoCRM.users.ALL", "ZohoCRM.org.ALL", "ZohoCRM.settings.ALL", "ZohoCRM.coql.READ"];
const { Record: R, Users: U, Org: O, Coql: Q } = ZOHOCRMSDK;
let dir: string;

/** A grant token, as Zoho's consent page gives it (auto-approved by the emulator). */
async function grantToken(): Promise<string> {
  const params = new URLSearchParams({ client_id: CLIENT.id, response_type: "code", redirect_uri: CLIENT.redirect, scope: SCOPES.join(","), access_type: "offline", prompt: "consent", auto_approve: "1", login_hint: "admin@acme.example" });
  const res = await fetch(`${EMU}/zoho/us/accounts/oauth/v2/auth?${params}`, { redirect: "manual" });
  return new URL(res.headers.get("location")!).searchParams.get("code")!;
}

/** Initializes the SDK as its README does, with the emulator's US data centre as a custom Environment. */
async function initialize(token: InstanceType<typeof ZOHOCRMSDK.OAuthToken>, storeFile: string) {
  const environment = ZOHOCRMSDK.DataCenter.setEnvironment(`${EMU}/zoho/us/api`, `${EMU}/zoho/us/accounts/oauth/v2/token`, `${EMU}/zoho/us/api`);
  const logger = new ZOHOCRMSDK.LogBuilder().level(ZOHOCRMSDK.Levels.OFF).filePath(join(dir, "sdk.log")).build();
  await (await new ZOHOCRMSDK.InitializeBuilder())
    .environment(environment)
    .token(token)
    .store(new ZOHOCRMSDK.FileStore(join(dir, storeFile)))
    .logger(logger)
    .resourcePath(dir)
    .initialize();
}

/** How many access tokens the emulator has minted from a refresh token. */
async function refreshesOf(refreshToken: string): Promise<number> {
  const tokens = (await (await fetch(`${EMU}/_emulator/tokens`)).json()) as { zoho: { refreshTokens: { token: string; minted: number }[] } };
  return tokens.zoho.refreshTokens.find((t) => t.token === refreshToken)!.minted;
}

beforeAll(async () => {
  await fetch(`${EMU}/_emulator/reset`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  dir = mkdtempSync(join(tmpdir(), "zoho-sdk-"));
  await initialize(new ZOHOCRMSDK.OAuthBuilder().clientId(CLIENT.id).clientSecret(CLIENT.secret).grantToken(await grantToken()).redirectURL(CLIENT.redirect).build(), "tokens.txt");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The answer's object, or the API exception it carries as an error. */
function ok<T>(response: { getStatusCode(): number; getObject(): unknown } | null, what: string): T {
  if (!response) throw new Error(`${what}: no answer (204)`);
  const body = response.getObject() as { getCode?: () => { getValue(): string }; getMessage?: () => { getValue(): string } | null; getDetails?: () => unknown };
  if (body && body.constructor.name === "APIException") {
    throw new Error(`${what}: ${response.getStatusCode()} ${body.getCode!().getValue()} ${body.getMessage!()?.getValue()} ${JSON.stringify(body.getDetails!())}`);
  }
  return body as T;
}

type Rec = InstanceType<typeof R.Record>;
type Success = InstanceType<typeof R.SuccessResponse>;

function contact(fields: Record<string, string>): Rec {
  const rec = new R.Record();
  for (const [k, v] of Object.entries(fields)) rec.addKeyValue(k, v);
  return rec;
}

function body(records: Rec[], duplicateCheck?: string[]) {
  const wrapper = new R.BodyWrapper();
  wrapper.setData(records);
  if (duplicateCheck) wrapper.setDuplicateCheckFields(duplicateCheck);
  return wrapper;
}

/** The per-record outcomes of a write, checked to be successes; answers them. */
function successes(response: Awaited<ReturnType<InstanceType<typeof R.RecordOperations>["createRecords"]>>, what: string): Success[] {
  const outcomes = ok<InstanceType<typeof R.ActionWrapper>>(response, what).getData();
  for (const o of outcomes) if (!(o instanceof R.SuccessResponse)) throw new Error(`${what}: ${JSON.stringify(o)}`);
  return outcomes as Success[];
}

describe("Zoho's TypeScript SDK against the emulator, unmodified", () => {
  const contacts = () => new R.RecordOperations("Contacts");

  it("exchanges the grant token, then gets records (after reading the module's fields)", async () => {
    const params = new ZOHOCRMSDK.ParameterMap();
    await params.add(R.GetRecordsParam.FIELDS, "Email,Last_Name");
    await params.add(R.GetRecordsParam.PER_PAGE, 5);
    const response = await contacts().getRecords(params);
    const records = ok<InstanceType<typeof R.ResponseWrapper>>(response, "getRecords").getData();
    expect(response.getStatusCode()).toBe(200);
    expect(records.length).toBe(5);
    expect(records[0]!.getKeyValue("Email")).toMatch(/@/);
    const calls = (await (await fetch(`${EMU}/_emulator/calls`)).json()) as { calls: Record<string, number> };
    expect(Object.keys(calls.calls).some((k) => k.includes("/settings/fields"))).toBe(true);
    expect(Object.keys(calls.calls).some((k) => k.includes("/oauth/v2/token"))).toBe(true);
  });

  it("creates, upserts with duplicate_check_fields, and finds the record by e-mail search and COQL", async () => {
    const [created] = successes(await contacts().createRecords(body([contact({ Email: "sdk@sdk.example", Last_Name: "Created", First_Name: "Sam" })])), "createRecords");
    expect(created!.getCode().getValue()).toBe("SUCCESS");
    const id = String(created!.getDetails().get("id"));
    expect(id).toMatch(/^\d+$/);

    const [upserted] = successes(await contacts().upsertRecords(body([contact({ Email: "sdk@sdk.example", Last_Name: "Upserted" })], ["Email"])), "upsertRecords");
    expect(upserted!.getAction().getValue()).toBe("update");
    expect(String(upserted!.getDetails().get("id"))).toBe(id);
    const [inserted] = successes(await contacts().upsertRecords(body([contact({ Email: "sdk2@sdk.example", Last_Name: "New" })], ["Email"])), "upsertRecords");
    expect(inserted!.getAction().getValue()).toBe("insert");

    const search = new ZOHOCRMSDK.ParameterMap();
    await search.add(R.SearchRecordsParam.EMAIL, "sdk@sdk.example");
    const found = ok<InstanceType<typeof R.ResponseWrapper>>(await contacts().searchRecords(search), "searchRecords").getData();
    expect(found.map((r) => String(r.getId()))).toEqual([id]);
    expect(found[0]!.getKeyValue("Last_Name")).toBe("Upserted");

    const query = new Q.BodyWrapper();
    query.setSelectQuery("select Email, Last_Name from Contacts where Email like '%@sdk.example' order by Email limit 10");
    const rows = ok<InstanceType<typeof Q.ResponseWrapper>>(await new Q.CoqlOperations().getRecords(query), "coql").getData();
    expect(rows.map((r) => r.getKeyValue("Email"))).toEqual(["sdk2@sdk.example", "sdk@sdk.example"]);
  });

  it("reads the current user, the users and the organisation", async () => {
    const current = new ZOHOCRMSDK.ParameterMap();
    await current.add(U.GetUsersParam.TYPE, "CurrentUser");
    const me = ok<InstanceType<typeof U.ResponseWrapper>>(await new U.UsersOperations().getUsers(current), "current user").getUsers();
    expect(me.map((u) => u.getEmail())).toEqual(["admin@acme.example"]);

    const all = new ZOHOCRMSDK.ParameterMap();
    await all.add(U.GetUsersParam.TYPE, "AllUsers");
    await all.add(U.GetUsersParam.PER_PAGE, 200);
    const users = ok<InstanceType<typeof U.ResponseWrapper>>(await new U.UsersOperations().getUsers(all), "users").getUsers();
    expect(users.length).toBe(60);

    const org = ok<InstanceType<typeof O.ResponseWrapper>>(await new O.OrgOperations().getOrganization(), "org").getOrg();
    expect(org[0]!.getCompanyName()).toBe("Acme Inc.");
  });

  it("refreshes an access token about to expire with the refresh token it stored, and carries on", async () => {
    // Access tokens that live 6 s: the SDK refreshes any token with under 5 s left.
    await fetch(`${EMU}/_emulator/settings`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ accessTokenSeconds: 6 }) });
    try {
      await initialize(new ZOHOCRMSDK.OAuthBuilder().clientId(CLIENT.id).clientSecret(CLIENT.secret).grantToken(await grantToken()).redirectURL(CLIENT.redirect).build(), "short.txt");
      const params = new ZOHOCRMSDK.ParameterMap();
      await params.add(R.GetRecordsParam.PER_PAGE, 1);
      await params.add(R.GetRecordsParam.FIELDS, "Email");
      expect(ok<InstanceType<typeof R.ResponseWrapper>>(await contacts().getRecords(params), "getRecords").getData().length).toBe(1);
      const [stored] = (await new ZOHOCRMSDK.FileStore(join(dir, "short.txt")).getTokens())! as InstanceType<typeof ZOHOCRMSDK.OAuthToken>[];
      const refreshToken = stored!.getRefreshToken()!;
      expect(await refreshesOf(refreshToken)).toBe(1);
      await new Promise((r) => setTimeout(r, 1500));
      expect(ok<InstanceType<typeof R.ResponseWrapper>>(await contacts().getRecords(params), "getRecords after refresh").getData().length).toBe(1);
      expect(await refreshesOf(refreshToken)).toBe(2);
    } finally {
      await fetch(`${EMU}/_emulator/settings`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ accessTokenSeconds: 3600 }) });
    }
  });
});
