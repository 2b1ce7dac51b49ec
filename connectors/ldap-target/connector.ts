/** The only module of the LDAP write-back target that imports ldapts. */
import { AlreadyExistsError, Attribute, Change, Client, InsufficientAccessError, InvalidCredentialsError, NoSuchAttributeError, NoSuchObjectError, ObjectClassViolationError, ResultCodeError, TypeOrValueExistsError } from 'ldapts';
import type { ApplyRequest, DownstreamConnector, TargetAgentRef, TargetHolding } from '../../src/app/ports.js';
import { AppError } from '../../src/domain/errors.js';
import type { LdapTargetConfig } from './config.js';
import { agentDn, escapeFilterValue, groupDn, groupCn, toolOfGroupCn } from './mapping.js';

/**
 * Writes agents back into an LDAP directory: the agent as `cn={agentId}` under `agentsDn`, each tool as
 * membership of the `groupOfNames` named by `groupName` under `groupsDn` (created on first member, deleted
 * when its last member leaves, since groupOfNames must have one). Apply converges to the effective set.
 */
export function createLdapTargetConnector(config: LdapTargetConfig): DownstreamConnector {
  const session = async <T>(during: string, work: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({
      url: config.url,
      timeout: config.timeoutMs,
      connectTimeout: config.timeoutMs,
      ...(config.caCertificate === undefined ? {} : { tlsOptions: { ca: [config.caCertificate.reveal()] } }),
    });
    try {
      if (config.startTls) await client.startTLS(config.caCertificate === undefined ? {} : { ca: [config.caCertificate.reveal()] });
      await client.bind(config.bindDn, config.bindPassword.reveal());
      return await work(client);
    } catch (error) {
      throw ldapTargetError(config, error, during);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  };

  const memberships = async (client: Client, dn: string): Promise<string[]> => {
    const { searchEntries } = await client.search(config.groupsDn, {
      scope: 'one',
      filter: `(&(objectClass=groupOfNames)(member=${escapeFilterValue(dn)}))`,
      attributes: ['cn'],
    });
    const tools = searchEntries.flatMap((entry) => [entry['cn']].flat().map((cn) => toolOfGroupCn(config, String(cn))));
    return [...new Set(tools.filter((tool): tool is string => tool !== null))].sort();
  };

  const exists = async (client: Client, dn: string): Promise<boolean> => {
    try {
      await client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'] });
      return true;
    } catch (error) {
      if (error instanceof NoSuchObjectError) return false;
      throw error;
    }
  };

  return {
    id: config.id,
    kind: 'ldap',
    canRead: true,
    apply: (request: ApplyRequest) =>
      session('apply', async (client) => {
        const dn = agentDn(config, request.agentId);
        await client.add(dn, { objectClass: ['applicationProcess'], cn: request.agentId, description: request.agentName }).catch((error: unknown) => {
          if (!(error instanceof AlreadyExistsError)) throw error;
        });
        const wanted = [...new Set(request.effective.map((entitlement) => entitlement.toolId))];
        const held = await memberships(client, dn);
        // Removals first: a failure halfway leaves fewer rights, never more.
        for (const tool of held.filter((item) => !wanted.includes(item))) await leave(client, groupDn(config, tool), dn);
        for (const tool of wanted.filter((item) => !held.includes(item))) await join(client, config, tool, dn);
      }),
    read: (agent: TargetAgentRef): Promise<TargetHolding | null> =>
      session('read-back', async (client) => {
        const dn = agentDn(config, agent.agentId);
        if (!(await exists(client, dn))) return null;
        return { tools: await memberships(client, dn) };
      }),
    check: () =>
      session('check', async (client) => {
        if (!(await exists(client, config.agentsDn))) throw new AppError('target_rejected', `ldap ${config.id}: agentsDn ${config.agentsDn} does not exist`);
        if (!(await exists(client, config.groupsDn))) throw new AppError('target_rejected', `ldap ${config.id}: groupsDn ${config.groupsDn} does not exist`);
        return { detail: `bound as ${config.bindDn}; ${config.agentsDn} and ${config.groupsDn} exist` };
      }),
  };
}

async function join(client: Client, config: LdapTargetConfig, tool: string, member: string): Promise<void> {
  const dn = groupDn(config, tool);
  try {
    await client.modify(dn, [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [member] }) })]);
  } catch (error) {
    if (error instanceof TypeOrValueExistsError) return;
    if (!(error instanceof NoSuchObjectError)) throw error;
    await client.add(dn, { objectClass: ['groupOfNames'], cn: groupCn(config, tool), member: [member] }).catch(async (added: unknown) => {
      // Created by a concurrent apply a moment ago: join it.
      if (!(added instanceof AlreadyExistsError)) throw added;
      await join(client, config, tool, member);
    });
  }
}

async function leave(client: Client, dn: string, member: string): Promise<void> {
  try {
    await client.modify(dn, [new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [member] }) })]);
  } catch (error) {
    if (error instanceof NoSuchAttributeError || error instanceof NoSuchObjectError) return;
    // groupOfNames needs a member: the last one leaving takes the group with it.
    if (error instanceof ObjectClassViolationError) {
      await client.del(dn).catch((deleted: unknown) => {
        if (!(deleted instanceof NoSuchObjectError)) throw deleted;
      });
      return;
    }
    throw error;
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/** LDAP result codes worth retrying: busy (51), unavailable (52), unwilling (53), timeLimit (3), adminLimit (11), other (80). */
const RETRYABLE_RESULTS = new Set([3, 11, 51, 52, 53, 80]);

function ldapTargetError(config: LdapTargetConfig, error: unknown, during: string): AppError {
  if (error instanceof AppError) return error;
  const where = `ldap ${config.id} (${config.url})`;
  if (error instanceof InvalidCredentialsError) return new AppError('target_rejected', `${where}: bind as ${config.bindDn} rejected: invalid credentials`, { cause: error });
  if (error instanceof InsufficientAccessError) return new AppError('target_rejected', `${where}: ${config.bindDn} may not write (${during})`, { cause: error });
  if (error instanceof ResultCodeError) {
    return new AppError(RETRYABLE_RESULTS.has(error.code) ? 'target_unavailable' : 'target_rejected', `${where}: ${during} failed: LDAP result ${error.code} (${error.message})`, { cause: error });
  }
  const raw = (error as { code?: unknown }).code;
  const code = typeof raw === 'string' ? raw : '';
  const message = error instanceof Error ? error.message : String(error);
  if (UNREACHABLE.has(code) || /timed? ?out|connect|closed/i.test(message)) {
    return new AppError('target_unavailable', `${where}: unreachable during ${during} (${code === '' ? message : code})`, { cause: error });
  }
  return new AppError('target_unavailable', `${where}: ${during} failed: ${message}`, { cause: error });
}
