import { Hono } from "hono";
import { SignJWT } from "jose";

/**
 * A stand-in for the host app's sign-in page (development and browser tests only): the
 * page a tenant's `signInUrl` names. The real host app signs its admin in and sends them
 * to the hub's `/auth/sso` with a fresh, single-use token; this one does the same for the
 * tenant `npm start` registered, as a demo admin with both permissions.
 */
interface HostApp {
  hubUrl: string;
  tenantId: string;
  ssoSecret: string;
}

let registered: HostApp | null = null;

export const hostApp = new Hono()
  .put("/_emulator/host-app", async (c) => {
    const body = (await c.req.json()) as Partial<HostApp>;
    if (!body.hubUrl || !body.tenantId || !body.ssoSecret) return c.json({ error: "hubUrl, tenantId and ssoSecret are required" }, 400);
    registered = { hubUrl: body.hubUrl, tenantId: body.tenantId, ssoSecret: body.ssoSecret };
    return c.json({ ok: true });
  })
  .get("/host-app/sign-in", async (c) => {
    if (!registered) return c.text("No host app is registered: start the hub with `npm start`.", 404);
    const now = Math.floor(Date.now() / 1000);
    const redirect = c.req.query("redirect");
    const token = await new SignJWT({
      tenant: registered.tenantId,
      email: "admin@demo.example",
      name: "Demo admin",
      permissions: ["manage_integrations", "manage_users"],
      jti: crypto.randomUUID(),
      ...(redirect ? { redirect } : {}),
    })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("demo-admin")
      .setIssuedAt(now)
      .setExpirationTime(now + 120)
      .sign(new TextEncoder().encode(registered.ssoSecret));
    return c.redirect(`${registered.hubUrl}/auth/sso?token=${token}`, 302);
  });
