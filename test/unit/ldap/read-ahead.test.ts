import { describe, expect, it } from 'vitest';
import { readAhead } from '../../../connectors/ldap/read-ahead.js';

/** A paged source that logs when each page is requested and whether it was closed. */
function pagedSource(pages: number, failAt?: number) {
  const log: string[] = [];
  async function* source() {
    try {
      for (let page = 0; page < pages; page += 1) {
        log.push(`request ${page}`);
        await new Promise((done) => setTimeout(done, 1));
        if (page === failAt) throw new Error(`page ${page} failed`);
        yield page;
      }
    } finally {
      log.push('closed');
    }
  }
  return { log, pages: source() };
}

describe('readAhead', () => {
  it('requests the next page before the caller has finished with the current one', async () => {
    const { log, pages } = pagedSource(3);
    const seen: number[] = [];
    for await (const page of readAhead(pages)) {
      await new Promise((done) => setTimeout(done, 5));
      log.push(`handled ${page}`);
      seen.push(page);
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(log.indexOf('request 1')).toBeLessThan(log.indexOf('handled 0'));
    expect(log.indexOf('request 2')).toBeLessThan(log.indexOf('handled 1'));
  });

  it('closes the search when the caller stops early, and surfaces a failed page', async () => {
    const early = pagedSource(5);
    for await (const page of readAhead(early.pages)) if (page === 1) break;
    expect(early.log.at(-1)).toBe('closed');
    expect(early.log).not.toContain('request 3');

    const failing = pagedSource(5, 2);
    const seen: number[] = [];
    await expect((async () => {
      for await (const page of readAhead(failing.pages)) seen.push(page);
    })()).rejects.toThrow('page 2 failed');
    expect(seen).toEqual([0, 1]);
  });
});
