// The TypeORM CLI's data source (npm run migration:generate|run|revert). It needs DATABASE_URL.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/config';
import { dataSourceOptions } from './src/database/data-source';
import { ENTITIES } from './src/entities';

const config = loadConfig();
if (!config.databaseUrl) {
  throw new Error('Invalid configuration: DATABASE_URL is required for the migration commands');
}

export default new DataSource(dataSourceOptions(config.databaseUrl, ENTITIES));
