// Whole lists a page needs for its choices (bodies for a select, accounts for the admin), read
// page by page with the API's keyset (next_after), not one unbounded request.
import { api, unwrap } from './client';
import type { components } from './schema';
import { sortByVi } from '../lib/format';

type Org = components['schemas']['Organization'];
type Account = components['schemas']['Account'];

export async function allPages<T>(
  fetchPage: (after: number) => Promise<{ items?: T[]; next_after?: number | null }>,
): Promise<T[]> {
  const all: T[] = [];
  let after = 0;
  for (;;) {
    const page = await fetchPage(after);
    all.push(...(page.items ?? []));
    if (!page.next_after) return all;
    after = page.next_after;
  }
}

// The bodies in the caller's scope, in Vietnamese order.
export async function loadOrganizations(): Promise<Org[]> {
  const orgs = await allPages(async (after) =>
    unwrap(
      await api.GET('/api/v1/organizations', { params: { query: { limit: 500, after } as never } }),
    ),
  );
  return sortByVi(orgs, (o) => o.name ?? '');
}

export async function loadAccounts(): Promise<Account[]> {
  const accounts = await allPages(async (after) =>
    unwrap(
      await api.GET('/api/v1/accounts', { params: { query: { limit: 500, after } as never } }),
    ),
  );
  return sortByVi(accounts, (a) => a.username);
}
