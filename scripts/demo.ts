/**
 * `npm run demo`: plays the mission in miniature against a running Tether (TETHER_URL, default
 * http://127.0.0.1:8080) and prints each step with its measured propagation time:
 * an IdP pushes a user and a group over SCIM, an admin registers an agent, a webhook receiver gets the
 * signed entitlements; removal from the group and deactivation revoke them.
 *
 * Tokens: TETHER_ADMIN_TOKEN / TETHER_SCIM_TOKEN, else TETHER_BOOTSTRAP_ADMIN_TOKEN / _SCIM_TOKEN, else
 * the first-run file ./data/credentials.json that `npm start` writes.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { Webhook } from 'standardwebhooks';

const BASE = process.env['TETHER_URL'] ?? 'http://127.0.0.1:8080';
const RECEIVER_PORT = Number(process.env['DEMO_RECEIVER_PORT'] ?? 9797);
const secret = readFileSync(resolve(import.meta.dirname, '../examples/demo-webhook.secret'), 'utf8').trim();

interface Delivery { at: number; data: { agentId: string; version: number; effective: { toolId: string; provenance: { ruleId: string; via: { groupName?: string } } }[]; granted: string[]; revoked: string[]; reason: string } }

function tokens(): { admin: string; scim: string } {
  const admin = process.env['TETHER_ADMIN_TOKEN'] ?? process.env['TETHER_BOOTSTRAP_ADMIN_TOKEN'];
  const scim = process.env['TETHER_SCIM_TOKEN'] ?? process.env['TETHER_BOOTSTRAP_SCIM_TOKEN'];
  if (admin !== undefined && scim !== undefined) return { admin, scim };
  const file = resolve(process.env['TETHER_DATA_DIR'] ?? './data', 'credentials.json');
  try {
    const credentials = JSON.parse(readFileSync(file, 'utf8')) as { adminToken: string; scimToken: string };
    return { admin: admin ?? credentials.adminToken, scim: scim ?? credentials.scimToken };
  } catch {
    console.error(`No tokens: set TETHER_ADMIN_TOKEN and TETHER_SCIM_TOKEN, or run \`npm start\` first (it writes ${file}).`);
    process.exit(2);
  }
}

const { admin, scim } = tokens();
const deliveries: Delivery[] = [];
const verifier = new Webhook(secret);

async function call(path: string, method: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  let response: Response;
  try {
    response = await fetch(`${BASE}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    console.error(`Cannot reach Tether at ${BASE}. Start it first with \`npm start\` (or set TETHER_URL).`);
    process.exit(2);
  }
  const text = await response.text();
  const parsed: unknown = text === '' ? null : JSON.parse(text);
  if (response.status >= 400) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  return { status: response.status, body: parsed };
}

async function waitForDelivery(agentId: string, minVersion: number, since: number): Promise<Delivery> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = deliveries.find((delivery) => delivery.data.agentId === agentId && delivery.data.version >= minVersion);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no webhook for version ${minVersion} within 15 s (is the demo-webhook target in your tether.yaml?)`);
    await new Promise((done) => setTimeout(done, 2));
  }
  void since;
}

const patchOp = (operations: unknown[]) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations });
const tools = (delivery: Delivery) => (delivery.data.effective.length === 0 ? '(none)' : delivery.data.effective.map((entitlement) => entitlement.toolId).join(', '));

async function main(): Promise<void> {
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        const payload = verifier.verify(Buffer.concat(chunks).toString('utf8'), {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        }) as { data: Delivery['data'] };
        deliveries.push({ at: Date.now(), data: payload.data });
        response.writeHead(204).end();
      } catch {
        console.error('  ! webhook with an invalid signature rejected');
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((done, fail) => {
    receiver.once('error', fail);
    receiver.listen(RECEIVER_PORT, '127.0.0.1', done);
  });
  console.log(`Webhook receiver listening on http://127.0.0.1:${RECEIVER_PORT}/tether (verifying Standard Webhooks signatures)\n`);

  const run = Date.now().toString(36);
  console.log('1. The identity provider pushes a user and the Sales group over SCIM');
  const user = await call('/scim/v2/Users', 'POST', scim, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `dana.${run}@example.com`, active: true, name: { givenName: 'Dana', familyName: 'Demo' } });
  const existing = await call(`/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "Sales"')}&excludedAttributes=members`, 'GET', scim);
  const groupId: string = existing.body.totalResults > 0
    ? existing.body.Resources[0].id
    : (await call('/scim/v2/Groups', 'POST', scim, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Sales' })).body.id;
  await call(`/scim/v2/Groups/${groupId}`, 'PATCH', scim, patchOp([{ op: 'add', path: 'members', value: [{ value: user.body.id }] }]));
  console.log(`   user ${user.body.userName} (${user.body.id}) is a member of Sales\n`);

  console.log('2. An admin registers an agent sponsored by that user');
  let started = Date.now();
  const agent = await call('/api/v1/agents', 'POST', admin, {
    name: `pipeline-bot-${run}`, purpose: 'Keeps the sales pipeline tidy', environment: 'production',
    sponsor: { id: user.body.id }, requestedTools: ['crm.contacts.read', 'crm.contacts.write', 'finance.invoices.read'],
    delegation: { approver: 'cio@example.com', justification: 'Demo' },
  });
  let delivery = await waitForDelivery(agent.body.id, 1, started);
  console.log(`   webhook v${delivery.data.version} after ${delivery.at - started} ms: effective = ${tools(delivery)}`);
  console.log(`   why crm.contacts.write? rule "${delivery.data.effective[0]?.provenance.ruleId}" via group "${delivery.data.effective[0]?.provenance.via.groupName}"`);
  const denied = (await call(`/api/v1/agents/${agent.body.id}`, 'GET', admin)).body.denied as { toolId: string; reason: string }[];
  console.log(`   denied: ${denied.map((denial) => `${denial.toolId} (${denial.reason})`).join(', ')}\n`);

  console.log('3. Mover: the sponsor is removed from Sales');
  started = Date.now();
  await call(`/scim/v2/Groups/${groupId}`, 'PATCH', scim, patchOp([{ op: 'remove', path: `members[value eq "${user.body.id}"]` }]));
  delivery = await waitForDelivery(agent.body.id, delivery.data.version + 1, started);
  console.log(`   webhook v${delivery.data.version} after ${delivery.at - started} ms: revoked = ${delivery.data.revoked.join(', ')}; effective = ${tools(delivery)}\n`);

  console.log('4. The sponsor rejoins Sales');
  started = Date.now();
  await call(`/scim/v2/Groups/${groupId}`, 'PATCH', scim, patchOp([{ op: 'add', path: 'members', value: [{ value: user.body.id }] }]));
  delivery = await waitForDelivery(agent.body.id, delivery.data.version + 1, started);
  console.log(`   webhook v${delivery.data.version} after ${delivery.at - started} ms: granted = ${delivery.data.granted.join(', ')}`);
  // Growth of a write tool is not automatic (design: asymmetric propagation): it waits for confirmation.
  const pending = (await call(`/api/v1/agents/${agent.body.id}/pending-grants`, 'GET', admin)).body.items as { id: string; toolId: string; status: string }[];
  for (const grant of pending.filter((item) => item.status === 'pending')) {
    console.log(`   pending confirmation: ${grant.toolId} (write growth) — an admin confirms it:`);
    started = Date.now();
    await call(`/api/v1/agents/${agent.body.id}/pending-grants/${grant.id}/confirm`, 'POST', admin, {});
    delivery = await waitForDelivery(agent.body.id, delivery.data.version + 1, started);
    console.log(`   webhook v${delivery.data.version} after ${delivery.at - started} ms: granted = ${delivery.data.granted.join(', ')}`);
  }
  console.log('');

  console.log('5. Leaver: the identity provider deactivates the sponsor (active: false)');
  started = Date.now();
  await call(`/scim/v2/Users/${user.body.id}`, 'PATCH', scim, patchOp([{ op: 'replace', path: 'active', value: false }]));
  delivery = await waitForDelivery(agent.body.id, delivery.data.version + 1, started);
  console.log(`   webhook v${delivery.data.version} after ${delivery.at - started} ms: revoked = ${delivery.data.revoked.join(', ')}; reason = ${delivery.data.reason}\n`);

  const events = (await call(`/api/v1/change-events?limit=3`, 'GET', admin)).body.items as { kind: string; latencyMs: { commit: number; compute: number | null; lastApplied: number | null } }[];
  console.log('Latest change events (ms from receipt: commit / compute / applied):');
  for (const event of events) console.log(`   ${event.kind.padEnd(16)} ${event.latencyMs.commit} / ${event.latencyMs.compute ?? '-'} / ${event.latencyMs.lastApplied ?? '-'}`);
  receiver.close();
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
