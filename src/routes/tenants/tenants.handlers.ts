import { createFactory } from "hono/factory";
import { createTenant, rotateSecret } from "../../db/tenants.repo";
import { forgetWebhookSecrets } from "../../directory/webhook-secrets";
import type { AppEnv, TenantEnv } from "../../http/context";
import { operatorAuth, requireRecentAuth } from "../../http/middleware";
import { validate } from "../../http/validate";
import { iso } from "../../lib/time";
import { CreateTenantBody, createTenantContract, currentTenantContract, RotateBody, rotateContract } from "./tenants.routes";

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
      },
      201,
    );
  },
);

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

export const currentTenantHandlers = createFactory<TenantEnv>().createHandlers(currentTenantContract, (c) => {
  const tenant = c.get("tenant");
  return c.json({ id: tenant.id, name: tenant.name, createdAt: iso(tenant.createdAt) }, 200);
});
