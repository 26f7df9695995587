// Deterministic seed data: realistic names, a few hundred people per system, and some
// e-mails that differ from another person's only in case (the matching rule's hard case).

const FIRST = [
  "Ada", "Grace", "Alan", "Katherine", "Dorothy", "Mary", "Edsger", "Barbara", "Donald", "Frances",
  "Margaret", "Tim", "Radia", "Linus", "Hedy", "John", "Annie", "Claude", "Sophie", "Ken",
  "Dennis", "Bjarne", "Guido", "James", "Anita", "Shafi", "Leslie", "Fernando", "Jean", "Karen",
  "Priya", "Arjun", "Mei", "Hiroshi", "Amara", "Kwame", "Lucía", "Mateo", "Ingrid", "Lars",
];
const LAST = [
  "Lovelace", "Hopper", "Turing", "Johnson", "Vaughan", "Jackson", "Dijkstra", "Liskov", "Knuth", "Allen",
  "Hamilton", "Berners-Lee", "Perlman", "Torvalds", "Lamarr", "Backus", "Easley", "Shannon", "Wilson", "Thompson",
  "Ritchie", "Stroustrup", "van Rossum", "Gosling", "Borg", "Goldwasser", "Lamport", "Corbató", "Sammet", "Spärck Jones",
  "Sharma", "Iyer", "Chen", "Tanaka", "Okafor", "Mensah", "García", "Fernández", "Larsen", "Nilsson",
];
export const DEPARTMENTS = ["Engineering", "Sales", "Support", "Finance", "People", "Marketing"];
export const DESIGNATIONS = ["Engineer", "Manager", "Analyst", "Director", "Associate"];
const LOCATIONS = ["London", "Chennai", "Austin", "Berlin", "Tokyo"];

export interface SeedPerson {
  index: number;
  firstName: string;
  lastName: string;
  email: string;
  department: string;
  designation: string;
  location: string;
  mobile: string;
}

function slug(s: string): string {
  return s
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "");
}

/**
 * `count` people; every 25th person's e-mail is the previous person's with different
 * case (e.g. `Ada.Lovelace@…` next to `ada.lovelace@…`).
 */
export function people(count: number, domain: string): SeedPerson[] {
  const out: SeedPerson[] = [];
  for (let i = 0; i < count; i++) {
    const firstName = FIRST[i % FIRST.length]!;
    const lastName = LAST[(i * 7 + Math.floor(i / FIRST.length)) % LAST.length]!;
    let email = `${slug(firstName)}.${slug(lastName)}${i >= FIRST.length ? i : ""}@${domain}`;
    if (i % 25 === 24 && out.length) {
      const prev = out[out.length - 1]!.email;
      email = prev.charAt(0).toUpperCase() + prev.slice(1).replace(/\.(\w)/, (_, ch: string) => `.${ch.toUpperCase()}`);
    }
    out.push({
      index: i,
      firstName,
      lastName,
      email,
      department: DEPARTMENTS[i % DEPARTMENTS.length]!,
      designation: DESIGNATIONS[i % DESIGNATIONS.length]!,
      location: LOCATIONS[i % LOCATIONS.length]!,
      mobile: `+44 7700 9${String(i).padStart(5, "0")}`,
    });
  }
  return out;
}

/** A small deterministic PRNG (mulberry32), so that fault rates replay the same way. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
