import http from 'node:http';
import type { Db } from '../../src/store/db.js';
import { PATCH_OP } from './protocol.js';

export interface ScimClient {
  readonly origin: string;
  readonly token: string;
}

/**
 * One keep-alive connection for the timed requests: node:http, not fetch. On this machine fetch (undici)
 * adds 0.3–0.7 ms of its own to every request, which would be measured as Tether's latency.
 */
const AGENT = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One timed SCIM request; the clock stops when the whole body has arrived (parsing is left out). */
function timedPatch(client: ScimClient, path: string, operations: unknown[], headers: Record<string, string> = {}): Promise<{ elapsed: number; status: number }> {
  const body = JSON.stringify({ schemas: [PATCH_OP], Operations: operations });
  return new Promise((done, fail) => {
    const started = performance.now();
    const request = http.request(`${client.origin}/scim/v2${path}`, {
      method: 'PATCH',
      agent: AGENT,
      headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/scim+json', 'content-length': String(Buffer.byteLength(body)), ...headers },
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const elapsed = performance.now() - started;
        const status = response.statusCode ?? 0;
        if (status !== 200 && status !== 204) fail(new Error(`PATCH ${path} answered ${status}: ${Buffer.concat(chunks).toString('utf8').slice(0, 500)}`));
        else done({ elapsed, status });
      });
      response.on('error', fail);
    });
    request.on('error', fail);
    request.end(body);
  });
}

/**
 * A group of `members` people. The people are inserted with SQL (100,000 SCIM POSTs would dominate the
 * run and are not what is measured); the group is created and filled through SCIM, in PATCHes of
 * `batchSize` members, so its memberships are exactly what Tether itself writes.
 */
export async function seedLargeGroup(options: { db: Db; client: ScimClient; sourceId: string; members: number; batchSize?: number }): Promise<{ id: string; peopleMs: number; membersMs: number; batches: number; batchSize: number }> {
  const batchSize = options.batchSize ?? 5000;
  let started = performance.now();
  const people = await options.db.query<{ id: string }>(
    `insert into persons (id, source_id, user_name, display_name, active, attributes, resource, version, created_at, updated_at)
     select gen_random_uuid(), $1, 'member' || n || '@example.com', 'Member ' || n, true, '{}',
            jsonb_build_object('userName', 'member' || n || '@example.com', 'displayName', 'Member ' || n), 1, now(), now()
     from generate_series(1, $2::int) as n returning id`,
    [options.sourceId, options.members],
  );
  await options.db.exec('analyze persons');
  const peopleMs = performance.now() - started;
  const created = await fetch(`${options.client.origin}/scim/v2/Groups`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.client.token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'All staff' }),
  });
  const group = await created.json() as { id?: string };
  if (created.status !== 201 || group.id === undefined) throw new Error(`POST /Groups answered ${created.status}: ${JSON.stringify(group)}`);
  started = performance.now();
  const ids = people.rows.map((row) => row.id);
  let batches = 0;
  for (let index = 0; index < ids.length; index += batchSize) {
    const value = ids.slice(index, index + batchSize).map((id) => ({ value: id }));
    await timedPatch(options.client, `/Groups/${group.id}?excludedAttributes=members`, [{ op: 'add', path: 'members', value }]);
    batches += 1;
  }
  await options.db.exec('analyze memberships');
  return { id: group.id, peopleMs, membersMs: performance.now() - started, batches, batchSize };
}

/**
 * `count` sequential one-member PATCHes on the group, cycling add `members` [{value}] → remove `members`
 * [{value}] → add → remove `members[value eq "id"]`, so every request really changes the membership.
 */
export async function measureGroupPatches(options: { client: ScimClient; groupId: string; memberId: string; count: number; query: string; headers?: Record<string, string> }): Promise<{ all: number[]; add: number[]; remove: number[]; statuses: number[] }> {
  const add: number[] = [];
  const remove: number[] = [];
  const all: number[] = [];
  const statuses = new Set<number>();
  const path = `/Groups/${options.groupId}${options.query}`;
  const member = [{ value: options.memberId }];
  for (let index = 0; index < options.count; index += 1) {
    const step = index % 4;
    const operation = step === 0 || step === 2
      ? { op: 'add', path: 'members', value: member }
      : step === 1 ? { op: 'remove', path: 'members', value: member } : { op: 'remove', path: `members[value eq "${options.memberId}"]` };
    const { elapsed, status } = await timedPatch(options.client, path, [operation], options.headers);
    statuses.add(status);
    (operation.op === 'add' ? add : remove).push(elapsed);
    all.push(elapsed);
  }
  return { all, add, remove, statuses: [...statuses] };
}
