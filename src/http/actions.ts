import { assertIntegrationAllowed, assertProviderAllowed } from "../integrations/allowed";
import { withoutTrailingSlash } from "../lib/url";
import { CONNECTORS, connector, ProviderError, type ProviderId } from "../connectors";
import { sendPushes } from "../queue/send";
import type { Db } from "../db/client";
import { deleteIntegration, updateIntegration } from "../db/integrations.repo";
import { getUser } from "../db/directory.repo";
import { linkByHand, otherHolder, unlinkByHand, getLink } from "../db/links.repo";
import { getRun, openRun, type RunKind } from "../db/runs.repo";
import type { ImportRow, RunRow } from "../db/schema";
import { getLocation, getSavedMapping, insertImport, noteLocation, putLocation, type ImportLocationRow } from "../db/imports.repo";
import { describeCsv, storeUpload } from "../directory/csv";
import { newId } from "../lib/ids";
import { forgetPushedState } from "../db/sync.repo";
import type { RunTrigger } from "../db/vocabulary";
import type { Env } from "../env";
import { defaultConfig, resolveConfig } from "../integrations/config";
import { assertTransition, pendingActionsFor, statusFor, type Transition } from "../integrations/lifecycle";
import { getIntegration, insertIntegration, type Integration } from "../integrations/store";
import { refreshTokenOf } from "../integrations/tokens";
import { connectorContext } from "../integrations/connector-context";
import { AppError } from "../lib/errors";
import { approveRun, cancelRun, startInitialResync, startPull, startRun } from "../runs/start";
import { startImport } from "../runs/import";
import { openLocation, sealLocationSecret } from "../runs/pickup-location";
import { errorText } from "../lib/log";
import { outboundUrlProblem } from "../lib/outbound";
import { iso } from "../lib/time";
import { sourceOf } from "../sync/target";
import type { Choice } from "../connectors/contract";
import { settings } from "../settings";
import { assertRunnable } from "./loaders";
import * as v from "valibot";

/**
 * What the API's handlers and the dashboard's forms both do, written once: each action
 * takes what was asked, checks it, and answers the result or throws an AppError (422
 * with field paths, 409, 404, 503) that each caller shows in its own way.
 */

/** The needed scopes a grant does not cover (`X.ALL` covers every `X.…`; case-insensitive). */
function missingScopesOf(needed: string[], granted: string[]): string[] {
  const covers = (g: string, n: string) => g === n || (g.endsWith(".all") && n.startsWith(g.slice(0, -3)));
  return needed.filter((n) => !granted.some((g) => covers(g.toLowerCase(), n.toLowerCase())));
}

/** Enables a provider for a tenant: a new integration with the provider's defaults and `config` on top. */
export async function createIntegrationAction(db: Db, env: Env, tenant: { id: string; providers: string | null }, input: { provider: ProviderId; name?: string | undefined; config?: Record<string, unknown> | undefined }): Promise<Integration> {
  const def = CONNECTORS[input.provider];
  assertProviderAllowed(tenant, def.facts.id, def.facts.name);
  const tenantId = tenant.id;
  const { config, errors } = resolveConfig(def, defaultConfig(def), input.config ?? {}, settings(env).outboundAllowlist);
  if (errors.length) throw AppError.validation(errors);
  return insertIntegration(db, { tenantId, provider: def.facts.id, name: input.name ?? def.facts.name, config, pendingActions: pendingActionsFor(def, config, false, false), receivesPushes: "push" in def });
}

/**
 * Changes an integration's name or config (each config key given replaces the stored one).
 * Scopes the new config needs that the grant lacks send it to `reconnect`; a new mapping or
 * object pushes everyone again.
 */
export async function changeIntegrationAction(db: Db, env: Env, integration: Integration, input: { name?: string | undefined; config?: Record<string, unknown> | undefined }, trigger: RunTrigger): Promise<Integration> {
  const def = connector(integration.provider);
  const { config, errors } = resolveConfig(def, integration.config, input.config ?? {}, settings(env).outboundAllowlist);
  if (errors.length) throw AppError.validation(errors);
  const missingScopes = integration.connection ? missingScopesOf(def.config.scopes(config), integration.connection.scopes) : [];
  const reconnect = integration.pendingActions.includes("reconnect") || missingScopes.length > 0;
  const connected = integration.connection !== null && !reconnect;
  const pendingActions = pendingActionsFor(def, config, connected, reconnect);
  const status = statusFor(integration.status, pendingActions);
  if (integration.status !== "active" && status === "active") await assertIntegrationAllowed(db, integration, def.facts.name);
  const reason = missingScopes.length ? `The new settings need ${missingScopes.join(", ")}, which the connection was not granted: reconnect the integration to grant it.` : undefined;
  // Saving the after handler again resumes deliveries stopped by its receiver's 410s.
  const afterResumed = input.config?.handlers !== undefined ? ({ afterResumed: true } as const) : {};
  await updateIntegration(db, integration.tenantId, integration.id, { ...(input.name ? { name: input.name } : {}), config, pendingActions, status, ...(reason ? { lastError: reason } : {}), ...afterResumed });
  const updated = (await getIntegration(db, integration.tenantId, integration.id))!;
  // What each person's payload is made from changed: everyone is pushed again.
  const beforeChanged = JSON.stringify(config.handlers.before ?? null) !== JSON.stringify(integration.config.handlers.before ?? null);
  const groupsChanged = JSON.stringify(config.groupRules) !== JSON.stringify(integration.config.groupRules);
  if (JSON.stringify(config.mapping) !== JSON.stringify(integration.config.mapping) || config.object !== integration.config.object || beforeChanged || groupsChanged) {
    await forgetPushedState(db, integration.id);
    await startInitialResync(db, env, updated, trigger);
  } else if (integration.status === "pending" && updated.status === "active") {
    // The last pending action (a network chosen, group rules reviewed) was done: it runs now.
    await startInitialResync(db, env, updated, trigger);
  }
  return updated;
}

/** The networks of the connected account (Zoho Connect); 409 for a provider without them or an integration not connected. */
export async function networksAction(db: Db, env: Env, integration: Integration): Promise<Choice[]> {
  const def = connector(integration.provider);
  if (!def.networks) throw AppError.conflict(`${def.facts.name} has no networks to choose from.`);
  if (!integration.connection) throw AppError.conflict("Connect the integration first: its networks are the connected account's.");
  try {
    return await def.networks(connectorContext(db, env, integration));
  } catch (err) {
    if (err instanceof ProviderError) throw new AppError("unavailable", `${def.facts.name} could not list the networks (${err.detail}); try again.`, undefined, { "retry-after": "30" });
    throw err;
  }
}

/**
 * After a connect: where the account has only one network, it is chosen; with several the
 * integration waits for the admin (`choose-network`). A provider that cannot be asked now
 * leaves the choice to the admin too.
 */
export async function chooseOnlyNetwork(db: Db, env: Env, integration: Integration, trigger: RunTrigger): Promise<Integration> {
  const def = connector(integration.provider);
  if (!def.networks || !integration.connection || typeof (integration.config as Readonly<Record<string, unknown>>).networkId === "string") return integration;
  let networks: Choice[];
  try {
    networks = await def.networks(connectorContext(db, env, integration));
  } catch (err) {
    if (err instanceof ProviderError) return integration;
    throw err;
  }
  if (networks.length !== 1) return integration;
  return changeIntegrationAction(db, env, integration, { config: { networkId: networks[0]!.id } }, trigger);
}

/** Activates or deactivates; activating starts a resync of what changed meanwhile. */
export async function transitionAction(db: Db, env: Env, tenant: { providers: string | null }, integration: Integration, transition: Transition, trigger: RunTrigger): Promise<Integration> {
  assertTransition(integration, transition);
  if (transition === "activate") assertProviderAllowed(tenant, integration.provider, connector(integration.provider).facts.name);
  await updateIntegration(db, integration.tenantId, integration.id, { status: transition === "activate" ? "active" : "deactivated" });
  const updated = (await getIntegration(db, integration.tenantId, integration.id))!;
  if (transition === "activate") await startInitialResync(db, env, updated, trigger);
  return updated;
}

/**
 * Deletes an integration after revoking its grant at the provider. Nothing is deleted
 * until the provider confirms (503 with Retry-After): the grant must not outlive it.
 * Records at the provider are left as they are.
 */
export async function deleteIntegrationAction(db: Db, env: Env, integration: Integration): Promise<void> {
  const refreshToken = await refreshTokenOf(db, env, integration);
  if (refreshToken && integration.connection) {
    const def = connector(integration.provider);
    try {
      await def.oauth.revoke({ env, settings: settings(env), redirectUri: "" }, { connection: integration.connection, refreshToken });
    } catch (err) {
      if (err instanceof ProviderError) {
        throw new AppError("unavailable", `${def.facts.name} did not confirm revoking the connection (${err.detail}). Nothing was deleted; try again.`, undefined, {
          "retry-after": String(Math.ceil((err.retryAfterMs ?? 30_000) / 1000)),
        });
      }
      throw err;
    }
  }
  await deleteIntegration(db, integration.tenantId, integration.id);
}

/** Starts a resync or reconciliation; 409 when one is already open. */
export async function startRunAction(db: Db, env: Env, integration: Integration, kind: RunKind, trigger: RunTrigger, userIds: string[] | null): Promise<RunRow> {
  if (integration.status === "active" && sourceOf(integration)) {
    // A source's resync is a full pull; a full pull is also what compares everyone, so there is no separate reconciliation.
    if (kind === "reconcile") throw AppError.conflict(`${integration.name} is a source: its full pull (a resync) compares every person and disables the leavers.`);
    kind = "pull";
  }
  if (kind !== "pull") assertRunnable(integration);
  const run = kind === "pull" ? await startPull(db, env, integration, true, trigger) : await startRun(db, env, integration, kind, trigger, userIds);
  if (run) return run;
  const open = await openRun(db, integration.id, kind);
  throw AppError.conflict(`A ${kind} of this integration is already ${open?.status ?? "open"}${open ? ` (${open.id})` : ""}.`);
}

/**
 * Links a person to a record by hand: the record must exist at the provider and be no one
 * else's. The directory wins: the person's values go to the record next.
 */
export async function linkAction(db: Db, env: Env, integration: Integration, userId: string, remoteId: string): Promise<void> {
  const { facts, push } = assertRunnable(integration);
  if (!push.isRecordId(remoteId)) throw AppError.validation([{ path: "remoteId", message: `Expected a ${facts.name} record id.` }]);
  const user = await getUser(db, integration.tenantId, userId);
  if (!user) throw AppError.notFound("user");
  const taken = await otherHolder(db, integration.id, remoteId, userId);
  if (taken) throw AppError.conflict(`Record ${remoteId} is already linked to ${taken}; unlink it first.`);
  const ctx = connectorContext(db, env, integration);
  // A provider that cannot be asked now answers 503 with Retry-After (the one error handler).
  if (!(await push.get(ctx, integration.config.object, remoteId))) {
    throw AppError.validation([{ path: "remoteId", message: `No ${integration.config.object} record ${remoteId} at ${facts.name}.` }]);
  }
  const url = await push.recordUrls(ctx, integration.config.object);
  if (!(await linkByHand(db, integration, userId, remoteId, url(remoteId)))) throw AppError.conflict(`Record ${remoteId} was just linked to someone else.`);
  await sendPushes(env, integration, [{ id: userId, version: user.version }], "rest");
}

/** Unlinks a person by hand: they are not matched again automatically. */
export async function unlinkAction(db: Db, integration: Integration, userId: string): Promise<void> {
  const user = await getUser(db, integration.tenantId, userId);
  const link = await getLink(db, integration.id, userId);
  if (!user || !link) throw AppError.notFound("link");
  await unlinkByHand(db, integration, user, link);
}

/**
 * Stores an uploaded CSV file (streamed into R2; 413, 422 on refusal with nothing left
 * behind) and records the import with its rows and headers.
 */
export async function uploadImportAction(db: Db, env: Env, tenantId: string, body: ReadableStream<Uint8Array> | null): Promise<ImportRow> {
  const id = newId("imp");
  const key = `uploads/${tenantId}/${id}.csv`;
  const { bytes, delimiter } = await storeUpload(env.FILES, key, body);
  let described: { headers: string[]; rows: number };
  try {
    described = await describeCsv(env.FILES, key, delimiter);
  } catch (err) {
    await env.FILES.delete(key);
    throw err;
  }
  return insertImport(db, { id, tenantId, objectKey: key, bytes, rows: described.rows, headers: JSON.stringify(described.headers), delimiter, createdAt: Date.now() });
}

/**
 * Upload and apply in one call (`POST /v1/imports?apply=saved`): the tenant's saved
 * mapping and mode, checked before anything is stored; past the guard 409 and nothing
 * in the directory changes (the upload stays, to be looked at or applied by hand).
 */
export async function uploadAndApplyAction(db: Db, env: Env, tenantId: string, body: ReadableStream<Uint8Array> | null, trigger: RunTrigger): Promise<{ imp: ImportRow; run: RunRow }> {
  const saved = await getSavedMapping(db, tenantId);
  if (!saved) throw AppError.validation([{ path: "mapping", message: "No saved mapping: save one with PUT /v1/imports/mapping (or on the dashboard's Import page) first." }]);
  const imp = await uploadImportAction(db, env, tenantId, body);
  const { run } = await startImport(db, env, imp, saved, trigger);
  return { imp, run };
}

/** A pickup location as the API and the dashboard show it: never its secret. */
export function locationView(row: ImportLocationRow) {
  return {
    kind: "s3" as const,
    endpoint: row.endpoint,
    region: row.region,
    bucket: row.bucket,
    prefix: row.prefix,
    accessKeyId: row.accessKeyId,
    everyMinutes: row.everyMinutes,
    nextPickupAt: iso(row.nextDueAt)!,
    lastPickupAt: iso(row.lastPickupAt),
    lastError: row.lastError,
  };
}

const Text = (max: number) => v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(max));

/** A pickup location of the tenant's own: an S3-compatible bucket and prefix, and its access key. */
export const LocationInput = v.strictObject({
  kind: v.literal("s3"),
  endpoint: v.pipe(v.string(), v.url(), v.maxLength(500)),
  region: v.optional(Text(64), "auto"),
  bucket: v.pipe(Text(63), v.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "A bucket name: 3 to 63 lower-case letters, digits, dots and hyphens.")),
  /** Files are taken from under this prefix; `done/` and `failed/` are made under it. */
  prefix: v.optional(v.pipe(v.string(), v.maxLength(512), v.check((p) => !p.startsWith("/"), "A prefix does not start with /.")), ""),
  accessKeyId: Text(256),
  secretAccessKey: Text(512),
  everyMinutes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1440)), 15),
});

/**
 * Sets the tenant's own pickup location: the endpoint must be one the hub may reach
 * (https, not a private address: 422), the secret is sealed, and the location is tried
 * at once (one listing): a refusal is saved as its `lastError` for the admin to see.
 */
export async function putLocationAction(
  db: Db,
  env: Env,
  tenantId: string,
  input: { endpoint: string; region: string; bucket: string; prefix: string; accessKeyId: string; secretAccessKey: string; everyMinutes: number },
): Promise<ImportLocationRow> {
  const problem = outboundUrlProblem(input.endpoint, settings(env).outboundAllowlist);
  if (problem) throw AppError.validation([{ path: "endpoint", message: problem }]);
  const prefix = input.prefix && !input.prefix.endsWith("/") ? `${input.prefix}/` : input.prefix;
  const now = Date.now();
  const row = {
    tenantId,
    endpoint: withoutTrailingSlash(input.endpoint),
    region: input.region,
    bucket: input.bucket,
    prefix,
    accessKeyId: input.accessKeyId,
    secret: await sealLocationSecret(env, tenantId, input.secretAccessKey),
    everyMinutes: input.everyMinutes,
    nextDueAt: now,
    updatedAt: now,
  };
  await putLocation(db, row);
  let error: string | null = null;
  try {
    await (await openLocation(env, { ...row, lastPickupAt: null, lastError: null })).list(prefix);
  } catch (err) {
    // Whatever the location answers (a refusal, a timeout, a page that is not S3's) is saved for the admin to see.
    error = errorText(err);
  }
  if (error) await noteLocation(db, tenantId, { at: now, error });
  return (await getLocation(db, tenantId))!;
}

/** A run of the tenant, or 404 (another tenant's id is simply not found). */
export async function runOf(db: Db, tenantId: string, runId: string): Promise<RunRow> {
  const run = await getRun(db, tenantId, runId);
  if (!run) throw AppError.notFound("run");
  return run;
}

/** An admin's approval of a held run (the caller checked the recent sign-in); 409 unless it is held. */
export async function approveRunAction(db: Db, env: Env, run: RunRow): Promise<void> {
  if (!(await approveRun(db, env, run))) throw AppError.conflict(`The run is ${run.status}; only a held run can be approved.`);
}

/** An admin's cancel of a running or held run; 409 once it has ended. */
export async function cancelRunAction(db: Db, run: RunRow): Promise<void> {
  if (run.status !== "running" && run.status !== "held") throw AppError.conflict(`The run is ${run.status} already.`);
  await cancelRun(db, run);
}
