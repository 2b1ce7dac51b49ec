/**
 * Mirrored DNs are matched in a new canonical form (src/domain/dn.ts: RFC 4514 escapes read, case and
 * insignificant spaces folded, multi-valued RDNs ordered). Plain DNs keep their stored form; a DN with an
 * escape, a quote, a multi-valued RDN or a run of spaces may not, and neither may the member DNs a group
 * resolves. So those entries, and every group, are marked as not applied yet (facts_hash null: the next run
 * reads them as changed and rewrites their dn_norm and pending references), and the sources that hold any
 * have their cursor cleared, so that next run is a full reconciliation. Nothing else changes.
 */
export const name = 'ldap-dn-canonical';

export const sql = String.raw`
update sync_objects set facts_hash = null
 where object_type = 'group' or dn ~ '[\\"+#;<>]' or dn ~ '\s\s';

update sync_state set cursor = null
 where source_id in (select distinct source_id from sync_objects where facts_hash is null);
`;
