import fs from 'node:fs';
import pg from 'pg';

/** Drops every database of the run (the workers' ones and any a test made next to its own), then stops an embedded PostgreSQL. */
export default async function globalTeardown() {
  const state = globalThis.__SHIPGATE_TEST_DB__;
  if (state) {
    const client = new pg.Client({ connectionString: state.adminUrl });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query('SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname', [state.prefix]);
      for (const { datname } of rows) {
        try {
          await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
        } catch (error) {
          console.warn(`[tests] could not drop ${datname}: ${error.message}`);
        }
      }
    } catch (error) {
      console.warn(`[tests] could not drop the databases ${state.prefix}*: ${error.message}`);
    } finally {
      await client.end().catch(() => {});
    }
  }
  const server = globalThis.__SHIPGATE_EMBEDDED__;
  if (server) await server.stop().catch(() => {});
  if (state?.embeddedDir) fs.rmSync(state.embeddedDir, { recursive: true, force: true });
}
