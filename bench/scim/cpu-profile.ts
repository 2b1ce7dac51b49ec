/**
 * Loaded into Tether with `NODE_OPTIONS=--import tsx --import …/cpu-profile.ts` when BENCH_CPU_PROF is set
 * (Node refuses `--cpu-prof` in NODE_OPTIONS): profiles the whole process and writes .cpuprofile files into
 * $BENCH_CPU_PROF, for Chrome DevTools or speedscope. SIGUSR2 closes the current profile and starts the next,
 * so a benchmark can cut one profile per phase (seeding, each load, the group PATCHes): a profile of the
 * whole run mixes them and hides where one request's time goes.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const directory = process.env['BENCH_CPU_PROF'];
if (directory !== undefined) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  let part = 0;
  const start = () => session.post('Profiler.start');
  // The main-thread inspector session answers synchronously, so the file is written before this returns.
  const stop = () => session.post('Profiler.stop', (error, result) => {
    if (error === null) writeFileSync(join(directory, `tether-${process.pid}-${String(part).padStart(2, '0')}.cpuprofile`), JSON.stringify(result.profile));
    part += 1;
  });
  start();
  process.on('SIGUSR2', () => {
    stop();
    start();
  });
  process.once('exit', stop);
}
