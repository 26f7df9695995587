import { Hono } from "hono";
import { control } from "./control";
import { faultsAndCounts } from "./faults";
import { graph } from "./microsoft/graph";
import { identity } from "./microsoft/identity";
import { accounts } from "./zoho/accounts";
import { connect } from "./zoho/connect";
import { hostApp } from "./host-app";
import { receiver } from "./receiver";
import { s3, s3Control } from "./s3";
import { crm } from "./zoho/crm";
import { people } from "./zoho/people";
import { esc } from "./html";
import { world, type ZohoDc } from "./state";

/**
 * The provider emulators, one Worker, by path prefix:
 * - `/zoho/{dc}/accounts` Zoho Accounts (dc: `us`, `eu`), `/zoho/{dc}/api` the API domain
 *   (CRM v8), `/zoho/{dc}/crm` the CRM web host (record URLs), `/zoho/{dc}/connect`,
 *   `/zoho/{dc}/people`;
 * - `/microsoft/login` the identity platform, `/microsoft/graph` Microsoft Graph;
 * - `/s3/{bucket}` an S3-compatible store: a tenant's own pickup location;
 * - `/_emulator` the control API;
 * - `/host-app/sign-in` the host app's sign-in, `/receivers/{name}` an `after` handler's receiver.
 */
const app = new Hono();

app.use("*", faultsAndCounts);
app.route("/_emulator/s3", s3Control);
app.route("/_emulator", control);
app.route("/s3", s3);
app.route("/zoho/:dc/accounts", accounts);
app.route("/zoho/:dc/api", crm);
app.route("/zoho/:dc/connect", connect);
app.route("/zoho/:dc/people", people);
app.route("/microsoft/login", identity);
app.route("/", hostApp);
app.route("/", receiver);
app.route("/microsoft/graph", graph);

/** The CRM web host: what a person opening a record URL sees; 404 when the organisation or the record is not there. */
app.get("/zoho/:dc/crm/crm/:org/tab/:module/:id", (c) => {
  const { dc, org, module, id } = c.req.param();
  const crmOrg = world.zoho.orgs[dc as ZohoDc];
  const record = crmOrg && `org${crmOrg.id}` === org ? crmOrg.modules.get(module)?.get(id) : undefined;
  if (!record) return c.html(`<!doctype html><title>Zoho CRM (emulator)</title><h1>No such record</h1><p>${esc(module)} ${esc(id)} is not in organisation ${esc(org)}.</p>`, 404);
  const name = [record.First_Name, record.Last_Name].filter((p) => typeof p === "string" && p !== "").join(" ");
  return c.html(`<!doctype html><title>Zoho CRM (emulator)</title><h1>${esc(module)} ${esc(id)}</h1><p>${esc(name)} ${esc(String(record.Email ?? ""))}</p><p>Organisation ${esc(org)}</p>`);
});

app.get("/", (c) =>
  c.json({
    emulators: ["zoho-accounts", "zoho-crm", "zoho-connect", "zoho-people", "microsoft-login", "microsoft-graph"],
    control: "/_emulator/state",
  }),
);

app.notFound((c) => c.json({ error: "not found in the emulator", path: c.req.path }, 404));

export default app;
