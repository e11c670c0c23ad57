import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { assertCursorSort, cursorNotInList } from './cursor-errors';
import type { PageRequest, SortField } from './query';
import type { PageResult } from './serializer';

/** Lists count their rows exactly up to this many; beyond it `meta.count` is the planner's estimate. */
export const EXACT_COUNT_LIMIT = 10_000;

/**
 * The rows a list query matches: counted exactly while there are at most EXACT_COUNT_LIMIT (the
 * count stops reading there), else estimated by the planner, so that a page never costs a scan of
 * everything the caller can see.
 */
export async function countRows<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>): Promise<{ count: number; estimated: boolean }> {
  const ids = qb.clone().orderBy().select(`${qb.alias}.id`);
  const [capped, cappedParams] = ids.clone().limit(EXACT_COUNT_LIMIT + 1).getQueryAndParameters();
  const rows: Array<{ n: number }> = await qb.connection.query(`SELECT count(*)::int AS n FROM (${capped}) counted`, cappedParams);
  if (rows[0].n <= EXACT_COUNT_LIMIT) return { count: rows[0].n, estimated: false };
  const [all, allParams] = ids.getQueryAndParameters();
  const plan: Array<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }> = await qb.connection.query(`EXPLAIN (FORMAT JSON) ${all}`, allParams);
  return { count: Math.max(EXACT_COUNT_LIMIT + 1, Math.round(plan[0]['QUERY PLAN'][0].Plan['Plan Rows'])), estimated: true };
}

/** Sort field name -> the SQL expressions it orders by (e.g. version -> the semver columns). */
export type SortColumns = Record<string, string[]>;

/**
 * Applies sorting and offset or keyset pagination to a list query and runs it.
 * Keyset pagination compares the row tuple of the sort columns (plus id) with the cursor row's,
 * so it works for any sort whose fields share one direction.
 */
export async function paginate<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  page: PageRequest,
  sort: SortField[],
  columns: SortColumns,
): Promise<PageResult<T>> {
  const alias = qb.alias;
  const ordering: Array<[string, 'ASC' | 'DESC']> = [];
  for (const s of sort) for (const expr of columns[s.field]) ordering.push([expr, s.descending ? 'DESC' : 'ASC']);
  const tieBreak: 'ASC' | 'DESC' = ordering.length ? ordering[ordering.length - 1][1] : 'DESC';
  ordering.push([`${alias}.id`, tieBreak]);

  const { count, estimated } = await countRows(qb);
  const counted = estimated ? { count, countEstimated: true } : { count };
  ordering.forEach(([expr, dir], i) => (i === 0 ? qb.orderBy(expr, dir) : qb.addOrderBy(expr, dir)));

  if (page.kind === 'offset') {
    const items = await qb.offset((page.number - 1) * page.size).limit(page.size).getMany();
    return { items, ...counted };
  }
  if (page.cursor) {
    assertCursorSort(sort);
    const table = qb.expressionMap.mainAlias!.metadata.tableName;
    const exprs = ordering.map(([e]) => e);
    const cursorExprs = exprs.map((e) => e.split(`${alias}.`).join('c.'));
    // the cursor must be a row of this very list (same account, same visibility, same filters):
    // otherwise its position would reveal another tenant's or a hidden row's sort values
    const visible = await qb.clone().andWhere(`${alias}.id = :pageCursor`, { pageCursor: page.cursor }).getCount();
    if (!visible) throw cursorNotInList();
    qb.andWhere(
      `(${exprs.join(', ')}) ${tieBreak === 'DESC' ? '<' : '>'} (SELECT ${cursorExprs.join(', ')} FROM ${table} c WHERE c.id = :pageCursor)`,
      { pageCursor: page.cursor },
    );
  }
  const rows = await qb.limit(page.size + 1).getMany();
  const hasMore = rows.length > page.size;
  const items = rows.slice(0, page.size);
  return { items, ...counted, nextCursor: hasMore ? (items[items.length - 1] as unknown as { id: string }).id : null };
}
