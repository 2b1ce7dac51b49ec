/**
 * LISTEN on a dedicated PostgreSQL connection (a pooled one would be handed to other work and lose the
 * subscription). The connection is re-established with capped backoff; `state(false)` is reported the
 * moment it is lost and `state(true)` only once LISTEN has succeeded again, so a subscriber never trusts
 * notifications that could have been missed.
 */
import pg from 'pg';
import { assertChannelName, type NotificationHandlers, type Subscription } from './db.js';

export interface PgListenerOptions {
  readonly connectionString: string;
  /** Extra server options, e.g. `-c search_path=…` (same as the pool's). */
  readonly options?: string;
  readonly firstRetryMs?: number;
  readonly maxRetryMs?: number;
}

export async function listenPg(settings: PgListenerOptions, channel: string, handlers: NotificationHandlers): Promise<Subscription> {
  assertChannelName(channel);
  const firstRetryMs = settings.firstRetryMs ?? 250;
  const maxRetryMs = settings.maxRetryMs ?? 10_000;
  let closed = false;
  let live: pg.Client | null = null;
  let retryMs = firstRetryMs;
  let timer: NodeJS.Timeout | null = null;

  const report = (state: boolean) => {
    try {
      handlers.state(state);
    } catch {
      // A subscriber's failure must not stop the reconnection loop.
    }
  };

  const retry = () => {
    if (closed || timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      void connect();
    }, retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, maxRetryMs);
  };

  const lost = (client: pg.Client) => {
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (live === client) {
      live = null;
      report(false);
    }
    retry();
  };

  async function connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: settings.connectionString,
      application_name: 'tether-listen',
      ...(settings.options === undefined ? {} : { options: settings.options }),
    });
    let failed = false;
    const fail = () => {
      if (failed) return;
      failed = true;
      lost(client);
    };
    client.on('error', fail);
    client.on('end', fail);
    client.on('notification', (notification) => {
      if (notification.channel === channel) handlers.message(notification.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`listen ${channel}`);
    } catch {
      fail();
      return;
    }
    if (closed) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      return;
    }
    live = client;
    retryMs = firstRetryMs;
    report(true);
  }

  await connect();
  return {
    async close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      const client = live;
      live = null;
      if (client !== null) {
        client.removeAllListeners('end');
        client.removeAllListeners('error');
        client.on('error', () => undefined);
        await client.end().catch(() => undefined);
      }
    },
  };
}
