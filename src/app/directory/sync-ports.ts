/**
 * What directory synchronisation (LDAP delta polls and full reconciliations) needs from a directory and
 * from the store. The LDAP connector (connectors/ldap) implements `DirectoryScanner`; src/store implements
 * the transaction ports. Facts are already mapped to Tether's vocabulary: use cases never see LDAP entries.
 */
import type { Environment } from '../../domain/types.js';

/** A person as the directory states it now, keyed by its immutable source id (entryUUID, objectGUID...). */
export interface PersonFacts {
  readonly key: string;
  readonly dn: string;
  readonly userName: string;
  readonly displayName: string | null;
  readonly email: string | null;
  readonly active: boolean;
  /** Flattened attributes grant rules read (department, title...). */
  readonly attributes: Readonly<Record<string, string>>;
  /** The manager's DN (`manager`), mapped to the rule attribute `manager` once that person is mirrored. */
  readonly managerDn: string | null;
  /** When the directory last changed the entry (modifyTimestamp / whenChanged), if known. */
  readonly sourceTime: string | null;
}

/** A group with its direct members as the directory lists them: DNs, and posixGroup memberUid values. */
export interface GroupFacts {
  readonly key: string;
  readonly dn: string;
  readonly name: string;
  readonly memberDns: readonly string[];
  readonly memberUids: readonly string[];
  readonly sourceTime: string | null;
}

/**
 * A service account that should exist as an agent, with the DNs of its sponsor and backup sponsors. The
 * connector has already applied the source's defaults (purpose, environment, requested tools).
 */
export interface AgentFacts {
  readonly key: string;
  readonly dn: string;
  readonly name: string;
  readonly purpose: string;
  readonly environment: Environment;
  readonly requestedTools: readonly string[];
  /** null when the entry names no sponsor: the agent is suspended (nobody is accountable for it). */
  readonly sponsorDn: string | null;
  readonly backupSponsorDns: readonly string[];
  /** false when the account is disabled (locked): the agent is suspended. */
  readonly active: boolean;
  readonly sourceTime: string | null;
}

export type ObjectType = 'person' | 'group' | 'agent';

export type FactsOf<T extends ObjectType> = T extends 'person' ? PersonFacts : T extends 'group' ? GroupFacts : AgentFacts;

/**
 * Opaque delta cursor owned by the connector (a timestamp for OpenLDAP/389-ds; a USN with the domain
 * controller's invocationId for AD). Stored as JSON with the changes it covers.
 */
export type SyncCursor = Readonly<Record<string, string>>;

export interface ScanOptions {
  /** Only entries changed since this cursor (delta poll); null for every entry (full scan). */
  readonly since: SyncCursor | null;
}

/** The directory as the sync use case needs it. Pages stream; nothing holds a whole directory in memory. */
export interface DirectoryScanner {
  /** Binds and reads the root DSE; throws an AppError naming the problem (credentials, TLS, unreachable). */
  check(): Promise<{ readonly server: string }>;
  /** The high-water mark, taken before a scan starts, that becomes the next cursor when the run commits. */
  highWater(): Promise<SyncCursor>;
  /** Whether `cursor` can still serve a delta (AD: same domain controller database, see invocationId). */
  deltaUsable(cursor: SyncCursor): Promise<boolean>;
  /** Changed (or all) entries of one kind, a page at a time. */
  scan<T extends ObjectType>(type: T, options: ScanOptions): AsyncIterable<readonly FactsOf<T>[]>;
  /**
   * Optional: every entry of one kind (a full scan) with its facts hash already computed, e.g. read, mapped
   * and hashed on another thread. The hash must be `factsHash` of the facts; a run asks for the facts of
   * only the entries it stages (on an unchanged directory, none).
   */
  scanHashed?(type: ObjectType): AsyncIterable<HashedPage>;
  /** Immutable keys of every entry in scope, a page at a time: the "mark" half of deletion detection. */
  scanKeys(type: ObjectType): AsyncIterable<readonly string[]>;
  /** Whether this source maps agents from the directory. */
  readonly agentsConfigured: boolean;
  close(): Promise<void>;
}

/** An entry read from the directory whose facts differ from the mirror's (or that is not mirrored yet). */
export interface ChangedEntry {
  readonly key: string;
  readonly mirrored: boolean;
  /** For people: whether the mirrored person is active now (null when not mirrored). */
  readonly active: boolean | null;
  /** Mirrored with the same facts: staged only to be resolved again (fullScanHash), not a change. */
  readonly sameFacts: boolean;
}

/** The staged-facts flag of an entry staged only to be resolved again (ChangedEntry.sameFacts). */
export const RESOLVE_ONLY = 'resolveOnly';

/** An entry of a full scan, hashed where it was read (DirectoryScanner.scanHashed). */
export interface HashedEntry {
  readonly key: string;
  readonly hash: string;
  /** The facts' `active` (people and agents); null for groups. */
  readonly active: boolean | null;
}

/** A page of a full scan with its hashes; the facts themselves only on request. */
export interface HashedPage {
  readonly entries: readonly HashedEntry[];
  /** The facts of some of the page's entries, in the order asked; only until the next page is requested. */
  facts(keys: readonly string[]): Promise<Readonly<Record<string, unknown>>[]>;
}

/** A mirrored entry as the sync store knows it. */
export interface SyncedObject {
  readonly key: string;
  readonly objectId: string;
  readonly dn: string;
  readonly factsHash: string | null;
  /** For people: whether the mirrored person is active now. */
  readonly active: boolean | null;
}

/** Mirrored entries a run did not read from the directory: what its sweep would remove. */
export interface UnseenCounts {
  readonly people: number;
  /** Of those, people active now (deleting them is what the circuit breaker counts). */
  readonly activePeople: number;
  readonly groups: number;
  readonly agents: number;
  /** Of those, agents not retired yet (retiring them is what the agents' breaker counts). */
  readonly liveAgents: number;
}

export interface StagedRow {
  readonly seq: number;
  readonly key: string;
  readonly facts: Readonly<Record<string, unknown>>;
  readonly hash: string;
}

export interface RunCounts {
  readonly seen: number;
  readonly changed: number;
  readonly deleted: number;
  readonly deactivated: number;
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'held' | 'confirmed' | 'discarded' | 'superseded';

export interface SyncRunRecord extends RunCounts {
  readonly id: number;
  readonly sourceId: string;
  readonly mode: 'delta' | 'full';
  readonly trigger: string;
  readonly status: RunStatus;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly population: number | null;
  readonly heldReason: string | null;
  readonly confirmedRemovals: number | null;
  readonly decidedBy: string | null;
  readonly decidedAt: Date | null;
  readonly error: string | null;
}

export interface SyncStateRecord {
  readonly sourceId: string;
  readonly cursor: SyncCursor | null;
  readonly cursorAt: Date | null;
  readonly lastAttemptAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly lastFullAt: Date | null;
  readonly lastError: string | null;
  readonly lastErrorAt: Date | null;
}

export interface SyncStatusRow extends SyncStateRecord {
  /** A run holds the source's lease now. */
  readonly running: boolean;
  readonly lastRun: SyncRunRecord | null;
  readonly heldRun: SyncRunRecord | null;
}
