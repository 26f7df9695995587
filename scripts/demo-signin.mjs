// `npm run demo:signin`: prints a sign-in link to the dashboard for the demo tenant that
// `npm start` created, as the host app would make it: a JWT signed with the tenant's SSO
// secret, valid for 5 minutes and once. Run it again for a new link.
import { SignJWT } from "jose";
import { readDemo } from "./local.mjs";

const demo = readDemo();
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({
  tenant: demo.tenantId,
  email: "admin@demo.example",
  name: "Demo admin",
  permissions: ["manage_integrations", "manage_users"],
  jti: crypto.randomUUID(),
})
  .setProtectedHeader({ alg: "HS256" })
  .setSubject("demo-admin")
  .setIssuedAt(now)
  .setExpirationTime(now + 300)
  .sign(new TextEncoder().encode(demo.ssoSecret));
console.log("Open this link in a browser within 5 minutes (it works once):");
console.log(`${demo.hubUrl}/auth/sso?token=${token}`);
