/**
 * How one poll walks the pages of an ERP API: the first request, and after each answer the next
 * request, the end, or a stall (an API that answers the same page again). Pure: the source does
 * the HTTP and hands each page's facts in.
 */

import type { Selector } from './selector.js';

/** Compiled `paging`; `none` reads one answer per poll. */
export type Paging =
  | { readonly kind: 'none' }
  | { readonly kind: 'next-link'; readonly path: Selector; readonly maxPages: number }
  | { readonly kind: 'link-header'; readonly maxPages: number }
  | {
      readonly kind: 'offset';
      readonly offsetParam: string;
      readonly limitParam: string;
      readonly limit: number;
      readonly maxPages: number;
    }
  | {
      readonly kind: 'page';
      readonly pageParam: string;
      readonly sizeParam: string;
      readonly size: number;
      readonly firstPage: number;
      readonly maxPages: number;
    }
  | { readonly kind: 'odata'; readonly top: number; readonly maxPages: number }
  | { readonly kind: 'keyset'; readonly limitParam: string | null; readonly limit: number };

/** What the source learned from one answer. */
export interface PageFacts {
  /** The URL this answer came from (next links resolve against it). */
  readonly url: URL;
  /** Rows in the answer. */
  readonly rows: number;
  /** Rows whose ids were not in an earlier page of this poll. */
  readonly fresh: number;
  /** The next link the answer carries (body or Link header), as written; null when none. */
  readonly link: string | null;
}

export type PageStep =
  | { readonly kind: 'next'; readonly url: URL }
  | { readonly kind: 'end' }
  | { readonly kind: 'stalled'; readonly reason: string };

/** The rows one page holds at most, when the config says; null when only the API knows. */
export function pageSize(paging: Paging): number | null {
  switch (paging.kind) {
    case 'offset':
    case 'keyset':
      return paging.limit;
    case 'page':
      return paging.size;
    case 'odata':
      return paging.top;
    default:
      return null;
  }
}

/**
 * One poll's walk over the pages. `start` is the endpoint with the cursor already in its query;
 * the walk adds the paging parameters and keeps what it needs to find the next page.
 */
export class PageWalk {
  private pages = 0;
  /** OData: rows of the current $skip window, which server-driven paging may split. */
  private windowRows = 0;
  private position: number;
  private readonly followed = new Set<string>();

  constructor(
    private readonly paging: Paging,
    private readonly start: URL,
  ) {
    this.position = paging.kind === 'page' ? paging.firstPage : 0;
  }

  /** The URL of the first page. */
  first(): URL {
    return this.windowUrl();
  }

  /** Where to go after an answer. */
  next(page: PageFacts): PageStep {
    this.pages++;
    const paging = this.paging;
    if (paging.kind === 'none' || paging.kind === 'keyset') return { kind: 'end' };
    let next: URL | null = null;
    if (paging.kind === 'next-link' || paging.kind === 'link-header' || paging.kind === 'odata') {
      if (page.link !== null) {
        try {
          next = new URL(page.link, page.url);
        } catch {
          return { kind: 'stalled', reason: `the next link "${page.link.slice(0, 200)}" is not a URL` };
        }
        if (this.followed.has(next.href))
          return {
            kind: 'stalled',
            reason: `the API sent the next link ${next.pathname}${next.search} again after page ${this.pages}; it would be read for ever`,
          };
        this.followed.add(next.href);
      }
    }
    if (paging.kind === 'odata') {
      this.windowRows += page.rows;
      if (next === null) {
        if (this.windowRows < paging.top) return { kind: 'end' };
        this.position += paging.top;
        this.windowRows = 0;
        next = this.windowUrl();
      }
    } else if (paging.kind === 'offset' || paging.kind === 'page') {
      const size = paging.kind === 'offset' ? paging.limit : paging.size;
      if (page.rows < size) return { kind: 'end' };
      this.position += paging.kind === 'offset' ? paging.limit : 1;
      next = this.windowUrl();
    }
    if (next === null) return { kind: 'end' };
    // An API that ignores the paging parameters answers the same full page again and again.
    if (page.rows > 0 && page.fresh === 0 && paging.kind !== 'next-link' && paging.kind !== 'link-header')
      return {
        kind: 'stalled',
        reason: `page ${this.pages} repeated rows of an earlier page (${this.paramsHint()}); check that the API takes them`,
      };
    if (this.pages >= paging.maxPages)
      return {
        kind: 'stalled',
        reason: `more than ${paging.maxPages} pages in one poll; raise paging.maxPages or page with a larger page size`,
      };
    return { kind: 'next', url: next };
  }

  private paramsHint(): string {
    const paging = this.paging;
    switch (paging.kind) {
      case 'offset':
        return `paging.offsetParam ${paging.offsetParam}, paging.limitParam ${paging.limitParam}`;
      case 'page':
        return `paging.pageParam ${paging.pageParam}, paging.sizeParam ${paging.sizeParam}`;
      default:
        return '$skip and $top';
    }
  }

  /** The start URL with the paging parameters of the current position. */
  private windowUrl(): URL {
    const url = new URL(this.start);
    const paging = this.paging;
    const set = (name: string, value: number) => url.searchParams.set(name, String(value));
    switch (paging.kind) {
      case 'offset':
        set(paging.offsetParam, this.position);
        set(paging.limitParam, paging.limit);
        break;
      case 'page':
        set(paging.pageParam, this.position);
        set(paging.sizeParam, paging.size);
        break;
      case 'odata':
        set('$skip', this.position);
        set('$top', paging.top);
        break;
      case 'keyset':
        if (paging.limitParam !== null) set(paging.limitParam, paging.limit);
        break;
      default:
        break;
    }
    return url;
  }
}

/**
 * The `rel="next"` target of an RFC 8288 `Link` header, or null. Targets sit in `<...>`, so commas
 * inside them do not split links; `rel` may be quoted and may list several relation types.
 */
export function nextFromLinkHeader(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const text = Array.isArray(header) ? header.join(', ') : header;
  for (const match of text.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]*)*)/g)) {
    const params = match[2] ?? '';
    for (const param of params.matchAll(/;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/gi)) {
      const rels = (param[1] ?? param[2] ?? '').toLowerCase().split(/\s+/);
      if (rels.includes('next')) return match[1] ?? null;
    }
  }
  return null;
}

/** Where OData puts the next link: V4 `@odata.nextLink` (V4.0 JSON: `odata.nextLink`), V2 `d.__next`. */
export function odataNextLink(answer: unknown): string | null {
  if (answer === null || typeof answer !== 'object') return null;
  const a = answer as Record<string, unknown>;
  const d = a.d !== null && typeof a.d === 'object' ? (a.d as Record<string, unknown>) : {};
  for (const link of [a['@odata.nextLink'], a['odata.nextLink'], d.__next, a.__next])
    if (typeof link === 'string' && link !== '') return link;
  return null;
}
