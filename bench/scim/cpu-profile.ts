/**
 * Loaded into Tether with `NODE_OPTIONS=--import tsx --import …/cpu-profile.ts` when BENCH_CPU_PROF is set
 * (Node refuses `--cpu-prof` in NODE_OPTIONS): profiles the whole process and writes a .cpuprofile into
 * $BENCH_CPU_PROF on exit, for Chrome DevTools or speedscope.
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
  session.post('Profiler.start');
  process.once('exit', () => {
    // The main-thread inspector session answers synchronously, so this completes before the process ends.
    session.post('Profiler.stop', (error, result) => {
      if (error === null) writeFileSync(join(directory, `tether-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
