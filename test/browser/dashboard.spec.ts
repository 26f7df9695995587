import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { createHmac, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import dotenv from "dotenv";

/**
 * The admin's journeys through the dashboard in Debian's Chromium, against `npm start`
 * (the hub and the emulators over real HTTP). Every page visited is scanned with axe
 * (no serious or critical violation) and photographed at 1280 and 390 px wide into
 * test-results/screens/.
 */
const demo = JSON.parse(process.env.USERSYNC_DEMO ?? "{}") as { tenantId: string; apiKey: string; webhookSecret: string; ssoSecret: string; eventSecret: string; hubUrl: string; emulatorUrl: string };
const root = fileURLToPath(new URL("../..", import.meta.url));
const screens = join(root, "test-results", "screens");
mkdirSync(screens, { recursive: true });

async function signInLink(redirect?: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ tenant: demo.tenantId, email: "admin@demo.example", name: "Demo admin", permissions: ["manage_integrations", "manage_users"], jti: randomUUID(), ...(redirect ? { redirect } : {}) })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("demo-admin")
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .sign(new TextEncoder().encode(demo.ssoSecret));
  return `/auth/sso?token=${token}`;
}

async function api(path: string, init: { method?: string; json?: unknown } = {}) {
  const res = await fetch(`${demo.hubUrl}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${demo.apiKey}`, ...(init.json !== undefined ? { "content-type": "application/json" } : {}) },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
  return res;
}

/** A signed webhook, as the host app sends it (Standard Webhooks). */
async function webhook(type: string, data: Record<string, unknown>) {
  const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
  const id = `msg_${randomUUID()}`;
  const ts = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from(demo.webhookSecret.slice("whsec_".length), "base64");
  const signature = `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
  const res = await fetch(`${demo.hubUrl}/webhooks/${demo.tenantId}`, { method: "POST", headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": signature }, body });
  expect(res.status).toBe(202);
}

const seen = new Set<string>();

/** Axe finds nothing serious or critical; the page is photographed at both widths (once per name). */
async function look(page: Page, name: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`), `axe on ${name}`).toEqual([]);
  if (seen.has(name)) return;
  seen.add(name);
  await page.screenshot({ path: join(screens, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(screens, `${name}-390.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** A session cookie whose sign-in is 11 minutes old, as the hub would have set it then. */
async function staleSessionCookie(): Promise<string> {
  const secret = dotenv.parse(readFileSync(join(root, ".dev.vars"))).SESSION_SECRET!;
  return new SignJWT({ tid: demo.tenantId, email: "admin@demo.example", name: "Demo admin", permissions: ["manage_integrations", "manage_users"], authTime: Date.now() - 11 * 60_000 })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("demo-admin")
    .setAudience("usersync:session")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(secret));
}

test.describe.configure({ mode: "serial" });

test("an admin signs in, connects Zoho CRM, edits the mapping, watches people sync, links, resyncs, approves a held run and deletes", async ({ page, context }) => {
  test.setTimeout(300_000);
  const suffix = randomUUID().slice(0, 6);
  const people = ["ada", "bob", "cyd", "dee", "eve", "fay", "gus"].map((n) => ({ id: `u_${n}_${suffix}`, email: `${n}.${suffix}@demo.example`, firstName: n[0]!.toUpperCase() + n.slice(1), lastName: "Tester" }));

  await test.step("sign in from the SSO link", async () => {
    await page.goto(await signInLink());
    await expect(page).toHaveURL(/\/dashboard$/);
    await expect(page.getByRole("heading", { name: "Integrations", level: 1 })).toBeVisible();
    await look(page, "integrations");
  });

  let integrationUrl = "";
  await test.step("enable Zoho CRM and connect it on the emulator's consent page", async () => {
    await page.getByRole("button", { name: "Enable Zoho CRM" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toContainText("Zoho CRM");
    await look(page, "integration-pending");
    await page.locator("#connect").click();
    await page.locator("#allow").click();
    await expect(page).toHaveURL(/\/dashboard\/integrations\/int_/);
    await expect(page.locator("#status")).toHaveText("active");
    integrationUrl = new URL(page.url()).pathname;
    await look(page, "integration");
  });
  const integrationId = integrationUrl.split("/").pop()!;

  await test.step("a mapping with a bad expression is refused beside its row; a good one is saved", async () => {
    const form = page.locator("#mapping-form");
    await form.locator("#mapping-7-to").fill("Description");
    await form.locator("#mapping-7-kind").selectOption("expr");
    await form.locator("#mapping-7-value").fill("firstName &");
    await form.getByRole("button", { name: "Save the mapping" }).click();
    await expect(page.locator("#save-refused")).toBeVisible();
    await expect(page.locator("#mapping-7-error")).toContainText("Not a valid JSONata expression");
    await look(page, "integration-mapping-error");
    const config = (await (await api(`/v1/integrations/${integrationId}`)).json()) as { config: { mapping: { to: string }[] } };
    expect(config.config.mapping.map((m) => m.to)).not.toContain("Description");
    await form.locator("#mapping-7-value").fill("'Mentor: ' & firstName");
    await form.getByRole("button", { name: "Save the mapping" }).click();
    await expect(page.getByRole("status")).toContainText("Saved");
    const saved = (await (await api(`/v1/integrations/${integrationId}`)).json()) as { config: { mapping: { to: string; expr?: string }[] } };
    expect(saved.config.mapping.find((m) => m.to === "Description")).toMatchObject({ expr: "'Mentor: ' & firstName" });
  });

  await test.step("people sent by webhook appear with links that open their Zoho records", async () => {
    for (const p of people) await webhook("user.created", p);
    await page.goto(`/dashboard/users?q=${suffix}`);
    await expect(async () => {
      await page.reload();
      await expect(page.locator(".record-link")).toHaveCount(people.length, { timeout: 1000 });
    }).toPass({ timeout: 60_000 });
    await look(page, "users");
    const link = page.locator(`tr[data-user="${people[0]!.id}"] .record-link`);
    await expect(link).toHaveText("Open in Zoho CRM");
    const [record] = await Promise.all([context.waitForEvent("page"), link.click()]);
    await record.waitForLoadState();
    await expect(record.locator("body")).toContainText(people[0]!.email);
    await record.close();
    await page.getByRole("link", { name: people[0]!.firstName + " Tester" }).click();
    await expect(page.getByRole("heading", { level: 2, name: "Recent activity" })).toBeVisible();
    await look(page, "user");
  });

  await test.step("an unmatched person is linked from the dropdown", async () => {
    const bob = people[1]!;
    const before = (await (await api(`/v1/directory/users/${bob.id}`)).json()) as { links: { remoteId: string }[] };
    const remoteId = before.links[0]!.remoteId;
    expect((await api(`/v1/integrations/${integrationId}/links/${bob.id}`, { method: "DELETE" })).status).toBe(204);
    await page.goto(`${integrationUrl}/unmatched`);
    await expect(page.locator(`[data-unmatched-user="${bob.id}"]`)).toBeVisible();
    await look(page, "unmatched");
    await page.locator(`[data-unmatched-user="${bob.id}"] input[name=remoteId]`).fill(remoteId);
    await page.locator(`[data-unmatched-user="${bob.id}"]`).getByRole("button", { name: "Link" }).click();
    await expect(page.getByRole("status")).toContainText(`Linked ${bob.id}`);
    const after = (await (await api(`/v1/directory/users/${bob.id}`)).json()) as { links: { remoteId: string }[] };
    expect(after.links[0]!.remoteId).toBe(remoteId);
  });

  await test.step("Resync users: the run's page follows it to the end and shows its counts", async () => {
    await page.goto(integrationUrl);
    await page.locator("#resync").click();
    await expect(page).toHaveURL(/\/dashboard\/runs\/run_/);
    await expect(page.locator("#run-status")).toHaveText("done", { timeout: 60_000 });
    // The page shows the run's own counts. (Whether Bob, linked by hand just before, is
    // still due when the run starts depends on whether his push job ran first: the queue
    // takes a lone job at once, so the counts may all be 0.)
    const runId = /\/dashboard\/runs\/(run_[\w]+)/.exec(page.url())![1]!;
    const run = (await (await api(`/v1/runs/${runId}`)).json()) as { status: string; counts: Record<string, number> };
    expect(run.status).toBe("done");
    for (const [k, n] of Object.entries(run.counts)) await expect(page.locator(`[data-count="${k}"]`)).toHaveText(String(n));
    await look(page, "run");
    await page.goto("/dashboard/runs");
    await look(page, "runs");
    await page.goto(`${integrationUrl}/logs`);
    await expect(page.locator("table")).toBeVisible();
    await look(page, "logs");
  });

  await test.step("a held run is approved after signing in again", async () => {
    // Deletions past the hourly allowance (5, or 20 % of the linked) are held for an admin.
    expect((await api(`/v1/integrations/${integrationId}`, { method: "PATCH", json: { config: { onDelete: "delete" } } })).status).toBe(200);
    for (const p of people.slice(1)) await webhook("user.deleted", { id: p.id, email: p.email });
    let heldId = "";
    await expect(async () => {
      const runs = (await (await api(`/v1/runs?integrationId=${integrationId}&status=held`)).json()) as { data: { id: string }[] };
      heldId = runs.data[0]?.id ?? "";
      expect(heldId).not.toBe("");
    }).toPass({ timeout: 60_000 });
    await context.addCookies([{ name: "usersync_session", value: await staleSessionCookie(), url: demo.hubUrl }]);
    await page.goto(`/dashboard/runs/${heldId}`);
    await expect(page.locator("#run-status")).toHaveText("held");
    await expect(page.locator("#run-detail")).toContainText("mass-change guard");
    await look(page, "run-held");
    await page.locator("#approve").click();
    // The stale sign-in went to the app's sign-in page (the emulator's), which signed the admin in again and came back.
    await expect(page).toHaveURL(new RegExp(`/dashboard/runs/${heldId}$`));
    await page.locator("#approve").click();
    await expect(page.locator("#run-status")).toHaveText("done", { timeout: 60_000 });
  });

  await test.step("the integration is deleted after confirming what happens to the records", async () => {
    await page.goto(integrationUrl);
    await page.getByRole("link", { name: "Delete…" }).click();
    await expect(page.getByText("leaves the records in Zoho CRM as they are")).toBeVisible();
    await look(page, "delete");
    await page.locator("#confirm-delete").click();
    await expect(page).toHaveURL(/\/dashboard\?deleted=1$/);
    await expect(page.getByRole("status")).toContainText("deleted");
    expect((await api(`/v1/integrations/${integrationId}`)).status).toBe(404);
  });

  await test.step("a page that is not there says so, with a way back", async () => {
    const res = await page.goto("/dashboard/runs/run_nothere");
    expect(res?.status()).toBe(404);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Not found");
    await look(page, "not-found");
  });
});

test("pages without a session: signed out, and what the person who consented sees, then 'This wasn't me'", async ({ browser }) => {
  const created = await api("/v1/integrations", { method: "POST", json: { provider: "zoho-crm", name: "CRM for a partner" } });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const { authorizeUrl } = (await (await api(`/v1/integrations/${id}/connect`, { method: "POST" })).json()) as { authorizeUrl: string };
  // Another browser: the person who consents has no session of this tenant.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/dashboard");
  await expect(page.getByRole("heading", { name: "You are signed out" })).toBeVisible();
  await look(page, "signed-out");
  await page.goto(authorizeUrl);
  await page.locator("#allow").click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Zoho CRM is connected");
  await look(page, "connected");
  await page.locator("#disown button").click();
  await expect(page.locator("#disowned")).toContainText("disconnected");
  await look(page, "disowned");
  const after = (await (await api(`/v1/integrations/${id}`)).json()) as { pendingActions: string[] };
  expect(after.pendingActions).toContain("connect");
  await context.close();
});

test("an admin uploads a CSV file, maps its columns, previews it with its row errors, applies it and watches the run", async ({ page }) => {
  const tag = randomUUID().slice(0, 6);
  await page.goto(await signInLink("/dashboard/imports"));
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Import people from a CSV file");
  await look(page, "imports");
  const csv = ["E-mail;First Name;Surname;Cost Centre", `ann.${tag}@csv.example;Ann;"Lee; Jr.";CC1`, `ben.${tag}@csv.example;Ben;Ode;CC2`, "not-an-email;Bad;Row;CC3"].join("\r\n");
  await page.locator("#file").setInputFiles({ name: "people.csv", mimeType: "text/csv", buffer: Buffer.from(`\uFEFF${csv}\r\n`) });
  // The page's script streams the file as it is (text/csv), rather than as a form the hub would hold whole.
  const [upload] = await Promise.all([page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith("/dashboard/imports")), page.getByRole("button", { name: "Upload" }).click()]);
  expect(upload.headers()["content-type"]).toBe("text/csv");
  await expect(page).toHaveURL(/\/dashboard\/imports\/imp_/);
  // The suggestions are preselected.
  await expect(page.locator("#map-0")).toHaveValue("email");
  await expect(page.locator("#map-2")).toHaveValue("lastName");
  await expect(page.locator("#map-3")).toHaveValue("attributes.Cost_Centre");
  await page.locator("#preview").click();
  await expect(page.locator("#preview-counts")).toContainText("2 to create");
  await expect(page.locator("#preview-errors")).toContainText("not-an-email is not an e-mail address.");
  await look(page, "import-preview");
  await page.locator("#apply").click();
  await expect(page).toHaveURL(/\/dashboard\/runs\/run_/);
  await expect(page.locator("#run-status")).toHaveText("done", { timeout: 60_000 });
  await expect(page.locator('[data-count="created"]')).toHaveText("2");
  await expect(page.locator('[data-count="failed"]')).toHaveText("1");
  await look(page, "import-run");
  const ann = (await (await api(`/v1/directory/users/${encodeURIComponent(`ann.${tag}@csv.example`)}`)).json()) as { lastName: string; attributes: Record<string, string> };
  expect(ann).toMatchObject({ lastName: "Lee; Jr.", attributes: { Cost_Centre: "CC1" } });
});

test("an admin writes a before handler, tries it on a person, sets the after handler and sends a test event", async ({ page }) => {
  const tag = randomUUID().slice(0, 6);
  const person = { id: `u_hb_${tag}`, email: `hanna.${tag}@demo.example`, firstName: "Hanna", lastName: "Berg", workLocation: "Berlin" };
  await webhook("user.created", person);
  const created = await api("/v1/integrations", { method: "POST", json: { provider: "zoho-crm", name: `Handlers ${tag}` } });
  const { id } = (await created.json()) as { id: string };
  const receiver = randomUUID();
  expect((await fetch(`${demo.emulatorUrl}/_emulator/receivers/${receiver}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ secret: demo.eventSecret }) })).status).toBe(200);
  await page.goto(await signInLink(`/dashboard/integrations/${id}#handlers`));
  await expect(page.getByRole("heading", { level: 2, name: "Handlers" })).toBeVisible();
  await look(page, "integration-handlers");

  // A bad expression is refused beside the box, and nothing is saved.
  await page.locator("#before-expr").fill('user ~> | $ | { "email": ');
  await page.getByRole("button", { name: "Save the handlers" }).click();
  await expect(page.locator("#before-expr-errors")).toContainText("Not a valid JSONata expression");
  expect(((await (await api(`/v1/integrations/${id}`)).json()) as { config: { handlers: unknown } }).config.handlers).toEqual({});

  // Tried on a person: what goes in and what comes out, side by side; nothing saved yet.
  const expr = 'user ~> | $ | { "email": $substringBefore(email, "@") & "@" & (workLocation = "Berlin" ? "acme.de" : "acme.com") } |';
  await page.locator("#before-expr").fill(expr);
  await page.locator("#try-user").fill(person.id);
  await page.getByRole("button", { name: "Try it" }).click();
  await expect(page.locator("#try-input")).toContainText(person.email);
  await expect(page.locator("#try-output")).toContainText(`hanna.${tag}@acme.de`);
  await look(page, "integration-handlers-try");

  // Saved with the after handler; the test event reaches the receiver, signed.
  await page.locator("#after-url").fill(`${demo.emulatorUrl}/receivers/${receiver}`);
  await page.getByLabel(/user\.synced/).check();
  await page.getByRole("button", { name: "Save the handlers" }).click();
  await expect(page.getByRole("status").first()).toContainText("Saved");
  const saved = (await (await api(`/v1/integrations/${id}`)).json()) as { config: { handlers: { before?: { expr: string }; after?: { url: string; events: string[] } } } };
  expect(saved.config.handlers).toEqual({ before: { expr }, after: { url: `${demo.emulatorUrl}/receivers/${receiver}`, events: ["user.synced"] } });
  await page.getByRole("button", { name: "Send test event" }).click();
  await expect(page.locator("#test-result")).toContainText("Delivered: the receiver answered 200");
  await expect(page.locator("#handler-logs")).toContainText("user.synced");
  await look(page, "integration-handlers-test");
  const deliveries = ((await (await fetch(`${demo.emulatorUrl}/_emulator/receivers/${receiver}`)).json()) as { deliveries: { verified: boolean; body: { test?: boolean } }[] }).deliveries;
  expect(deliveries).toHaveLength(1);
  expect(deliveries[0]).toMatchObject({ verified: true, body: { test: true } });
});

test("an admin connects Zoho Connect, chooses its network, previews and saves the group rules, and connects Zoho People and watches its pull", async ({ page }) => {
  test.setTimeout(180_000);
  const tag = randomUUID().slice(0, 6);
  // People in the directory, so that the preview has groups and sizes.
  for (const [i, department] of ["Design", "Design", "Legal"].entries()) {
    await webhook("user.created", { id: `u_grp${i}_${tag}`, email: `grp${i}.${tag}@demo.example`, firstName: `Grp${i}`, department });
  }
  // A second network on the account: the hub must ask which one.
  expect((await fetch(`${demo.emulatorUrl}/_emulator/zoho/connect/networks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Acme Partners" }) })).status).toBe(201);

  await page.goto(await signInLink());
  await test.step("enable Zoho Connect and connect it: the integration waits for a network", async () => {
    await page.getByRole("button", { name: "Enable Zoho Connect" }).click();
    await expect(page.locator("#limitations")).toContainText("no call that updates a member's profile");
    await page.locator("#connect").click();
    await page.locator("#allow").click();
    await expect(page).toHaveURL(/\/dashboard\/integrations\/int_/);
    await expect(page.locator("#pending")).toContainText("choose the network people are invited to");
    await look(page, "connect-choose-network");
    await page.getByLabel(/Acme Connect/).check();
    await page.getByRole("button", { name: "Use this network" }).click();
    await expect(page.locator("#network")).toContainText("Acme Connect");
    await expect(page.locator("#pending")).toContainText("review the group rules");
  });

  await test.step("preview the groups the rules make, with their sizes, then save: the integration becomes active", async () => {
    await page.locator("#rule-0-prefix").fill(`T${tag} `);
    await page.locator("#rule-1-field").fill("");
    await page.getByRole("button", { name: "Preview the groups" }).click();
    const preview = page.locator("#group-preview");
    await expect(preview).toContainText(`T${tag} Design`);
    await expect(preview.locator("tr", { hasText: `T${tag} Design` })).toContainText("2");
    await expect(preview.locator("tr", { hasText: `T${tag} Legal` })).toContainText("1");
    await look(page, "connect-group-preview");
    await page.getByRole("button", { name: "Save the group rules" }).click();
    await expect(page.locator("#status")).toHaveText("active");
    await expect(page.locator("#pending")).toHaveCount(0);
    const id = new URL(page.url()).pathname.split("/").pop()!;
    const saved = (await (await api(`/v1/integrations/${id}`)).json()) as { config: { groupRules: unknown[] } };
    expect(saved.config.groupRules).toEqual([{ field: "department", prefix: `T${tag} `, create: true }]);
    // Everyone in the directory not yet a member is invited.
    await expect(async () => {
      await page.reload();
      await expect(page.locator("#stats")).toContainText("invited", { timeout: 1000 });
    }).toPass({ timeout: 60_000 });
  });

  await test.step("enable Zoho People and connect it: the first pull's run, the next pulls and the calls spent are shown", async () => {
    await page.goto("/dashboard");
    await page.getByRole("button", { name: "Enable Zoho People" }).click();
    await page.locator("#connect").click();
    await page.locator("#allow").click();
    await expect(page.locator("#status")).toHaveText("active");
    await expect(async () => {
      await page.reload();
      await expect(page.locator("#last-pull")).toContainText("done", { timeout: 1000 });
    }).toPass({ timeout: 60_000 });
    await expect(page.locator("#calls-today")).toContainText("at most 400 a minute");
    await expect(page.locator("#next-full-pull")).not.toHaveText("off");
    await look(page, "people-pulls");
    await page.locator("#per-minute").fill("500");
    await page.getByRole("button", { name: "Save the pull settings" }).click();
    await expect(page.locator("#pulls-form")).toContainText("at most 400");
  });
});
