/**
 * Load generator for bench/scim, run as its own process (`node --import tsx bench/scim/load.ts`) so that
 * autocannon never shares an event loop with the server being measured. Reads a LoadSpec as JSON on stdin,
 * runs a warm-up then the measured run, and prints one LoadResult as JSON on stdout.
 */
import autocannon, { type Result } from 'autocannon';
import { patchBody, type LoadResult, type LoadSpec } from './protocol.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function run(spec: LoadSpec, durationSeconds: number): Promise<Result> {
  // One counter for every connection: each request targets the next id and writes a value never sent
  // before, so every PATCH really changes a row (no request can be answered as a no-op).
  let sent = spec.offset;
  return autocannon({
    url: spec.origin,
    connections: spec.connections,
    duration: durationSeconds,
    timeout: 30,
    requests: [{
      method: 'PATCH',
      headers: spec.headers,
      setupRequest: (request) => {
        sent += 1;
        const id = spec.ids[sent % spec.ids.length] ?? '';
        return { ...request, path: `${spec.pathPrefix}${id}`, body: JSON.stringify(patchBody(`Bench ${spec.label} ${sent}`, spec.attribute)) };
      },
    }],
  });
}

async function main(): Promise<void> {
  const spec = JSON.parse(await readStdin()) as LoadSpec;
  if (spec.warmupSeconds > 0) await run({ ...spec, offset: spec.offset + 1_000_000_000 }, spec.warmupSeconds);
  const result = await run(spec, spec.durationSeconds);
  const output: LoadResult = {
    reqPerSec: result.requests.average,
    completed: result.requests.total,
    durationSeconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    meanLatency: result.latency.mean,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, stats]) => [code, stats.count])),
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
