import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullQueues, eachSponsor, startBullWorkers, type BullQueues, type BullWorkers } from '../../../../jobs/bullmq.js';
import type { DownstreamConnector } from '../../../../src/app/ports.js';
import { AppError } from '../../../../src/domain/errors.js';
import { waitFor } from '../../../support/ports.js';
import { deletePrefix, SHARED_REDIS_URL, uniquePrefix } from '../../../support/redis.js';
import { deliver, MemoryDeliveryStore } from './memory-delivery.js';

/** What a connector's test file provides: the connector against a real (or, for OpenFGA, fake) target. */
export interface ConformanceTarget {
  readonly connector: DownstreamConnector;
  /** Makes the target answer the next `times` calls with a transient (retry) or permanent (reject) failure. */
  failNext(kind: 'transient' | 'permanent', times: number): void;
  close(): Promise<void>;
}

const T = { read: 'crm.contacts.read', write: 'crm.contacts.write', dispatch: 'ops.dispatch' };

/**
 * The one suite every connector passes (docs/targets.md, "Guarantees"): it drives the real delivery use
 * case and, for retries and dead letters, the real BullMQ queues on Redis, against the connector's target.
 */
export function connectorConformance(name: string, setup: () => Promise<ConformanceTarget>): void {
  describe(`${name}: connector conformance`, () => {
    let target: ConformanceTarget;
    let store: MemoryDeliveryStore;
    const read = async (agentId: string) => (await target.connector.read({ agentId, agentName: store.agents.get(agentId)?.name ?? '' }))?.tools ?? [];

    beforeAll(async () => {
      target = await setup();
      store = new MemoryDeliveryStore();
    });
    afterAll(async () => {
      await target?.close();
    });

    it('answers check() and can be read back', async () => {
      expect(target.connector.canRead).toBe(true);
      await expect(target.connector.check()).resolves.toEqual({ detail: expect.any(String) });
    });

    it('reads back exactly what it applied; an unknown agent holds nothing', async () => {
      const agentId = store.addAgent('conformance-readback');
      expect(await read(agentId)).toEqual([]);
      await expect(deliver(store, target.connector, agentId, store.addVersion(agentId, [T.write, T.read]))).resolves.toBe('applied');
      expect(await read(agentId)).toEqual([T.read, T.write]);
    });

    it('re-applying a version changes nothing', async () => {
      const agentId = store.addAgent('conformance-idempotent');
      const version = store.addVersion(agentId, [T.read, T.dispatch]);
      const request = await store.version(agentId, version);
      await deliver(store, target.connector, agentId, version);
      const applyAgain = { agentId, agentName: 'conformance-idempotent', version, sponsorId: request?.sponsorId ?? '', effective: request?.entitlements ?? [], granted: [], revoked: [], reason: 'retry', changeEventId: null };
      await target.connector.apply(applyAgain);
      await target.connector.apply(applyAgain);
      expect(await read(agentId)).toEqual([T.read, T.dispatch].sort());
      await expect(deliver(store, target.connector, agentId, version)).resolves.toBe('already_applied');
    });

    it('ignores versions older than the one the target holds, and undoes an older apply that raced past a newer one', async () => {
      const agentId = store.addAgent('conformance-order');
      const v1 = store.addVersion(agentId, [T.read, T.write]);
      const v2 = store.addVersion(agentId, [T.read]);
      await expect(deliver(store, target.connector, agentId, v2)).resolves.toBe('applied');
      await expect(deliver(store, target.connector, agentId, v1)).resolves.toBe('already_applied');
      expect(await read(agentId)).toEqual([T.read]);
      // v1's job read its view before v2 landed: it applies v1, sees v2 recorded, and puts v2 back.
      store.staleViews.set(agentId, { agentName: 'conformance-order', currentVersion: v1, appliedVersion: 0 });
      await expect(deliver(store, target.connector, agentId, v1)).resolves.toBe('superseded');
      expect(await read(agentId)).toEqual([T.read]);
    });

    it('revokes everything when the computed version is empty', async () => {
      const agentId = store.addAgent('conformance-revoke');
      await deliver(store, target.connector, agentId, store.addVersion(agentId, [T.read, T.write, T.dispatch]));
      expect(await read(agentId)).toHaveLength(3);
      await expect(deliver(store, target.connector, agentId, store.addVersion(agentId, []))).resolves.toBe('applied');
      expect(await read(agentId)).toEqual([]);
    });

    it('maps a transient failure to a retryable error and a permanent one to a non-retryable error', async () => {
      const agentId = store.addAgent('conformance-errors');
      const version = store.addVersion(agentId, [T.read]);
      target.failNext('transient', 1);
      const transient = await deliver(store, target.connector, agentId, version).catch((error: unknown) => error);
      expect(transient).toBeInstanceOf(AppError);
      expect((transient as AppError).retryable).toBe(true);
      target.failNext('permanent', 1);
      const permanent = await deliver(store, target.connector, agentId, version).catch((error: unknown) => error);
      expect(permanent).toBeInstanceOf(AppError);
      expect((permanent as AppError).retryable).toBe(false);
      expect(store.applied(agentId, target.connector.id)).toBe(0);
    });

    describe('through the BullMQ push queue', () => {
      const prefix = uniquePrefix('conformance');
      let queues: BullQueues;
      let workers: BullWorkers;
      const settings = () => ({ redisUrl: SHARED_REDIS_URL, prefix, targets: [{ id: target.connector.id, maxAttempts: 4, backoffMs: 20, concurrency: 2 }] });

      beforeAll(() => {
        queues = createBullQueues(settings());
        workers = startBullWorkers({ ...settings(), recomputeConcurrency: 1 }, {
          recompute: eachSponsor(async () => undefined),
          push: (targetId, agentId, version) => deliver(store, target.connector, agentId, version),
        }, () => undefined);
      });
      afterAll(async () => {
        await workers?.close();
        await queues?.close();
        await deletePrefix(SHARED_REDIS_URL, prefix);
      });

      it('retries a transient failure until the target holds the version', async () => {
        const agentId = store.addAgent('conformance-retry');
        const version = store.addVersion(agentId, [T.write]);
        target.failNext('transient', 2);
        await queues.enqueuePush([{ targetId: target.connector.id, agentId, version }]);
        await waitFor(async () => store.applied(agentId, target.connector.id) === version, { timeoutMs: 15_000, what: 'retried delivery' });
        expect(await read(agentId)).toEqual([T.write]);
      });

      it('dead-letters a permanent failure with its error, and a retry of the dead letter delivers it', async () => {
        const agentId = store.addAgent('conformance-dead');
        const version = store.addVersion(agentId, [T.dispatch]);
        target.failNext('permanent', 1);
        await queues.enqueuePush([{ targetId: target.connector.id, agentId, version }]);
        const dead = await waitFor(async () => (await queues.deadLetters(target.connector.id, 0, 50)).items.find((item) => item.agentId === agentId), { timeoutMs: 15_000, what: 'dead letter' });
        expect(dead).toMatchObject({ version, attempts: 1, lastError: expect.stringContaining('target_rejected') });
        expect(store.applied(agentId, target.connector.id)).toBe(0);
        await expect(queues.retryDeadLetter(target.connector.id, dead.jobId)).resolves.toBe(true);
        await waitFor(async () => store.applied(agentId, target.connector.id) === version, { timeoutMs: 15_000, what: 'delivery after retry' });
        expect(await read(agentId)).toEqual([T.dispatch]);
        expect((await queues.deadLetters(target.connector.id, 0, 50)).items.find((item) => item.agentId === agentId)).toBeUndefined();
      });
    });
  });
}
