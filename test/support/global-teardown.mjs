import fs from 'node:fs';
import pg from 'pg';

export default async function globalTeardown() {
  const state = globalThis.__SHIPGATE_TEST_DB__;
  if (state) {
    const client = new pg.Client({ connectionString: state.adminUrl });
    try {
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${state.name} WITH (FORCE)`);
    } catch (error) {
      console.warn(`[tests] could not drop ${state.name}: ${error.message}`);
    } finally {
      await client.end().catch(() => {});
    }
  }
  const server = globalThis.__SHIPGATE_EMBEDDED__;
  if (server) await server.stop().catch(() => {});
  if (state?.embeddedDir) fs.rmSync(state.embeddedDir, { recursive: true, force: true });
}
