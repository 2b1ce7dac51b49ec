/** The only module that imports @openfga/sdk. */
import {
  CredentialsMethod, FgaApiAuthenticationError, FgaApiError, FgaApiNotFoundError, FgaApiValidationError, OpenFgaClient, WriteRequestDeletesOnMissing, WriteRequestWritesOnDuplicate, type UserClientConfigurationParams,
} from '@openfga/sdk';
import type { ApplyRequest, DownstreamConnector, TargetAgentRef, TargetHolding } from '../../src/app/ports.js';
import { AppError } from '../../src/domain/errors.js';
import { assertPublicDestination, parseRetryAfter } from '../shared/http.js';
import type { OpenFgaConfig } from './config.js';

/** OpenFGA accepts at most 100 tuple changes per Write request. */
const MAX_TUPLES_PER_WRITE = 100;
const PAGE_SIZE = 100;

/**
 * Keeps an agent's tuples in an OpenFGA store equal to its effective tools. Writes ignore duplicates and
 * missing deletes (`on_duplicate` / `on_missing: ignore`), so re-applying and concurrent applies are safe.
 * The SDK's own retries are off: the push queue retries, with backoff and Retry-After.
 */
export function createOpenFgaConnector(config: OpenFgaConfig, deps: { clock: () => Date }): DownstreamConnector {
  const client = new OpenFgaClient(clientConfiguration(config));
  const user = (agentId: string) => `${config.agentType}:${agentId}`;
  const tuple = (agentId: string, tool: string) => ({ user: user(agentId), relation: config.relation, object: `${config.toolType}:${tool}` });
  const call = async <T>(during: string, work: () => Promise<T>): Promise<T> => {
    await assertPublicDestination(new URL(config.apiUrl), { ...config, kind: 'openfga' });
    try {
      return await work();
    } catch (error) {
      throw fgaError(config, error, during, deps.clock());
    }
  };

  const read = async (agentId: string): Promise<string[]> => {
    const tools: string[] = [];
    let continuationToken: string | undefined;
    const prefix = `${config.toolType}:`;
    do {
      const page = await call('read', () =>
        client.read({ user: user(agentId), relation: config.relation, object: prefix }, { pageSize: PAGE_SIZE, ...(continuationToken === undefined ? {} : { continuationToken }) }),
      );
      for (const found of page.tuples) if (found.key.object.startsWith(prefix)) tools.push(found.key.object.slice(prefix.length));
      continuationToken = page.continuation_token === '' ? undefined : page.continuation_token;
    } while (continuationToken !== undefined);
    return [...new Set(tools)].sort();
  };

  return {
    id: config.id,
    kind: 'openfga',
    canRead: true,
    async apply(request: ApplyRequest): Promise<void> {
      const wanted = new Set(request.effective.map((entitlement) => entitlement.toolId));
      const held = await read(request.agentId);
      const deletes = held.filter((tool) => !wanted.has(tool)).map((tool) => tuple(request.agentId, tool));
      const writes = [...wanted].filter((tool) => !held.includes(tool)).map((tool) => tuple(request.agentId, tool));
      // Deletes go first, in their own requests: a failure halfway leaves fewer rights, never more.
      for (let index = 0; index < deletes.length; index += MAX_TUPLES_PER_WRITE) {
        const chunk = deletes.slice(index, index + MAX_TUPLES_PER_WRITE);
        await call('delete', () => client.write({ deletes: chunk }, { conflict: { onMissingDeletes: WriteRequestDeletesOnMissing.Ignore } }));
      }
      for (let index = 0; index < writes.length; index += MAX_TUPLES_PER_WRITE) {
        const chunk = writes.slice(index, index + MAX_TUPLES_PER_WRITE);
        await call('write', () => client.write({ writes: chunk }, { conflict: { onDuplicateWrites: WriteRequestWritesOnDuplicate.Ignore } }));
      }
    },
    async read(agent: TargetAgentRef): Promise<TargetHolding | null> {
      return { tools: await read(agent.agentId) };
    },
    async check() {
      const store = await call('check', () => client.getStore());
      if (config.authorizationModelId !== undefined) await call('check', () => client.readAuthorizationModel());
      return { detail: `OpenFGA store ${store.name} (${store.id}) answered` };
    },
  };
}

function clientConfiguration(config: OpenFgaConfig): UserClientConfigurationParams {
  const credentials = credentialsOf(config.credentials);
  return {
    apiUrl: config.apiUrl,
    storeId: config.storeId,
    ...(config.authorizationModelId === undefined ? {} : { authorizationModelId: config.authorizationModelId }),
    credentials,
    retryParams: { maxRetry: 0 },
    baseOptions: { timeout: config.timeoutMs, maxContentLength: config.maxResponseBytes, maxRedirects: 0 },
  };
}

function credentialsOf(credentials: OpenFgaConfig['credentials']): NonNullable<UserClientConfigurationParams['credentials']> {
  switch (credentials.method) {
    case 'api_token':
      return { method: CredentialsMethod.ApiToken, config: { token: credentials.token.reveal() } };
    case 'client_credentials':
      return {
        method: CredentialsMethod.ClientCredentials,
        config: { clientId: credentials.clientId, clientSecret: credentials.clientSecret.reveal(), apiTokenIssuer: credentials.apiTokenIssuer, apiAudience: credentials.apiAudience },
      };
    case 'none':
      return { method: CredentialsMethod.None };
  }
}

function fgaError(config: OpenFgaConfig, error: unknown, during: string, now: Date): AppError {
  if (error instanceof AppError) return error;
  const where = `openfga ${config.id}`;
  if (error instanceof FgaApiAuthenticationError || error instanceof FgaApiValidationError || error instanceof FgaApiNotFoundError) {
    return new AppError('target_rejected', `${where}: ${during} rejected: HTTP ${error.statusCode ?? '?'} ${error.apiErrorMessage ?? ''}`.trim(), { cause: error });
  }
  if (error instanceof FgaApiError && error.statusCode !== undefined) {
    const status = error.statusCode;
    const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
    const header = error.responseHeader?.['retry-after'];
    const retryAfter = parseRetryAfter(typeof header === 'string' ? header : typeof header === 'number' ? String(header) : null, now);
    return new AppError(retryable ? 'target_unavailable' : 'target_rejected', `${where}: ${during} failed: HTTP ${status}`, {
      cause: error,
      ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
    });
  }
  return new AppError('target_unavailable', `${where}: ${during} failed: ${error instanceof Error ? error.message : 'network error'}`, { cause: error });
}
