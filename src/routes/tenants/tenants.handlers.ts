import { createFactory } from "hono/factory";
import { createTenant, rotateSecret, setTenantProviders, updateTenant } from "../../db/tenants.repo";
import { allowedProviders } from "../../integrations/allowed";
import type { Tenant } from "../../db/schema";
import { AppError } from "../../http/errors";
import { signInUrlProblem } from "../../auth/session";
import { forgetWebhookSecrets } from "../../directory/webhook-secrets";
import type { AppEnv, TenantEnv } from "../../http/context";
import { operatorAuth, requireRecentAuth } from "../../http/middleware";
import { validate } from "../../http/validate";
import { iso } from "../../lib/time";
import { TenantProvidersBody, tenantProvidersContract, CreateTenantBody, createTenantContract, currentTenantContract, PatchTenantBody, patchTenantContract, RotateBody, rotateContract } from "./tenants.routes";

export const createTenantHandlers = createFactory<AppEnv>().createHandlers(
  createTenantContract,
  operatorAuth,
  validate("json", CreateTenantBody),
  async (c) => {
    const { name } = c.req.valid("json");
    const created = await createTenant(c.get("db"), c.env.ENCRYPTION_KEY, name);
    return c.json(
      {
        tenant: { id: created.tenant.id, name: created.tenant.name, createdAt: iso(created.tenant.createdAt) },
        apiKey: created.apiKey,
        webhookSecret: created.webhookSecret,
        ssoSecret: created.ssoSecret,
        eventSecret: created.eventSecret,
      },
      201,
    );
  },
);

export const tenantProvidersHandlers = createFactory<AppEnv>().createHandlers(tenantProvidersContract, operatorAuth, validate("json", TenantProvidersBody), async (c) => {
  const { providers } = c.req.valid("json");
  const tenant = await setTenantProviders(c.get("db"), c.req.param("id")!, providers === null ? null : [...new Set(providers)]);
  if (!tenant) throw AppError.notFound("tenant");
  return c.json({ id: tenant.id, name: tenant.name, providers: [...allowedProviders(tenant)], createdAt: iso(tenant.createdAt) }, 200);
});

export const rotateHandlers = createFactory<TenantEnv>().createHandlers(
  rotateContract,
  requireRecentAuth,
  validate("json", RotateBody),
  async (c) => {
    const { which } = c.req.valid("json");
    const tenantId = c.get("tenant").id;
    const rotated = await rotateSecret(c.get("db"), c.env.ENCRYPTION_KEY, tenantId, which);
    if (which === "webhookSecret") forgetWebhookSecrets(tenantId);
    return c.json({ which, value: rotated.value, previousValidUntil: iso(rotated.previousValidUntil) }, 200);
  },
);

function tenantView(tenant: Tenant) {
  return { id: tenant.id, name: tenant.name, signInUrl: tenant.signInUrl, createdAt: iso(tenant.createdAt) };
}

export const currentTenantHandlers = createFactory<TenantEnv>().createHandlers(currentTenantContract, (c) => c.json(tenantView(c.get("tenant")), 200));

export const patchTenantHandlers = createFactory<TenantEnv>().createHandlers(patchTenantContract, validate("json", PatchTenantBody), async (c) => {
  const { name, signInUrl } = c.req.valid("json");
  if (signInUrl) {
    const problem = signInUrlProblem(signInUrl, c.env.PUBLIC_URL);
    if (problem) throw AppError.validation([{ path: "signInUrl", message: problem }]);
  }
  const tenant = await updateTenant(c.get("db"), c.get("tenant").id, { name, signInUrl });
  return c.json(tenantView(tenant!), 200);
});
