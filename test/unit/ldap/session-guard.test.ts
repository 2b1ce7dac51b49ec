/**
 * The ldapts corrections of session-guard.ts, on ldapts' own request path with the transport scripted:
 * a server page that holds no entries but still carries a paged-results cookie (as Active Directory sends
 * over a sparse filter; slapd never does) and a connection that dropped after the bind.
 */
import { Attribute, Client, PagedResultsControl, SearchEntry } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { guardSession } from '../../../connectors/ldap/session-guard.js';
import { AppError } from '../../../src/domain/errors.js';

interface ScriptedPage { readonly entries: readonly string[]; readonly cookie: string }

/** A client whose socket reads as connected and whose `_send` answers the scripted pages in turn. */
function scriptedClient(pages: readonly ScriptedPage[]): { client: Client; sent: () => number; drop: () => void } {
  const client = new Client({ url: 'ldap://127.0.0.1:1' });
  const internals = client as unknown as { socket: object | undefined; connected: boolean; _send: (message: unknown) => Promise<unknown> };
  internals.socket = {};
  internals.connected = true;
  let sent = 0;
  internals._send = async () => {
    const page = pages[sent];
    sent += 1;
    if (page === undefined) throw new Error('the client asked for a page the server never announced');
    return {
      status: 0,
      searchEntries: page.entries.map((uid) => new SearchEntry({ messageId: sent, name: `uid=${uid},ou=people,dc=example,dc=org`, attributes: [new Attribute({ type: 'uid', values: [uid] })] })),
      searchReferences: [],
      controls: [new PagedResultsControl({ value: { size: 0, cookie: Buffer.from(page.cookie) } })],
    };
  };
  return { client, sent: () => sent, drop: () => { internals.connected = false; } };
}

async function readAll(client: Client): Promise<string[][]> {
  const pages: string[][] = [];
  for await (const page of client.searchPaginated('ou=people,dc=example,dc=org', { filter: '(uid=*)', paged: { pageSize: 2 } })) {
    pages.push(page.searchEntries.map((entry) => String(entry['uid'])));
  }
  return pages;
}

const SPARSE: readonly ScriptedPage[] = [
  { entries: ['a', 'b'], cookie: 'c1' },
  { entries: [], cookie: 'c2' },
  { entries: [], cookie: 'c3' },
  { entries: ['c', 'd'], cookie: '' },
];

describe('LDAP session guard', () => {
  it('follows the cookie past pages with no entries, to the page with an empty cookie', async () => {
    const { client, sent } = scriptedClient(SPARSE);
    guardSession(client, 'LDAP source "corp"');
    expect(await readAll(client)).toEqual([['a', 'b'], [], [], ['c', 'd']]);
    expect(sent()).toBe(4);
  });

  it('is needed: unguarded, ldapts stops at the first empty page and drops the rest without an error', async () => {
    const { client, sent } = scriptedClient(SPARSE);
    expect((await readAll(client)).flat()).toEqual(['a', 'b']);
    expect(sent()).toBe(2);
  });

  it('ends the search on an empty cookie even when the last page is empty', async () => {
    const { client, sent } = scriptedClient([{ entries: ['a'], cookie: 'c1' }, { entries: [], cookie: '' }]);
    guardSession(client, 'LDAP source "corp"');
    expect((await readAll(client)).flat()).toEqual(['a']);
    expect(sent()).toBe(2);
  });

  it('refuses to reopen a dropped connection (it would be unbound), naming the source', async () => {
    const { client, sent, drop } = scriptedClient(SPARSE);
    guardSession(client, 'LDAP source "corp" (ldap://dc1)');
    drop();
    const failure = await readAll(client).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/LDAP source "corp" \(ldap:\/\/dc1\): the connection to the server was lost/) });
    expect(sent()).toBe(0);
  });
});
