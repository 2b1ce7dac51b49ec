/**
 * Progress of a long operation on a terminal. On a TTY one line is redrawn in place (a bar when the expected
 * duration is known, elapsed time otherwise); anywhere else (a pipe, a CI log) only changes of phase are
 * printed, each on its own line, so logs stay readable and free of control characters.
 */

export interface ProgressState {
  /** What is happening now, e.g. "queued" or "running (run 42)". */
  readonly phase: string;
  readonly elapsedMs: number;
  /** How long the whole operation is expected to take (e.g. the previous run's duration); null when unknown. */
  readonly expectedMs: number | null;
}

const WIDTH = 28;

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/**
 * One progress line. With an expected duration the bar fills with elapsed / expected and stops at 99% until the
 * operation reports done: it is an estimate, and saying 100% before the end would be a lie. Without one, a
 * marker sweeps back and forth so the user still sees that something is alive.
 */
export function progressLine(state: ProgressState, tick: number): string {
  if (state.expectedMs === null || state.expectedMs <= 0) {
    const span = WIDTH - 3;
    const position = Math.abs((tick % (2 * span)) - span);
    return `[${' '.repeat(span - position)}<=>${' '.repeat(position)}] ${state.phase} · ${duration(state.elapsedMs)}`;
  }
  const fraction = Math.min(0.99, state.elapsedMs / state.expectedMs);
  const filled = Math.round(fraction * WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(2)}% ${state.phase} · ${duration(state.elapsedMs)} of ~${duration(state.expectedMs)}`;
}

export interface ProgressOutput {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export interface Progress {
  update(state: ProgressState): void;
  /** Clears the bar (TTY) so the final outcome prints on a clean line. */
  done(): void;
}

export function createProgress(output: ProgressOutput): Progress {
  let tick = 0;
  let lastPhase: string | null = null;
  let drawn = false;
  return {
    update(state) {
      if (output.isTTY === true) {
        const line = progressLine(state, tick++).slice(0, Math.max(20, (output.columns ?? 80) - 1));
        output.write(`\r\u001b[2K${line}`);
        drawn = true;
        return;
      }
      if (state.phase !== lastPhase) output.write(`${state.phase}\n`);
      lastPhase = state.phase;
    },
    done() {
      if (drawn) output.write('\r\u001b[2K');
      drawn = false;
    },
  };
}
