import type { Context } from "hono";
import { AppError, onError } from "../../http/errors";
import { SignedOut, type DashEnv } from "./session";

/** Whether the caller reads HTML (a browser) rather than problem+json (a client). */
function wantsHtml(c: Context): boolean {
  return (c.req.header("accept") ?? "").includes("text/html");
}

export function bare(title: string, body: string, status: 401 | 403 | 404 | 409 | 422 | 503 | 500) {
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} — usersync</title><link rel="icon" href="/favicon.ico" type="image/svg+xml"><link rel="stylesheet" href="/dashboard/style.css"></head><body><main id="main"><h1>${title}</h1>${body}</main></body></html>`;
  return new Response(page, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * Errors on dashboard pages: a browser gets a page saying what happened and what to do
 * next; any other caller the problem+json of the API.
 */
export function dashboardError(err: Error, c: Context<DashEnv>): Response {
  const signedOut = err instanceof SignedOut;
  if (!wantsHtml(c)) return onError(signedOut ? AppError.unauthorized("Sign in to the dashboard through your app first (GET /auth/sso).") : err, c);
  if (signedOut) return bare("You are signed out", "<p>Open the dashboard from your app: it signs you in here. A sign-in link works once and for five minutes.</p>", 401);
  if (err instanceof AppError && err.status < 500) {
    const back = c.req.header("referer");
    const status = err.status as 401 | 403 | 404 | 409 | 422 | 503;
    return bare(err.kind === "not_found" ? "Not found" : err.kind === "reauth_required" ? "Sign in again" : "That did not work", `<p id="problem">${escape(err.detail ?? err.message)}</p>${back ? `<p><a href="${escape(back)}">Go back</a></p>` : `<p><a href="/dashboard">Go to the dashboard</a></p>`}`, status);
  }
  const res = onError(err, c);
  return res.status >= 500 ? bare("Something went wrong", "<p>The hub could not do this just now; nothing you did is lost. Try again in a minute.</p>", 503) : res;
}
