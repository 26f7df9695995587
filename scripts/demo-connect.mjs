// `npm run demo:connect`: connects Zoho CRM for the demo tenant the way an admin would —
// create the integration, follow its authorize URL to the emulator's consent page,
// approve as the emulator's Zoho admin, land on the hub's callback — then waits for the
// resync that connecting starts and shows each contact with its record URL (opened once
// to show that it answers).
import { readDemo } from "./local.mjs";

const demo = readDemo();
const api = async (path, init = {}) => {
  const res = await fetch(`${demo.hubUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${demo.apiKey}`, ...(init.body ? { "content-type": "application/json" } : {}) },
  });
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} answered ${res.status}: ${await res.text()}`);
  return res.status === 204 ? null : res.json();
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The hub's PUBLIC_URL may say localhost; this script reaches the hub where it listens. */
function onHub(url) {
  const u = new URL(url);
  const hub = new URL(demo.hubUrl);
  u.protocol = hub.protocol;
  u.host = hub.host;
  return u;
}

const DEMO_NAME = "Zoho CRM (demo)";

/**
 * A new Zoho CRM integration for the demo tenant. The emulators start empty on every
 * `npm start`, so an earlier demo integration points at records and tokens that no
 * longer exist: it is deleted first. The hub deletes only once the provider confirms
 * the revoke; an earlier demo's emulator on other ports is gone and cannot, so that
 * one is deactivated instead, as an admin would do.
 */
async function integration() {
  const { data } = await api("/v1/integrations?limit=500");
  for (const old of data.filter((i) => i.provider === "zoho-crm" && i.name === DEMO_NAME && i.status !== "deactivated")) {
    console.log(`Replacing the earlier demo integration ${old.id} (the emulators start empty on every npm start)…`);
    const res = await fetch(`${demo.hubUrl}/v1/integrations/${old.id}`, { method: "DELETE", headers: { authorization: `Bearer ${demo.apiKey}` } });
    if (res.status === 503 && old.status === "active") {
      console.log("  its emulator is gone, so the hub cannot revoke its token there: deactivated instead.");
      await api(`/v1/integrations/${old.id}/deactivate`, { method: "POST" });
    } else if (!res.ok && res.status !== 503) {
      throw new Error(`DELETE /v1/integrations/${old.id} answered ${res.status}: ${await res.text()}`);
    }
  }
  console.log("Creating a Zoho CRM integration for the demo tenant…");
  return api("/v1/integrations", { method: "POST", body: JSON.stringify({ provider: "zoho-crm", name: DEMO_NAME }) });
}

async function connect(i) {
  const { authorizeUrl } = await api(`/v1/integrations/${i.id}/connect`, { method: "POST" });
  console.log(`Consent page: ${authorizeUrl}`);
  console.log("Approving on the emulator's consent page as admin@acme.example (open the URL above in a browser to click Allow yourself)…");
  const consent = new URL(authorizeUrl);
  consent.searchParams.set("auto_approve", "1");
  consent.searchParams.set("login_hint", "admin@acme.example");
  let answer = await fetch(consent, { redirect: "manual" });
  // Zoho may send the browser on to the account's own data centre first.
  while (answer.status === 302 && !new URL(answer.headers.get("location")).pathname.startsWith("/oauth/callback")) {
    answer = await fetch(answer.headers.get("location"), { redirect: "manual" });
  }
  if (answer.status !== 302) throw new Error(`the consent page answered ${answer.status}: ${await answer.text()}`);
  const callback = await fetch(onHub(answer.headers.get("location")), { redirect: "manual" });
  if (callback.status !== 302) throw new Error(`the hub's callback answered ${callback.status}: ${await callback.text()}`);
  const landing = await fetch(onHub(callback.headers.get("location")));
  const page = await landing.text();
  const said = (id) => new RegExp(`<dt>${id}</dt><dd>([^<]*)</dd>`).exec(page)?.[1];
  console.log(`Connected: data centre ${said("Data centre")}, accounts server ${said("Accounts server")}.`);
}

async function waitForResync(i) {
  for (let tries = 0; tries < 120; tries++) {
    const { data } = await api(`/v1/runs?integrationId=${i.id}&kind=resync&limit=1`);
    const run = data[0];
    if (run && run.status !== "running") return run;
    await sleep(500);
  }
  throw new Error("the resync did not finish within a minute");
}

const i = await integration();
await connect(i);
const run = await waitForResync(i);
const c = run.counts;
console.log(`Resync ${run.id}: ${run.status} (created ${c.created}, updated ${c.updated}, unchanged ${c.unchanged}, excluded ${c.excluded}, failed ${c.failed}).`);

const { data: links } = await api(`/v1/integrations/${i.id}/links?status=synced&limit=20`);
if (!links.length) {
  console.log("\nNo contacts yet: the directory is empty. Run `npm run demo:webhook`, and Ada reaches Zoho within seconds.");
} else {
  console.log("\nContacts in Zoho CRM (the emulator):");
  for (const l of links) {
    const opened = await fetch(l.remoteUrl);
    console.log(`  ${l.email.padEnd(28)} ${l.remoteUrl}  (${opened.status})`);
  }
}
console.log(`\nThe integration: curl -s ${demo.hubUrl}/v1/integrations/${i.id} -H 'authorization: Bearer ${demo.apiKey}'`);
