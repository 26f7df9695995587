import { DEPARTMENTS, people, prng } from "./seed";

// The emulators keep their whole world in memory: `wrangler dev` (npm start) and the
// test run each serve it from one isolate. `/_emulator/reset` starts it anew.

export type Record_ = Record<string, unknown> & { id: string };

/** Zoho data centres served by the emulator, each under /zoho/{id}/… */
export const ZOHO_DCS = ["us", "eu"] as const;
export type ZohoDc = (typeof ZOHO_DCS)[number];

export interface ZohoAccount {
  email: string;
  dc: ZohoDc;
  zuid: string;
}

export interface ZohoGrant {
  code: string;
  dc: ZohoDc;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  account: string;
  /** access_type=offline: only then is a refresh token given. */
  offline: boolean;
  expiresAt: number;
  used: boolean;
}

export interface ZohoRefreshToken {
  token: string;
  dc: ZohoDc;
  clientId: string;
  scopes: string[];
  account: string;
  revoked: boolean;
  /** When each access token was minted from it (the 10 per 10 minutes limit). */
  minted: number[];
}

export interface ZohoAccessToken {
  token: string;
  dc: ZohoDc;
  scopes: string[];
  account: string;
  refreshToken: string | null;
  expiresAt: number;
  revoked: boolean;
}

export interface CrmOrg {
  id: string;
  companyName: string;
  modules: Map<string, Map<string, Record_>>;
  users: Map<string, Record_>;
}

export interface ConnectState {
  networks: { id: string; name: string; url: string; isDefault: boolean }[];
  members: Map<string, { zuid: string; id: string; name: string; emailId: string; role: "MEMBER" | "ADMIN"; workLocation: string; mobile: string }[]>;
  /** Open invitations by network: who, to which groups, since when. */
  invited: Map<string, { email: string; partitionIds: string[]; at: number; sends: number }[]>;
  groups: Map<string, { partitionId: string; name: string; members: Set<string> }[]>;
}

export interface PeopleThrottle {
  perMinute: number;
  lockMs: number;
  lockedUntil: number;
  calls: number[];
  /** Answers of 7209 (locked) so far. */
  locks: number;
  /** Each getRecords answered: its query and how many records it returned. */
  served: { query: Record<string, string>; returned: number; at: number }[];
}

export interface PeopleEmployee {
  recordId: string;
  modifiedTime: number;
  fields: Record<string, string>;
}

export interface MsGrant {
  code: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  tenant: string;
  user: string;
  codeChallenge: string | null;
  expiresAt: number;
  used: boolean;
}

export interface MsToken {
  token: string;
  kind: "access" | "refresh";
  clientId: string;
  scopes: string[];
  user: string;
  expiresAt: number;
  revoked: boolean;
}

/** A Graph object with the change sequence number used by delta queries. */
export interface GraphItem {
  id: string;
  seq: number;
  removed?: "changed" | "deleted";
  data: Record<string, unknown>;
}

export interface MsState {
  tenantId: string;
  seq: number;
  users: Map<string, GraphItem>;
  /** userId → folderId → folder; contacts and events keyed by their container. */
  contactFolders: Map<string, Map<string, GraphItem>>;
  contacts: Map<string, Map<string, GraphItem>>;
  calendars: Map<string, Map<string, GraphItem>>;
  events: Map<string, Map<string, GraphItem>>;
}

export interface Faults {
  /** Which services the faults apply to: `zoho-accounts`, `zoho-crm`, `zoho-connect`, `zoho-people`, `microsoft-login`, `microsoft-graph`; empty = all. */
  services: string[];
  /** Which HTTP methods the faults apply to (e.g. `["DELETE"]`); empty = all. */
  methods: string[];
  latencyMs: number;
  /** Fraction of requests answered 500/503 without any effect. */
  failureRate: number;
  /** Fraction of writes that are applied but answered with a 500 or a dropped connection. */
  applyThenFail: { rate: number; mode: "500" | "drop" };
  /** At most `limit` requests per `windowSeconds` per service; past it 429. */
  rateLimit: { limit: number; windowSeconds: number } | null;
  /** At most this many requests in flight per service; past it 429. */
  concurrency: number | null;
  /** Seconds a 429 tells the caller to wait. */
  retryAfterSeconds: number;
}

export const NO_FAULTS: Faults = {
  services: [],
  methods: [],
  latencyMs: 0,
  failureRate: 0,
  applyThenFail: { rate: 0, mode: "500" },
  rateLimit: null,
  concurrency: null,
  retryAfterSeconds: 1,
};

export interface Settings {
  /** How long a Zoho grant code can be exchanged (2 minutes per the Accounts page). */
  codeTtlSeconds: number;
  /** Access token lifetime in seconds (Zoho 3600, Microsoft 3599). */
  accessTokenSeconds: number;
  /** Access tokens a Zoho refresh token may mint per 10 minutes. */
  zohoMintLimit: number;
  /** HTTP status of Zoho's throttle answer (one Zoho page says 200, public code 400). */
  zohoThrottleStatus: 200 | 400;
  /** Whether Zoho CRM's duplicate check on e-mail ignores case. */
  crmDuplicateCheckIgnoresCase: boolean;
  /** The connected user lost the right to write records: every CRM write is 403 NO_PERMISSION. */
  crmWritesForbidden: boolean;
}

export const DEFAULT_SETTINGS: Settings = {
  codeTtlSeconds: 120,
  accessTokenSeconds: 3600,
  zohoMintLimit: 10,
  zohoThrottleStatus: 400,
  crmDuplicateCheckIgnoresCase: true,
  crmWritesForbidden: false,
};

export interface World {
  /** How far tests moved the emulator's clock ahead (`POST /_emulator/clock`); what counts time reads `worldNow()`. */
  clockOffsetMs: number;
  settings: Settings;
  faults: Faults;
  random: () => number;
  nextId: number;
  calls: Map<string, number>;
  inFlight: Map<string, number>;
  windows: Map<string, { start: number; count: number }>;
  zoho: {
    accounts: ZohoAccount[];
    grants: Map<string, ZohoGrant>;
    refreshTokens: Map<string, ZohoRefreshToken>;
    accessTokens: Map<string, ZohoAccessToken>;
    orgs: Record<ZohoDc, CrmOrg>;
    connect: ConnectState;
    people: PeopleEmployee[];
    /** Zoho People's throttle: requests a minute (sliding), then a lock; every getRecords served. */
    peopleThrottle: PeopleThrottle;
  };
  microsoft: MsState & {
    grants: Map<string, MsGrant>;
    tokens: Map<string, MsToken>;
  };
}

export let world = undefined as unknown as World;

/** The emulator's time: the wall clock, plus however far tests moved it. */
export function worldNow(): number {
  return Date.now() + world.clockOffsetMs;
}

/** Starts the world anew, with or without the seeded people. */
export function reset(seed = true): void {
  world = fresh(seed);
}

/** A numeric id like Zoho's 19-digit record ids. */
/** Zoho's timestamp form: ISO 8601 with an offset and no fraction, e.g. 2026-11-21T10:00:00+00:00. */
export function zohoTime(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

export function zohoId(): string {
  world.nextId += 1;
  return `5725767000${String(world.nextId).padStart(9, "0")}`;
}

/** A GUID-shaped id for Graph objects. */
export function guid(): string {
  world.nextId += 1;
  const n = world.nextId.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${n}`;
}

function fresh(seed: boolean): World {
  const w: World = {
    clockOffsetMs: 0,
    settings: { ...DEFAULT_SETTINGS },
    faults: { ...NO_FAULTS },
    random: prng(42),
    nextId: 0,
    calls: new Map(),
    inFlight: new Map(),
    windows: new Map(),
    zoho: {
      accounts: [
        { email: "admin@acme.example", dc: "us", zuid: "10000001" },
        { email: "admin@acme-eu.example", dc: "eu", zuid: "20000001" },
      ],
      grants: new Map(),
      refreshTokens: new Map(),
      accessTokens: new Map(),
      orgs: {
        us: { id: "700000001", companyName: "Acme Inc.", modules: new Map(), users: new Map() },
        eu: { id: "800000001", companyName: "Acme Europe GmbH", modules: new Map(), users: new Map() },
      },
      connect: {
        networks: [{ id: "105000000001", name: "Acme Connect", url: "acme", isDefault: true }],
        members: new Map(),
        invited: new Map(),
        groups: new Map(),
      },
      people: [],
      peopleThrottle: { perMinute: 400, lockMs: 5 * 60_000, lockedUntil: 0, calls: [], locks: 0, served: [] },
    },
    microsoft: {
      tenantId: "11111111-2222-4333-8444-555555555555",
      seq: 0,
      users: new Map(),
      contactFolders: new Map(),
      contacts: new Map(),
      calendars: new Map(),
      events: new Map(),
      grants: new Map(),
      tokens: new Map(),
    },
  };
  world = w;
  for (const org of Object.values(w.zoho.orgs)) {
    for (const m of ["Contacts", "Leads", "Events", "Accounts"]) org.modules.set(m, new Map());
  }
  if (seed) seedWorld(w);
  return w;
}

function seedWorld(w: World): void {
  const now = Date.parse("2026-11-01T09:00:00Z");
  // Zoho CRM (US org): 300 contacts, 40 leads, 60 users.
  const us = w.zoho.orgs.us;
  const contacts = us.modules.get("Contacts")!;
  for (const p of people(300, "customers.example")) {
    const id = zohoId();
    contacts.set(id, {
      id,
      First_Name: p.firstName,
      Last_Name: p.lastName,
      Email: p.email,
      Department: p.department,
      Mobile: p.mobile,
      Created_Time: zohoTime(now),
      Modified_Time: zohoTime(now),
    });
  }
  const leads = us.modules.get("Leads")!;
  for (const p of people(40, "prospects.example")) {
    const id = zohoId();
    leads.set(id, { id, First_Name: p.firstName, Last_Name: p.lastName, Email: p.email, Company: "Prospect Ltd", Created_Time: zohoTime(now), Modified_Time: zohoTime(now) });
  }
  for (const p of people(60, "acme.example")) {
    const id = zohoId();
    us.users.set(id, {
      id,
      first_name: p.firstName,
      last_name: p.lastName,
      full_name: `${p.firstName} ${p.lastName}`,
      email: p.email,
      role: { name: p.index === 0 ? "CEO" : "Manager", id: "5725767000000026005" },
      profile: { name: p.index === 0 ? "Administrator" : "Standard", id: "5725767000000026011" },
      status: "active",
      confirm: true,
      zuid: String(30000000 + p.index),
      created_time: zohoTime(now),
      Modified_Time: zohoTime(now),
    });
  }
  // Zoho Connect: 50 members of the default network, one group per department.
  const scope = w.zoho.connect.networks[0]!.id;
  w.zoho.connect.members.set(
    scope,
    people(50, "acme.example").map((p) => ({
      zuid: String(30000000 + p.index),
      id: String(40000000 + p.index),
      name: `${p.firstName} ${p.lastName}`,
      emailId: p.email,
      role: p.index === 0 ? ("ADMIN" as const) : ("MEMBER" as const),
      workLocation: p.location,
      mobile: p.mobile,
    })),
  );
  w.zoho.connect.groups.set(
    scope,
    DEPARTMENTS.map((d, i) => ({ partitionId: String(106000000001 + i), name: d, members: new Set<string>() })),
  );
  // Zoho People: 250 employees.
  w.zoho.people = people(250, "acme.example").map((p) => ({
    recordId: `4127620000${String(p.index).padStart(8, "0")}`,
    modifiedTime: now + p.index * 60_000,
    fields: {
      EmployeeID: `E${String(p.index + 1).padStart(4, "0")}`,
      FirstName: p.firstName,
      LastName: p.lastName,
      EmailID: p.email,
      Zoho_ID: String(30000000 + p.index),
      Department: p.department,
      Designation: p.designation,
      Reporting_To: p.index === 0 ? "" : "Ada Lovelace E0001",
      "Reporting_To.MailID": p.index === 0 ? "" : "ada.lovelace@acme.example",
      Work_location: p.location,
      Seating_Location: `Floor ${(p.index % 5) + 1}`,
      Date_of_birth: `${String((p.index % 28) + 1).padStart(2, "0")}-Jan-19${70 + (p.index % 30)}`,
      Mobile: p.mobile,
      Work_phone: `+44 20 7946 ${String(p.index).padStart(4, "0")}`,
      Extension: String(1000 + p.index),
      Nick_Name: "",
      Gender: p.index % 2 ? "Female" : "Male",
      Employeestatus: p.index % 50 === 49 ? "Resigned" : "Active",
    },
  }));
  // Microsoft 365: 200 directory users.
  for (const p of people(200, "acme.onmicrosoft.example")) {
    const id = guid();
    w.microsoft.seq += 1;
    w.microsoft.users.set(id, {
      id,
      seq: w.microsoft.seq,
      data: {
        id,
        displayName: `${p.firstName} ${p.lastName}`,
        givenName: p.firstName,
        surname: p.lastName,
        mail: p.email,
        userPrincipalName: p.email.toLowerCase(),
        department: p.department,
        jobTitle: p.designation,
        mobilePhone: p.mobile,
        businessPhones: [],
        officeLocation: p.location,
        accountEnabled: p.index % 40 !== 39,
      },
    });
  }
}

reset(true);
