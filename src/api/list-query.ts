import { ProblemError } from '../errors/problem.js';

/** Paging parameters every list endpoint takes: `after` (opaque cursor) and `limit` (1..1000, default 100). */
export function parseListQuery(query: Record<string, string | undefined>): { after: number; limit: number } {
  const errors = [];
  let after = 0;
  let limit = 100;
  if (query.after !== undefined && query.after !== '') {
    after = Number(query.after);
    if (!Number.isSafeInteger(after) || after < 0)
      errors.push({ path: 'after', message: 'must be the `next` value of a previous page' });
  }
  if (query.limit !== undefined && query.limit !== '') {
    limit = Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      errors.push({ path: 'limit', message: 'must be an integer from 1 to 1000' });
  }
  if (errors.length > 0) throw new ProblemError('bad-request', 'invalid paging parameters', { errors });
  return { after, limit };
}
