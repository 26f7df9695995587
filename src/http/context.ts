import type { Db } from "../db/client";
import type { Tenant } from "../db/schema";
import type { Env } from "../env";
import type { Logger } from "../lib/log";

export type { Auth } from "../auth/session";
import type { Auth } from "../auth/session";

/** Bindings and per-request variables shared by every router. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    db: Db;
    /** Log lines of this request: they carry its id and path. */
    log: Logger;
  };
}

/** Routers behind tenant authentication: `tenant` and `auth` are always set. */
export interface TenantEnv extends AppEnv {
  Variables: AppEnv["Variables"] & {
    tenant: Tenant;
    auth: Auth;
  };
}
