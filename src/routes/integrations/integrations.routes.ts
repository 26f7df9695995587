import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import { safeText } from "../../lib/user-fields";
import { PROVIDER_IDS } from "../../connectors";
import { AnyProviderConfig } from "../../integrations/config";
import { jsonResponse, problems, TENANT_SECURITY } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";

export { IntegrationParams } from "../../http/loaders";

export const CreateIntegrationBody = v.strictObject({
  provider: v.picklist(PROVIDER_IDS, `Expected one of ${PROVIDER_IDS.join(", ")}.`),
  name: v.optional(v.pipe(safeText(200), v.trim(), v.minLength(1))),
  config: v.optional(AnyProviderConfig),
});

export const PatchIntegrationBody = v.strictObject({
  name: v.optional(v.pipe(safeText(200), v.trim(), v.minLength(1))),
  config: v.optional(AnyProviderConfig),
});

export const ListQuery = v.object({ ...PageQuery });

const Nullable = v.nullable(v.string());
export const IntegrationOut = v.object({
  id: v.string(),
  provider: v.string(),
  name: v.string(),
  status: v.picklist(["pending", "active", "deactivated"]),
  pendingActions: v.array(v.string()),
  connection: v.nullable(
    v.object({
      accountsServer: Nullable,
      apiDomain: v.string(),
      dataCenter: Nullable,
      directoryId: Nullable,
      scopes: v.array(v.string()),
      connectedAt: v.string(),
      orgId: v.optional(v.string()),
      /** Who consented, where the provider says: shown wherever the connection is. */
      accountEmail: v.optional(Nullable),
      orgName: v.optional(Nullable),
    }),
  ),
  config: AnyProviderConfig,
  stats: v.object({ synced: v.number(), pending: v.number(), invited: v.number(), failed: v.number(), excluded: v.number(), unmatched: v.number() }),
  /** Sources: the last pull, the next ones, and the calls spent today. */
  pull: v.optional(
    v.object({
      lastRun: v.nullable(v.looseObject({ id: v.string(), status: v.string() })),
      nextPullAt: Nullable,
      nextFullPullAt: Nullable,
      callsToday: v.number(),
      callsPerDay: v.nullable(v.number()),
      requestsPerMinute: v.nullable(v.number()),
    }),
  ),
  lastError: Nullable,
  createdAt: v.string(),
  updatedAt: v.string(),
});

const ProviderOut = v.object({
  id: v.picklist(PROVIDER_IDS),
  name: v.string(),
  direction: v.picklist(["push", "pull", "two-way"]),
  objects: v.array(v.string()),
  defaultMapping: v.array(v.looseObject({ to: v.string() })),
  defaultConfig: v.looseObject({}),
  configSchema: v.looseObject({}),
  /** What the provider's API cannot do that an admin would expect. */
  limitations: v.array(v.string()),
});

const NetworkOut = v.object({ id: v.string(), name: v.string(), isDefault: v.boolean() });

const tags = ["Integrations"];
const security = TENANT_SECURITY;

export const contracts = {
  providers: describeRoute({ tags, security, summary: "The providers an integration can connect to, with defaults and the config schema", responses: { 200: jsonResponse("Providers", v.array(ProviderOut)), ...problems(401, 403) } }),
  create: describeRoute({ tags, security, summary: "Create an integration (starts pending with the provider's defaults)", responses: { 201: jsonResponse("Created", IntegrationOut), ...problems(400, 401, 403, 413, 415, 422) } }),
  list: describeRoute({ tags, security, summary: "The tenant's integrations, paginated", responses: { 200: jsonResponse("A page of integrations", v.object({ data: v.array(IntegrationOut), nextCursor: Nullable })), ...problems(400, 401, 403, 422) } }),
  get: describeRoute({ tags, security, summary: "One integration", responses: { 200: jsonResponse("The integration", IntegrationOut), ...problems(401, 403, 404) } }),
  patch: describeRoute({
    tags,
    security,
    summary: "Change the name or config (top-level config keys replace the stored ones)",
    description: "JSONata expressions and regular expressions are compiled here: a bad one is a 422 naming its path.",
    responses: { 200: jsonResponse("The integration", IntegrationOut), ...problems(400, 401, 403, 404, 413, 415, 422) },
  }),
  connect: describeRoute({ tags, security, summary: "The provider's authorize URL (OAuth connect)", responses: { 200: jsonResponse("Where to send the admin's browser", v.object({ authorizeUrl: v.string() })), ...problems(401, 403, 404) } }),
  deactivate: describeRoute({ tags, security, summary: "Deactivate: no jobs run; config and links kept", responses: { 200: jsonResponse("The integration", IntegrationOut), ...problems(401, 403, 404, 409) } }),
  activate: describeRoute({ tags, security, summary: "Activate a deactivated integration", responses: { 200: jsonResponse("The integration", IntegrationOut), ...problems(401, 403, 404, 409) } }),
  networks: describeRoute({
    tags,
    security,
    summary: "The networks of the connected account, for a provider that has them (`networks` in GET /v1/providers): choose one with PATCH config.networkId",
    responses: { 200: jsonResponse("Networks", v.object({ data: v.array(NetworkOut) })), ...problems(401, 403, 404, 409, 503) },
  }),
  remove: describeRoute({
    tags,
    security,
    summary: "Delete (sensitive): revokes the refresh token, removes credentials and links; remote records stay",
    responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404, 503) },
  }),
};
