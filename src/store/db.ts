/**
 * One small interface over PostgreSQL, served either by a pg Pool (DATABASE_URL) or by embedded PGlite.
 * Everything above the store speaks only this interface, so both run the same SQL and migrations.
 */
export interface QueryResult<Row> {
  readonly rows: Row[];
  readonly rowCount: number;
}

export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  /**
   * Subscribes to a NOTIFY channel (a lower-case identifier). `state` reports whether notifications can
   * currently arrive: false until subscribed and whenever the connection is lost (it reconnects by itself);
   * a caller that caches on the strength of notifications must stop trusting its cache while it is false.
   */
  listen(channel: string, handlers: NotificationHandlers): Promise<Subscription>;
  close(): Promise<void>;
}

export interface NotificationHandlers {
  message(payload: string): void;
  state(live: boolean): void;
}

export interface Subscription {
  close(): Promise<void>;
}

/** Channel names are interpolated into LISTEN: only plain identifiers are accepted. */
export function assertChannelName(channel: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new RangeError(`invalid notification channel name: ${channel}`);
}
