import type { Child } from "hono/jsx";
import type { FieldError } from "../../lib/errors";
import type { Dash } from "./session";

export type Section = "integrations" | "users" | "imports" | "runs";

const NAV: { id: Section; href: string; label: string }[] = [
  { id: "integrations", href: "/dashboard", label: "Integrations" },
  { id: "users", href: "/dashboard/users", label: "Users" },
  { id: "imports", href: "/dashboard/imports", label: "Import" },
  { id: "runs", href: "/dashboard/runs", label: "Runs" },
];

/** Every page: the header with the tenant, navigation and sign-out, then the page. */
export function Page(props: { c: Dash; title: string; section: Section; children: Child; notice?: Child | undefined }) {
  const { c } = props;
  const tenant = c.get("tenant");
  const auth = c.get("auth");
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} — ${tenant.name} — usersync`}</title>
        <link rel="icon" href="/favicon.ico" type="image/svg+xml" />
        <link rel="stylesheet" href="/dashboard/style.css" />
      </head>
      <body>
        <a class="sr-only" href="#main">
          Skip to the page
        </a>
        <header>
          <div class="bar">
            <span>
              <strong>usersync</strong> · {tenant.name}
            </span>
            <nav aria-label="Dashboard">
              <ul>
                {NAV.map((n) => (
                  <li>
                    <a href={n.href} aria-current={n.id === props.section ? "page" : undefined}>
                      {n.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
            <form method="post" action="/dashboard/sign-out">
              <Csrf c={c} />
              <span class="who">{auth.email} </span>
              <button class="secondary" type="submit">
                Sign out
              </button>
            </form>
          </div>
        </header>
        <main id="main">
          {props.notice}
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** The hidden CSRF field every form carries. */
export function Csrf({ c }: { c: Dash }) {
  return <input type="hidden" name="_csrf" value={c.get("csrf")} />;
}

/** A form that posts to `action` with the CSRF token and one submit button. */
export function PostButton(props: { c: Dash; action: string; label: string; kind?: "secondary" | "danger"; fields?: Record<string, string>; id?: string }) {
  return (
    <form method="post" action={props.action}>
      <Csrf c={props.c} />
      {Object.entries(props.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class={props.kind} id={props.id}>
        {props.label}
      </button>
    </form>
  );
}

export function Badge({ value }: { value: string }) {
  return <span class={`badge ${value}`}>{value}</span>;
}

/** The error messages for one field path (and its children). */
export function errorsAt(errors: FieldError[] | undefined, path: string): string[] {
  return (errors ?? []).filter((e) => e.path === path || e.path.startsWith(`${path}.`)).map((e) => e.message);
}

export function FieldErrors({ errors, path, id }: { errors: FieldError[] | undefined; path: string; id?: string }) {
  const messages = errorsAt(errors, path);
  if (!messages.length) return null;
  return (
    <p class="field-error" id={id} role="alert">
      {messages.join(" ")}
    </p>
  );
}

/** When something happened, in the reader's terms. */
export function when(ms: number | null | undefined): string {
  return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "—";
}
