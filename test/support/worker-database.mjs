// Runs before every test file (jest.config.mjs `setupFiles`): points DATABASE_URL at the database of
// the Jest worker running the file, made by global-setup.mjs. Files of one worker run one after
// the other; files of different workers never share a database.
const { SHIPGATE_TEST_ADMIN_URL: adminUrl, SHIPGATE_TEST_DB_PREFIX: prefix, SHIPGATE_TEST_DB_WORKERS: workers } = process.env;
if (!adminUrl || !prefix) throw new Error('the test databases are made by test/support/global-setup.mjs: run the tests with `npm test` (or jest -c jest.config.mjs)');
const id = Number(process.env.JEST_WORKER_ID ?? '1');
if (!(id >= 1 && id <= Number(workers))) throw new Error(`Jest worker ${process.env.JEST_WORKER_ID} has no database (the setup made ${workers})`);
const url = new URL(adminUrl);
url.pathname = `/${prefix}_w${id}`;
process.env.DATABASE_URL = url.toString();
