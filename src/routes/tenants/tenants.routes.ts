import * as v from "valibot";
import { safeText } from "../../lib/user-fields";
import { describeRoute } from "hono-openapi";
import { jsonResponse, problems, TENANT_SECURITY } from "../../http/openapi";
import { PROVIDER_IDS } from "../../connectors";

export const CreateTenantBody = v.strictObject({
  name: v.pipe(safeText(200), v.trim(), v.minLength(1, "Give the tenant a name.")),
});

export const TenantOut = v.object({ id: v.string(), name: v.string(), createdAt: v.string() });

/** `GET`/`PATCH /v1/tenant`: the tenant with its sign-in page. */
export const CurrentTenantOut = v.object({ id: v.string(), name: v.string(), signInUrl: v.nullable(v.string()), createdAt: v.string() });

export const PatchTenantBody = v.strictObject({
  name: v.optional(v.pipe(safeText(200), v.trim(), v.minLength(1, "Give the tenant a name."))),
  /** The host app's page that signs an admin in again; null removes it. */
  signInUrl: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(2000)))),
});

/** `PATCH /v1/tenants/{id}` (operator): the providers the tenant may enable; null is all of them. */
export const TenantProvidersBody = v.strictObject({
  providers: v.nullable(v.pipe(v.array(v.picklist(PROVIDER_IDS, `Expected some of ${PROVIDER_IDS.join(", ")}.`)), v.maxLength(20))),
});

export const TenantProvidersOut = v.object({ id: v.string(), name: v.string(), providers: v.array(v.string()), createdAt: v.string() });

export const CreatedTenantOut = v.object({
  tenant: TenantOut,
  apiKey: v.string(),
  webhookSecret: v.string(),
  ssoSecret: v.string(),
  eventSecret: v.string(),
});

export const RotateBody = v.strictObject({
  which: v.picklist(["apiKey", "webhookSecret", "ssoSecret", "eventSecret"], "Expected apiKey, webhookSecret, ssoSecret or eventSecret."),
});

export const RotatedOut = v.object({
  which: v.string(),
  value: v.string(),
  previousValidUntil: v.string(),
});

export const createTenantContract = describeRoute({
  tags: ["Tenants"],
  summary: "Create a tenant (operator only); answers its credentials once",
  security: [{ operatorToken: [] }],
  responses: { 201: jsonResponse("The tenant and its first credentials", CreatedTenantOut), ...problems(400, 401, 413, 415, 422) },
});

export const tenantProvidersContract = describeRoute({
  tags: ["Tenants"],
  summary: "Choose the providers a tenant may enable (operator only)",
  description:
    "By default a tenant may enable every provider. `GET /v1/providers` then shows the tenant only these, and creating or activating an integration of another provider answers 403. Integrations the tenant already has keep running. `null` allows every provider again.",
  security: [{ operatorToken: [] }],
  responses: { 200: jsonResponse("The tenant and the providers it may enable", TenantProvidersOut), ...problems(400, 401, 404, 413, 415, 422) },
});

export const rotateContract = describeRoute({
  tags: ["Tenants"],
  summary: "Rotate the API key, webhook secret or SSO secret (sensitive)",
  description:
    "The previous webhook secret stays valid for 24 hours so senders can switch without downtime; a previous API key or SSO secret stops working at once.",
  security: TENANT_SECURITY,
  responses: { 200: jsonResponse("The new value, shown once", RotatedOut), ...problems(400, 401, 403, 413, 415, 422) },
});

export const currentTenantContract = describeRoute({
  tags: ["Tenants"],
  summary: "The tenant that the API key belongs to",
  security: TENANT_SECURITY,
  responses: { 200: jsonResponse("The tenant", CurrentTenantOut), ...problems(401, 403) },
});

export const patchTenantContract = describeRoute({
  tags: ["Tenants"],
  summary: "Change the tenant's name or sign-in page",
  description:
    "`signInUrl` is an https page of the host app that signs the admin in again and sends them to `/auth/sso?token=…`; the hub appends `?redirect=<path>` when a sensitive action needs a fresh sign-in. On a hub that itself runs on plain-http localhost (development), a plain-http localhost page is accepted too.",
  security: TENANT_SECURITY,
  responses: { 200: jsonResponse("The tenant", CurrentTenantOut), ...problems(400, 401, 403, 413, 415, 422) },
});
