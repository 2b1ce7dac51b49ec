import type { GroupChange } from '../../app/directory/groups.js';
import { AppError } from '../../domain/errors.js';
import { MAX_MEMBER_ID_LENGTH, memberDisplays } from './group-resource.js';
import type { PatchOperation } from './patch.js';

/**
 * Splits a Group PATCH into member deltas (applied as O(changed) membership writes) and the operations on
 * the group's own attributes. Operations are folded in order, so "replace members [a]" followed by "add b"
 * ends with exactly {a, b}, as RFC 7644 §3.5.2 requires.
 */
export function planGroupPatch(operations: readonly PatchOperation[]): { members: Omit<GroupChange, 'write'>; attributeOps: PatchOperation[] } {
  let replace: Set<string> | undefined;
  const add = new Set<string>();
  const remove = new Set<string>();
  const attributeOps: PatchOperation[] = [];
  const displays = new Map<string, string>();
  const noteDisplays = (value: unknown) => {
    const list = (Array.isArray(value) ? value : [value]).filter((member): member is Record<string, unknown> => member !== null && typeof member === 'object');
    for (const [id, label] of memberDisplays(list)) displays.set(id, label);
  };
  const onAdd = (id: string) => {
    add.add(id);
    remove.delete(id);
    replace?.add(id);
  };
  const onRemove = (id: string) => {
    remove.add(id);
    add.delete(id);
    replace?.delete(id);
  };
  const onReplace = (ids: readonly string[]) => {
    replace = new Set(ids);
    add.clear();
    remove.clear();
  };
  for (const operation of operations) {
    const path = operation.path?.trim() ?? null;
    if (path === null) {
      const value = operation.value as Record<string, unknown> | null;
      const membersKey = value !== null && typeof value === 'object' ? Object.keys(value).find((key) => key.toLowerCase() === 'members') : undefined;
      if (membersKey !== undefined && value !== null) {
        const ids = memberIds(value[membersKey]);
        noteDisplays(value[membersKey]);
        if (operation.op === 'replace') onReplace(ids);
        else if (operation.op === 'add') ids.forEach(onAdd);
        const rest = Object.fromEntries(Object.entries(value).filter(([key]) => key !== membersKey));
        if (Object.keys(rest).length > 0) attributeOps.push({ ...operation, value: rest });
        continue;
      }
      attributeOps.push(operation);
      continue;
    }
    const filtered = /^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$/i.exec(path);
    if (filtered?.[1] !== undefined) {
      if (operation.op !== 'remove') throw new AppError('invalid_path', 'unsupported members path', { detail: `"${operation.op}" with path ${path} is not supported; use remove` });
      onRemove(memberId(filtered[1]));
      continue;
    }
    if (path.toLowerCase() !== 'members') {
      if (/^members[.[]/i.test(path)) throw new AppError('invalid_path', 'unsupported members path', { detail: `Path ${path} is not supported` });
      attributeOps.push(operation);
      continue;
    }
    if (operation.op !== 'remove') noteDisplays(operation.value);
    if (operation.op === 'add') memberIds(operation.value).forEach(onAdd);
    else if (operation.op === 'replace') onReplace(memberIds(operation.value));
    else if (operation.value === undefined || operation.value === null) onReplace([]);
    else memberIds(operation.value).forEach(onRemove);
  }
  return {
    members: {
      ...(replace === undefined ? {} : { replaceMemberIds: [...replace] }),
      addMemberIds: [...add],
      removeMemberIds: [...remove],
      memberDisplays: displays,
    },
    attributeOps,
  };
}

/** Members arrive as [{value}] (RFC), a single {value}, or a bare id string (Entra's validator sends one). */
function memberIds(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((member) => memberId(typeof member === 'string' ? member : member !== null && typeof member === 'object' ? (member as Record<string, unknown>)['value'] : undefined));
}

function memberId(id: unknown): string {
  if (typeof id !== 'string' || id === '') {
    throw new AppError('invalid_value', 'member without value', { detail: 'Each member must be an object with a non-empty "value"' });
  }
  if (id.length > MAX_MEMBER_ID_LENGTH) throw new AppError('invalid_value', 'member id too long', { detail: 'A member value is too long' });
  // Ids that name nothing are ignored by the use case (and recorded in the change event), not refused.
  return id;
}
