/**
 * Baseline servers for bench/scim, each run as its own process:
 *   BASELINE_MODE=bare  express 5 parses the SCIM PatchOp and answers 200 (no database);
 *   BASELINE_MODE=pg    the same, plus one durable `UPDATE` of one row through a pg Pool (max 10).
 * Listens on 127.0.0.1:$PORT and prints `ready` once listening.
 */
import express, { type Request, type Response } from 'express';
import pg from 'pg';
import { PATCH_OP } from './protocol.js';

const mode = process.env['BASELINE_MODE'];
const port = Number(process.env['PORT']);
const pool = mode === 'pg' ? new pg.Pool({ connectionString: process.env['DATABASE_URL'], max: 10 }) : null;

/** The displayName a PatchOp sets, or null when the body is not the PatchOp bench/scim sends. */
function displayNameOf(body: unknown): string | null {
  const { schemas, Operations: operations } = (body ?? {}) as { schemas?: unknown; Operations?: unknown };
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_OP) || !Array.isArray(operations)) return null;
  let displayName: string | null = null;
  for (const operation of operations as { op?: unknown; path?: unknown; value?: unknown }[]) {
    if (operation.op !== 'replace' || operation.path !== 'displayName' || typeof operation.value !== 'string') return null;
    displayName = operation.value;
  }
  return displayName;
}

const app = express();
app.use(express.json({ type: ['application/json', 'application/scim+json'], limit: 1_048_576 }));
app.patch('/scim/v2/Users/:id', async (request: Request, response: Response) => {
  const displayName = displayNameOf(request.body);
  if (displayName === null) {
    response.status(400).json({ detail: 'not a displayName PatchOp' });
    return;
  }
  const id = request.params['id'] ?? '';
  let version = 1;
  if (pool !== null) {
    const result = await pool.query<{ version: number }>('update bench_users set display_name = $1, version = version + 1 where id = $2 returning version', [displayName, id]);
    const row = result.rows[0];
    if (row === undefined) {
      response.status(404).json({ detail: 'no such user' });
      return;
    }
    version = row.version;
  }
  response.status(200).type('application/scim+json').send(JSON.stringify({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id, displayName, meta: { resourceType: 'User', version: `W/"${version}"` },
  }));
});

const server = app.listen(port, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => {
  server.close();
  void pool?.end();
  server.closeAllConnections();
  process.exit(0);
});
