/**
 * A generated directory for bench/ldap: `people` inetOrgPerson entries with the attributes an HR-fed
 * OpenLDAP usually carries, and `groups` groupOfNames whose sizes follow a long tail (a handful of
 * company-wide groups of several thousand members, most groups a few dozen, the smallest 3). Deterministic:
 * the same counts give the same LDIF, byte for byte.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const PEOPLE_BASE = 'ou=people,dc=example,dc=org';
export const GROUPS_BASE = 'ou=groups,dc=example,dc=org';

const FIRST = ['Ada', 'Bilal', 'Chen', 'Dana', 'Emeka', 'Fatima', 'Giulia', 'Hiro', 'Ines', 'Jonas', 'Kavya', 'Liam', 'Maria', 'Nikolai', 'Olga', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tariq', 'Uma', 'Viktor', 'Wei', 'Ximena', 'Yusuf', 'Zoe'];
const LAST = ['Adams', 'Berg', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Hansen', 'Ivanova', 'Jensen', 'Kowalski', 'López', 'Müller', 'Nakamura', 'Okafor', 'Petrov', 'Quinn', 'Rossi', 'Schmidt', 'Tanaka', 'Ueda', 'Vargas', 'Weber', 'Xu', 'Yilmaz', 'Zhang'];
const TITLES = ['Engineer', 'Senior Engineer', 'Staff Engineer', 'Account Executive', 'Sales Manager', 'Support Specialist', 'Analyst', 'Designer', 'Product Manager', 'Recruiter', 'Accountant', 'Legal Counsel', 'Director', 'Vice President'];
const CITIES = ['Berlin', 'Lisbon', 'Toronto', 'Austin', 'Singapore', 'Nairobi', 'Warsaw', 'Osaka'];
export const DEPARTMENTS = 40;

/** A small deterministic PRNG (mulberry32): the benchmark directory is the same on every run. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const uidOf = (index: number) => `u${String(index).padStart(6, '0')}`;
export const departmentOf = (index: number) => `D${String(index % DEPARTMENTS).padStart(3, '0')}`;

/** Values outside printable ASCII are base64-encoded (`attr:: …`), as LDIF requires. */
function line(attribute: string, value: string): string {
  return /^[\x20-\x7e]*$/.test(value) && !/^[ :<]/.test(value) ? `${attribute}: ${value}\n` : `${attribute}:: ${Buffer.from(value, 'utf8').toString('base64')}\n`;
}

/** Group sizes: Zipf-like by rank (6,000 / rank^0.9, ±50% jitter), never below 3 nor above the population. */
export function groupSizes(groups: number, people: number, random: () => number): number[] {
  return Array.from({ length: groups }, (_, rank) => {
    const size = Math.round((6000 / (rank + 1) ** 0.9) * (0.5 + random()));
    return Math.min(people, Math.max(3, size));
  });
}

export interface GeneratedDirectory {
  readonly people: number;
  readonly groups: number;
  readonly memberships: number;
  readonly largestGroup: number;
  readonly smallestGroup: number;
  readonly bytes: number;
}

/** Writes the LDIF to `path` (streamed: 100,000 people are tens of MB). */
export async function writeDirectoryLdif(path: string, people: number, groups: number): Promise<GeneratedDirectory> {
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (chunk: string) => {
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  };
  const random = prng(42);
  // Entries last changed yesterday, as in a directory that is not being bulk-loaded right now (slapadd
  // keeps operational attributes it is given): otherwise every entry would fall inside a delta poll's
  // clock-skew window (clockSkewSeconds) for the first minute, and the one-change polls would re-read all.
  const yesterday = `${new Date(Date.now() - 86_400_000).toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;
  const stamped = `createTimestamp: ${yesterday}\nmodifyTimestamp: ${yesterday}\n`;
  for (let index = 0; index < people; index += 1) {
    const uid = uidOf(index);
    const given = FIRST[index % FIRST.length]!;
    const family = LAST[Math.floor(index / FIRST.length) % LAST.length]!;
    const manager = index < 10 ? null : uidOf(Math.floor(random() * Math.min(index, 5000)));
    await write([
      `dn: uid=${uid},${PEOPLE_BASE}\n`,
      'objectClass: inetOrgPerson\n',
      `uid: ${uid}\n`,
      line('cn', `${given} ${family} ${index}`),
      line('givenName', given),
      line('sn', family),
      line('displayName', `${given} ${family}`),
      `mail: ${uid}@example.org\n`,
      `employeeNumber: ${100000 + index}\n`,
      `employeeType: ${random() < 0.9 ? 'employee' : 'contractor'}\n`,
      `departmentNumber: ${departmentOf(index)}\n`,
      line('title', TITLES[Math.floor(random() * TITLES.length)]!),
      'o: Example\n',
      line('l', CITIES[index % CITIES.length]!),
      `telephoneNumber: +1 555 ${String(index % 10000).padStart(4, '0')}\n`,
      ...(manager === null ? [] : [`manager: uid=${manager},${PEOPLE_BASE}\n`]),
      stamped,
      '\n',
    ].join(''));
  }
  const sizes = groupSizes(groups, people, random);
  const actual: number[] = [];
  for (let index = 0; index < groups; index += 1) {
    // Members spread over the population: any start, an odd stride (duplicates from a stride sharing a
    // factor with the population are dropped).
    const start = Math.floor(random() * people);
    const stride = 1 + 2 * Math.floor(random() * 50);
    const members = new Set<string>();
    for (let member = 0; member < sizes[index]!; member += 1) members.add(`member: uid=${uidOf((start + member * stride) % people)},${PEOPLE_BASE}\n`);
    actual.push(members.size);
    const cn = `group-${String(index).padStart(4, '0')}`;
    await write(`dn: cn=${cn},${GROUPS_BASE}\nobjectClass: groupOfNames\ncn: ${cn}\ndescription: Benchmark group ${index} (${members.size} members)\n${[...members].join('')}${stamped}\n`);
  }
  out.end();
  await once(out, 'finish');
  return { people, groups, memberships: actual.reduce((sum, size) => sum + size, 0), largestGroup: Math.max(...actual), smallestGroup: Math.min(...actual), bytes };
}
