/**
 * Counts the database queries made on behalf of one request, so that the access log can show
 * them: a send should cost a handful, constant in the room's size, and a waiting sync none.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const counter = new AsyncLocalStorage<{ queries: number }>();

/** Runs `fn` with a fresh query count; `read` returns the count so far. */
export function withQueryCount<T>(fn: (read: () => number) => Promise<T>): Promise<T> {
  const store = { queries: 0 };
  return counter.run(store, () => fn(() => store.queries));
}

/** Called by the database layer for every query it runs. */
export function countQuery(): void {
  const store = counter.getStore();
  if (store) store.queries += 1;
}
