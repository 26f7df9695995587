import { jwtVerify, SignJWT } from "jose";
import type { Env } from "../env";
import { utf8 } from "../lib/encoding";

const AUDIENCE = "usersync:connected";
/** Long enough to read the page after consent, short enough not to be a standing link. */
const TTL_S = 15 * 60;

export interface ConnectedNote {
  tenantId: string;
  integrationId: string;
  runId: string | null;
  /** The connection version the connect stored: "This wasn't me" disowns that connection only. */
  connectionVersion: number;
}

/**
 * A signed note (jose, HS256, SESSION_SECRET) that the OAuth callback adds to its redirect,
 * so that a browser without a dashboard session can be told what was connected.
 */
export async function connectedNote(env: Env, note: ConnectedNote): Promise<string> {
  return new SignJWT({ tid: note.tenantId, iid: note.integrationId, run: note.runId, cv: note.connectionVersion })
    .setProtectedHeader({ alg: "HS256" })
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${TTL_S}s`)
    .sign(utf8(env.SESSION_SECRET));
}

/** The note carried by `?connected=`, or null when missing, tampered with or expired. */
export async function readConnectedNote(env: Env, token: string | undefined): Promise<ConnectedNote | null> {
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, utf8(env.SESSION_SECRET), { audience: AUDIENCE, algorithms: ["HS256"] });
    if (typeof payload.tid !== "string" || typeof payload.iid !== "string" || typeof payload.cv !== "number") return null;
    return { tenantId: payload.tid, integrationId: payload.iid, runId: typeof payload.run === "string" ? payload.run : null, connectionVersion: payload.cv };
  } catch {
    return null;
  }
}
