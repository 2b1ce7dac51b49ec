/**
 * Directory read queries, as the SCIM transport needs them. The filter is a small AST that the SCIM
 * transport parses into and the store translates to SQL, so neither depends on the other.
 */
import type { GroupMember, GroupRecord, PersonRecord } from '../records.js';

/** A group a User belongs to: `direct` as a member, `indirect` through a group that is one (RFC 7643 §4.1.2). */
export interface UserGroup {
  readonly id: string;
  readonly display: string;
  readonly type: 'direct' | 'indirect';
}

export type CompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterValue = string | number | boolean | null;

export type Filter =
  | { readonly op: CompareOperator; readonly path: string; readonly value: FilterValue }
  | { readonly op: 'pr'; readonly path: string }
  | { readonly op: 'and' | 'or'; readonly filters: readonly Filter[] }
  | { readonly op: 'not'; readonly filter: Filter }
  /** `emails[type eq "work"]`: some element of the multi-valued attribute `path` satisfies `filter`. */
  | { readonly op: 'valuePath'; readonly path: string; readonly filter: Filter };

export interface DirectoryQuery {
  readonly filter: Filter | null;
  /** 1-based, as in SCIM. */
  readonly startIndex: number;
  readonly count: number;
  readonly sortBy: string | null;
  readonly sortOrder: 'ascending' | 'descending';
}

export interface Page<T> {
  readonly totalResults: number;
  readonly items: readonly T[];
}

export interface DirectoryReader {
  getPerson(sourceId: string, id: string): Promise<PersonRecord | null>;
  listPersons(sourceId: string, query: DirectoryQuery): Promise<Page<PersonRecord>>;
  getGroup(sourceId: string, id: string): Promise<GroupRecord | null>;
  listGroups(sourceId: string, query: DirectoryQuery): Promise<Page<GroupRecord>>;
  /** Members of the groups, keyed by group id (one query for a whole page). */
  membersOf(groupIds: readonly string[]): Promise<Map<string, GroupMember[]>>;
  /** Direct groups of the persons, keyed by person id (SCIM User.groups). */
  /** Each person's groups, direct and through nesting (RFC 7643 §4.1.2 `groups`), by display name. */
  groupsOf(personIds: readonly string[]): Promise<Map<string, UserGroup[]>>;
}
