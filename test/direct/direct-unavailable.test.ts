/**
 * S3 down: completing answers 503 `E_STORE_UNAVAILABLE`, nothing half-done, and the token is
 * not spent, so the same upload can be completed once S3 is back.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { complete, directFixture, ticketFor, type DirectFixture } from './direct-fixture.js';

let db: TestDatabase;
let fixture: DirectFixture;
let closedPort: number;

beforeAll(async () => {
  // A port nothing listens on: found free, then closed again.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  db = await databaseKinds()[0]!.open();
  fixture = await directFixture(
    db,
    {},
    {
      endpoint: `http://127.0.0.1:${closedPort}`,
      maxAttempts: 1,
    },
  );
  await fixture.models.User.create({ id: 1 });
});
afterAll(async () => {
  await fixture?.close();
  await db?.close();
});

it('answers 503 E_STORE_UNAVAILABLE when S3 cannot be reached, and spends no token', async () => {
  const { res, ticket } = await ticketFor(fixture, 1);
  // Presigning is local: the ticket comes even with S3 down.
  expect(res.status).toBe(200);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const done = await complete(fixture, 1, ticket.token);
    expect(done.status).toBe(503);
    expect(done.body).toMatchObject({ error: { code: 'E_STORE_UNAVAILABLE' } });
  }
  expect(await fixture.models.UserPicture.count()).toBe(0);
  const used = await db.sequelize.query('SELECT COUNT(*) AS n FROM imageattach_upload_token', {
    plain: true,
  });
  expect(Number((used as { n: number | string }).n)).toBe(0);
});
