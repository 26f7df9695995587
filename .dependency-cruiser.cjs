/**
 * The dependency rule (docs/architecture.md): top uses bottom, never the other way.
 *   index.ts · app.ts · jobs/ · schedule/   entry points
 *   routes/<resource>/ · http/ · auth/       HTTP
 *   runs/                                    paged work with counts
 *   sync/ · directory/                       the engine and the sources
 *   integrations/                            config, lifecycle, the token source
 *   db/                                      schema and repositories: the only code that touches tables
 *   connectors/<provider>/                   one folder per provider behind the contract
 *   queue/ · env.ts · settings.ts            the queue messages and their one sender, bindings, settings
 *   lib/                                     pure helpers
 * `npm run lint:deps` checks it (in .ci/run); any violation fails.
 */
/** The folders (or entry files) above a layer. */
const above = (...folders) => `^src/(${folders.join("|")})(/|\\.ts$)`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "No file imports itself through others.", from: { path: "^src/" }, to: { circular: true } },
    {
      name: "lib-is-pure",
      severity: "error",
      comment: "lib/ imports only lib/ (and env.ts for its types).",
      from: { path: "^src/lib/" },
      to: { path: "^src/", pathNot: "^src/(lib/|env\\.ts$)" },
    },
    {
      name: "queue-at-the-bottom",
      severity: "error",
      comment: "queue/ (the messages and their one sender), env.ts and settings.ts import only lib/, queue/ and env.ts: every layer may send.",
      from: { path: "^src/(queue/|env\\.ts$|settings\\.ts$)" },
      to: { path: "^src/", pathNot: "^src/(lib/|queue/|env\\.ts$)" },
    },
    {
      name: "connectors-import-only-lib",
      severity: "error",
      comment: "A connector imports only lib/, the contract and its provider family's shared folder; it gets tokens, the env and settings in its context.",
      from: { path: "^src/connectors/" },
      to: { path: "^src/", pathNot: "^src/(connectors/|lib/|env\\.ts$|settings\\.ts$)" },
    },
    {
      name: "provider-folders-apart",
      severity: "error",
      comment: "A provider folder imports only itself and connectors/ files (contract, errors, http); never another provider or the registry.",
      from: { path: "^src/connectors/(?!zoho-)([^/]+)/" },
      to: { path: "^src/connectors/", pathNot: ["^src/connectors/$1/", "^src/connectors/(contract|errors|http)\\.ts$"] },
    },
    {
      name: "zoho-products-share-only-zoho",
      severity: "error",
      comment: "A Zoho product's folder imports only itself, what the Zoho products share (connectors/zoho/) and connectors/ files.",
      from: { path: "^src/connectors/(zoho-[^/]+)/" },
      to: { path: "^src/connectors/", pathNot: ["^src/connectors/$1/", "^src/connectors/zoho/", "^src/connectors/(contract|errors|http)\\.ts$"] },
    },
    {
      name: "engine-reaches-providers-through-the-registry",
      severity: "error",
      comment: "Above connectors/, code names the registry (connectors/index.ts), the contract and the errors, never a provider folder.",
      from: { path: "^src/", pathNot: "^src/connectors/" },
      to: { path: "^src/connectors/[^/]+/" },
    },
    {
      name: "connectors-name-env-as-types-only",
      severity: "error",
      comment: "The Env and Settings a connector's context carries are named as types only: nothing of env.ts or settings.ts runs in a connector.",
      from: { path: "^src/connectors/" },
      to: { path: "^src/(env|settings)\\.ts$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "db-imports-only-schema-and-lib",
      severity: "error",
      comment: "db/ is the only code that touches tables, and imports only its schema and lib/.",
      from: { path: "^src/db/" },
      to: { path: "^src/", pathNot: "^src/(db/|lib/)" },
    },
    {
      name: "only-db-touches-tables",
      severity: "error",
      comment: "Tables are read and written in db/ only: elsewhere db/schema.ts may be named for its types, never for its tables.",
      from: { path: "^src/", pathNot: "^src/db/" },
      to: { path: "^src/db/schema\\.ts$", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "integrations-below-the-engine",
      severity: "error",
      from: { path: "^src/integrations/" },
      to: { path: above("sync", "directory", "runs", "routes", "http", "auth", "app", "jobs", "schedule", "index") },
    },
    {
      name: "events-below-integrations",
      severity: "error",
      comment: "events/ makes and stores the after handlers' events for the engine, runs and integrations: it imports only db/, lib/, queue/ and the settings, and owns the events' delivery and retry schedule (events/deliver.ts, events/retry.ts).",
      from: { path: "^src/events/" },
      to: { path: above("integrations", "sync", "directory", "runs", "routes", "http", "auth", "app", "jobs", "schedule", "index", "connectors") },
    },
    {
      name: "engine-below-runs-and-http",
      severity: "error",
      comment: "sync/ and directory/ do not import runs/, HTTP or the entry points.",
      from: { path: "^src/(sync|directory)/" },
      to: { path: above("runs", "routes", "http", "auth", "app", "jobs", "schedule", "index") },
    },
    {
      name: "runs-below-http",
      severity: "error",
      from: { path: "^src/runs/" },
      to: { path: above("routes", "http", "auth", "app", "jobs", "schedule", "index") },
    },
    {
      name: "http-below-routes",
      severity: "error",
      comment: "http/ and auth/ serve the route folders and never import them or the entry points.",
      from: { path: "^src/(http|auth)/" },
      to: { path: above("routes", "app", "jobs", "schedule", "index") },
    },
    {
      name: "auth-below-http",
      severity: "error",
      comment: "auth/ (sessions, sign-in) is used by http/'s middlewares and never imports http/.",
      from: { path: "^src/auth/" },
      to: { path: "^src/http/" },
    },
    {
      name: "route-folders-apart",
      severity: "error",
      comment: "Route folders do not import each other: what they share lives in http/.",
      from: { path: "^src/routes/([^/]+)/" },
      to: { path: "^src/routes/", pathNot: "^src/routes/$1/" },
    },
    {
      name: "routes-below-entry-points",
      severity: "error",
      comment: "A route folder never imports an entry point (the queue router, the cron, the app): what a route and a job both do lives below them.",
      from: { path: "^src/routes/" },
      to: { path: above("jobs", "schedule", "app", "index") },
    },
    {
      name: "entry-points-on-top",
      severity: "error",
      comment: "Only index.ts wires the entry points together.",
      from: { path: "^src/", pathNot: "^src/(index|app)\\.ts$" },
      to: { path: "^src/(index|app)\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "^(test|emulators|bench|scripts)/" },
  },
};
