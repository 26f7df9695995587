import type { Db } from "../db/client";
import type { Tenant } from "../db/schema";
import type { Env } from "../env";

/** How the caller proved who they are; `authTime` decides what counts as a recent sign-in. */
export type Auth =
  | { kind: "apiKey"; keyId: string; authTime: number }
  | { kind: "session"; sub: string; email: string; permissions: string[]; authTime: number };

/** Bindings and per-request variables shared by every router. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    db: Db;
  };
}

/** Routers behind tenant authentication: `tenant` and `auth` are always set. */
export interface TenantEnv extends AppEnv {
  Variables: AppEnv["Variables"] & {
    tenant: Tenant;
    auth: Auth;
  };
}
