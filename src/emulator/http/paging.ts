// ThingsBoard's page links (docs/thingsboard-behaviour.md#devices, paging): required 0-based `page` and `pageSize`,
// `textSearch`, `sortProperty`/`sortOrder`, and the PageData envelope.
import { ApiError } from '../model.js';

export interface PageQuery {
  pageSize?: string;
  page?: string;
  textSearch?: string;
  sortProperty?: string;
  sortOrder?: string;
}

export interface PageData<T> {
  data: T[];
  totalPages: number;
  totalElements: number;
  hasNext: boolean;
}

function intParam(name: string, v: string | undefined): number {
  if (v === undefined || v === '')
    throw new ApiError(400, 31, `Required request parameter '${name}' for method parameter type int is not present`);
  const n = Number(v);
  if (!Number.isInteger(n))
    throw new ApiError(400, 31, `Failed to convert value of type 'java.lang.String' to required type 'int'; For input string: "${v}"`);
  return n;
}

/** Filters by `textSearch` (case-insensitive substring of any of `text(item)`), sorts and slices one page. */
export function page<T>(
  items: T[],
  q: PageQuery,
  text: (item: T) => (string | null)[],
  sortKeys: Record<string, (item: T) => string | number>,
  defaultSort: (item: T) => string | number,
): PageData<T> {
  const pageSize = intParam('pageSize', q.pageSize);
  const pageNo = intParam('page', q.page);
  if (pageSize < 1) throw new ApiError(400, 31, `Incorrect page link page size '${pageSize}'. Page size must be greater than zero.`);
  if (pageNo < 0) throw new ApiError(400, 31, `Incorrect page link page '${pageNo}'. Page must be positive integer.`);
  const order = (q.sortOrder ?? 'ASC').toUpperCase();
  if (order !== 'ASC' && order !== 'DESC')
    throw new ApiError(400, 31, `Unsupported sort order '${q.sortOrder}'! Only 'ASC' or 'DESC' types are allowed.`);
  let list = items;
  const needle = q.textSearch?.toLowerCase();
  if (needle) list = list.filter((it) => text(it).some((s) => s !== null && s.toLowerCase().includes(needle)));
  const key = (q.sortProperty && sortKeys[q.sortProperty]) || defaultSort;
  const dir = q.sortProperty && order === 'DESC' ? -1 : 1;
  list = [...list].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -dir : x > y ? dir : 0;
  });
  const total = list.length;
  const start = pageNo * pageSize;
  return {
    data: list.slice(start, start + pageSize),
    totalPages: Math.ceil(total / pageSize),
    totalElements: total,
    hasNext: start + pageSize < total,
  };
}
