import { DataSource } from 'typeorm';
import { startApp, TestApp } from '../support/app';

describe('health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('answers /health while the process lives', async () => {
    const res = await t.http.get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers /health/ready when the database answers', async () => {
    const res = await t.http.get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  it('answers 503 on /health/ready and on API calls while the database is gone, /health still 200', async () => {
    const down = await startApp();
    try {
      await down.app.get(DataSource).destroy();
      const ready = await down.http.get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.errors[0].code).toBe('DATABASE_UNAVAILABLE');
      expect((await down.http.get('/health')).status).toBe(200);
      const api = await down.http.get('/v1/accounts/whatever/users').set('Authorization', 'Bearer x');
      expect(api.status).toBe(503);
      expect(api.headers['retry-after']).toBeDefined();
    } finally {
      await down.close().catch(() => undefined);
    }
  });
});
