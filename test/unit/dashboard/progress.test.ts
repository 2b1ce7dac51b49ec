import { describe, expect, it } from 'vitest';
import { createProgress, progressLine } from '../../../src/cli/progress.js';

describe('CLI progress', () => {
  it('fills the bar against the expected duration and never claims 100% before the end', () => {
    expect(progressLine({ phase: 'running (run 4)', elapsedMs: 15_000, expectedMs: 60_000 }, 0)).toBe('[#######---------------------] 25% running (run 4) · 15s of ~1m00s');
    expect(progressLine({ phase: 'running', elapsedMs: 90_000, expectedMs: 60_000 }, 0)).toContain('99% running');
  });

  it('sweeps a marker when the duration is unknown', () => {
    const first = progressLine({ phase: 'queued', elapsedMs: 0, expectedMs: null }, 0);
    const later = progressLine({ phase: 'queued', elapsedMs: 2000, expectedMs: null }, 5);
    expect(first).toContain('<=>');
    expect(first.indexOf('<=>')).not.toBe(later.indexOf('<=>'));
    expect(later).toContain('queued · 2s');
  });

  it('redraws one line on a terminal; elsewhere prints each phase once, with no control characters', () => {
    const tty: string[] = [];
    const terminal = createProgress({ isTTY: true, columns: 80, write: (text) => tty.push(text) });
    terminal.update({ phase: 'queued', elapsedMs: 0, expectedMs: null });
    terminal.update({ phase: 'queued', elapsedMs: 1000, expectedMs: null });
    terminal.done();
    expect(tty).toHaveLength(3);
    expect(tty.every((text) => text.startsWith('\r\u001b[2K'))).toBe(true);

    const piped: string[] = [];
    const plain = createProgress({ isTTY: false, write: (text) => piped.push(text) });
    for (const phase of ['queued', 'queued', 'running (run 7)', 'running (run 7)']) plain.update({ phase, elapsedMs: 0, expectedMs: 10_000 });
    plain.done();
    expect(piped).toEqual(['queued\n', 'running (run 7)\n']);
  });
});
