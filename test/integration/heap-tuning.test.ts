import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/**
 * Batch work as Tether's large jobs make it: a steady live set, plus batches that stay alive for a few
 * more batches (long enough to be promoted) and then die. Prints the old generation's largest committed
 * size in MB.
 */
const workload = (percent: number) => `
import { getHeapSpaceStatistics } from 'node:v8';
import { limitHeapGrowth } from './src/main/heap-tuning.ts';
limitHeapGrowth(${percent});
const live = Array.from({ length: 300000 }, (_, i) => ({ name: 'entry' + i, values: [i, i + 1] }));
const batches = [];
let largest = 0;
for (let round = 0; round < 300; round += 1) {
  batches.push(Array.from({ length: 20000 }, (_, i) => ({ key: 'key' + i + '-' + round, value: { n: i } })));
  if (batches.length > 6) batches.shift();
  largest = Math.max(largest, getHeapSpaceStatistics().find((space) => space.space_name === 'old_space').space_size);
}
console.log(JSON.stringify({ oldMb: largest / 1048576, live: live.length }));
`;

async function largestOldSpaceMb(percent: number): Promise<number> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', workload(percent)], { cwd: process.cwd() });
  return (JSON.parse(stdout) as { oldMb: number }).oldMb;
}

describe('limitHeapGrowth', () => {
  it('keeps the old generation close to its live size under batch work, where V8 alone lets it grow far past it', async () => {
    const [unlimited, limited] = await Promise.all([largestOldSpaceMb(0), largestOldSpaceMb(30)]);
    // The live set is about 60 MB: V8's default grew to more than twice that on the development machine.
    expect(limited).toBeLessThan(unlimited * 0.7);
    expect(limited).toBeLessThan(130);
  }, 60_000);
});
