import { pino } from 'pino';
import type { ApplyRequest, Policy, TargetConnector, WorkQueue } from '../../src/app/ports.js';
import type { ChangeContext } from '../../src/app/directory/change-recorder.js';
import { createStore, type Store } from '../../src/store/index.js';
import type { Db } from '../../src/store/db.js';
import { syncPolicy } from '../../src/main/bootstrap.js';
import { parseConfig } from '../../src/config/file.js';

export const silentLogger = pino({ level: 'silent' });

export const POLICY_YAML = `
sources: [{ id: src, kind: scim }]
tools:
  - { id: crm.contacts.read, system: crm, risk: read }
  - { id: crm.contacts.write, system: crm, risk: write }
  - { id: ops.dispatch, system: ops, risk: orchestrate }
grantRules:
  - { id: sales, when: [{ group: Sales }], tools: ["crm.*"] }
  - { id: ops, when: [{ group: Ops }], tools: ["ops.*"] }
ceilings:
  sandbox: { risks: [read] }
`;

/** A store on `db` with the test policy synced into it. */
export async function storeWithPolicy(db: Db): Promise<{ store: Store; policy: Policy }> {
  const store = createStore(db);
  const config = parseConfig(POLICY_YAML, '/tmp/tether-test.yaml');
  const { policy } = await syncPolicy(store, config, new Date());
  return { store, policy };
}

export function scimContext(): ChangeContext {
  return { actor: 'scim_token:test', sourceId: 'src', origin: 'scim', receivedAt: new Date(), sourceTime: null };
}

/** Records what use cases enqueue, for tests that drive the pipeline by hand. */
export class RecordingQueue implements WorkQueue {
  readonly recomputes: string[] = [];
  readonly pushes: { targetId: string; agentId: string; version: number }[] = [];
  async enqueueRecompute(personIds: readonly string[]): Promise<void> {
    this.recomputes.push(...personIds);
  }
  async enqueuePush(jobs: readonly { targetId: string; agentId: string; version: number }[]): Promise<void> {
    this.pushes.push(...jobs);
  }
}

/**
 * An in-process target for pipeline tests (the real webhook connector is exercised end to end against a
 * real HTTP receiver). It can fail on demand to test retries.
 */
export class RecordingTarget implements TargetConnector {
  readonly kind = 'recording';
  readonly applied: ApplyRequest[] = [];
  failNext = 0;
  constructor(readonly id: string) {}
  async apply(request: ApplyRequest): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      const { AppError } = await import('../../src/domain/errors.js');
      throw new AppError('target_unavailable', 'recording target asked to fail');
    }
    this.applied.push(request);
  }
}
