import type { EntityManager, EntityTarget, ObjectLiteral, QueryDeepPartialEntity } from 'typeorm';

/**
 * Inserts one row and returns it as the entity a read right after the insert would give, without
 * that read (INSERT ... RETURNING *): the database's defaults and generated values included, each
 * column converted as a find converts it (types, transformers). A virtual column (one a query
 * computes from other rows) is null: a row just inserted has nothing for it to read.
 */
export async function insertReturning<T extends ObjectLiteral>(m: EntityManager, target: EntityTarget<T>, values: QueryDeepPartialEntity<T>): Promise<T> {
  const metadata = m.connection.getMetadata(target);
  const result = await m.createQueryBuilder().insert().into(target).values(values).returning('*').updateEntity(false).execute();
  const raw = (result.raw as Array<Record<string, unknown>>)[0];
  const entity = metadata.create() as T;
  for (const column of metadata.columns) {
    const value = column.isVirtualProperty ? null : m.connection.driver.prepareHydratedValue(raw[column.databaseName], column);
    column.setEntityValue(entity, value);
  }
  return entity;
}
