/** Random lower-case hex of `bytes` bytes. */
export function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * A plain consent page: the original request's parameters as hidden fields, an account
 * to sign in as, and Allow / Deny buttons (named so that a browser test can click them).
 */
export function consentPage(opts: {
  title: string;
  app: string;
  scopes: string[];
  action: string;
  fields: Record<string, string | undefined>;
  accounts: { value: string; label: string }[];
}): string {
  const hidden = Object.entries(opts.fields)
    .filter(([k, v]) => v !== undefined && k !== "decision" && k !== "account")
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v!)}">`)
    .join("\n");
  const options = opts.accounts.map((a) => `<option value="${esc(a.value)}">${esc(a.label)}</option>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(opts.title)} — consent</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}li{font-family:monospace}</style></head>
<body>
<h1>${esc(opts.title)}</h1>
<p>The application <strong>${esc(opts.app)}</strong> asks to access your account with these permissions:</p>
<ul>${opts.scopes.map((s) => `<li>${esc(s)}</li>`).join("")}</ul>
<form method="post" action="${esc(opts.action)}">
${hidden}
<p><label>Sign in as <select name="account">${options}</select></label></p>
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>
<p><small>usersync provider emulator — for development and tests only.</small></p>
</body></html>`;
}
