import type { Command, Option } from 'commander';
import { generateToken, hashToken } from '../app/auth/tokens.js';
import { AppError } from '../domain/errors.js';
import { parseEnv } from '../config/env.js';
import type { Store } from '../store/index.js';

/** The database modules are imported here, not at the top, so remote commands never load them (main.ts). */
async function withStore<T>(work: (store: Store) => Promise<T>): Promise<T> {
  const [{ openDatabase }, { createStore }, { migrate }] = await Promise.all([
    import('../main/container.js'), import('../store/index.js'), import('../store/migrate.js'),
  ]);
  const db = await openDatabase(parseEnv());
  try {
    await migrate(db);
    return await work(createStore(db));
  } finally {
    await db.close();
  }
}

/** Local token administration (needs the database: DATABASE_URL, or the embedded one in TETHER_DATA_DIR). */
export function registerTokenCommands(program: Command, configOption: Option): void {
  const tokens = program.command('tokens').description('create, list and revoke API and SCIM tokens');
  tokens
    .command('create')
    .description('create a token and print it once; only its hash is stored')
    .requiredOption('--name <name>', 'what the token is for')
    .option('--kind <kind>', 'admin (admin API) or scim (one source)', 'admin')
    .option('--role <role>', 'viewer, operator or admin (admin tokens)', 'viewer')
    .option('--source <id>', 'source id (scim tokens)')
    .option('--expires-in-days <days>', 'expiry in days (default: never)')
    .option('--json', 'print JSON')
    .addOption(configOption)
    .action(async (options: { name: string; kind: string; role: string; source?: string; expiresInDays?: string; json?: boolean }) => {
      if (options.kind !== 'admin' && options.kind !== 'scim') throw new AppError('invalid_input', '--kind must be admin or scim');
      if (!['viewer', 'operator', 'admin'].includes(options.role)) throw new AppError('invalid_input', '--role must be viewer, operator or admin');
      if (options.kind === 'scim' && options.source === undefined) throw new AppError('invalid_input', '--source is required for scim tokens');
      const days = options.expiresInDays === undefined ? null : Number(options.expiresInDays);
      if (days !== null && (!Number.isFinite(days) || days <= 0)) throw new AppError('invalid_input', '--expires-in-days must be a positive number');
      const token = generateToken(options.kind);
      const id = crypto.randomUUID();
      const now = new Date();
      await withStore((store) =>
        store.insertToken(
          {
            id, name: options.name, kind: options.kind as 'admin' | 'scim',
            role: options.kind === 'admin' ? (options.role as 'viewer' | 'operator' | 'admin') : null,
            sourceId: options.kind === 'scim' ? (options.source ?? null) : null,
            expiresAt: days === null ? null : new Date(now.getTime() + days * 86_400_000),
            tokenHash: hashToken(token),
          },
          now,
        ),
      );
      if (options.json === true) console.log(JSON.stringify({ id, token }));
      else console.log(`token ${id} created; store it now, it is not shown again:\n${token}`);
    });
  tokens
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'print JSON')
    .addOption(configOption)
    .action(async (options: { json?: boolean }) => {
      const rows = await withStore((store) => store.listTokens());
      if (options.json === true) console.log(JSON.stringify(rows, null, 2));
      else for (const row of rows) console.log(`${row.id}  ${row.kind.padEnd(5)}  ${(row.role ?? row.sourceId ?? '').padEnd(8)}  ${row.revokedAt === null ? 'active ' : 'revoked'}  ${row.name}`);
    });
  tokens
    .command('revoke <id>')
    .description('revoke a token at once')
    .addOption(configOption)
    .action(async (id: string) => {
      const revoked = await withStore((store) => store.revokeToken(id, new Date()));
      if (!revoked) throw new AppError('not_found', `no active token ${id}`);
      console.log(`token ${id} revoked`);
    });
}
