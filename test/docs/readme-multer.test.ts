/**
 * The README's hand-made multer example, run: it is a fragment (it uses the app, the store and
 * the models the README set up before), so this test gives it those, as a real app on SQLite
 * and a temporary folder, and checks what its comments promise: both files stored in one
 * transaction, the page rendered with the set's async `toHTML()`, 415 for a non-image, and no
 * upload left behind in `var/uploads` either way.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './readme-app.js';
import { readmeBlockWith, toSource } from './readme-blocks.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What the README declares before the example: a store, the User model, an Express app. */
const SETUP = `import express from 'express';
import { DataTypes, Model, Sequelize, type NonAttribute } from 'sequelize';
import {
  FileSystemStore,
  Image,
  imageAttachment,
  imageAttributes,
  type SingleImageSet,
} from 'sequelize-imageattach';

const sequelize = new Sequelize({ dialect: 'sqlite', storage: 'app.sqlite', logging: false });
const store = new FileSystemStore({ path: 'images', baseUrl: 'http://img.test/' });
class User extends Model {
  declare id: number;
  declare readonly picture: NonAttribute<SingleImageSet<UserPicture>>;
}
User.init({ id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } }, { sequelize });
class UserPicture extends Image {
  declare userId: number;
}
UserPicture.init(
  { userId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
  { sequelize, tableName: 'user_picture' },
);
imageAttachment(User, 'picture', UserPicture, { foreignKey: 'userId' });
await sequelize.sync();
await User.create();
const app = express();
`;

const LISTEN = `
const server = app.listen(Number(process.env.PORT), () => {
  console.log(\`Listening on http://localhost:\${(server.address() as { port: number }).port}/\`);
});
`;

describe("the README's multer example", () => {
  const dir = join(ROOT, 'test-output', `readme-multer-${process.pid}`);
  let app: RunningApp;

  beforeAll(async () => {
    const block = await readmeBlockWith(ROOT, "multer({ dest: 'var/uploads'");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'app.ts'), toSource(`${SETUP}\n${block.code}\n${LISTEN}`));
    app = await startApp(['--import', 'tsx', 'app.ts'], dir);
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** What multer left in its folder. */
  const leftovers = () => readdir(join(dir, 'var/uploads')).catch(() => []);

  it('stores the original and its thumbnail, and removes the upload', async () => {
    const png = await sharp({
      create: { width: 300, height: 200, channels: 3, background: '#3a6' },
    })
      .png()
      .toBuffer();
    const form = new FormData();
    form.set('picture', new Blob([png]), 'face.png');
    const res = await fetch(new URL('users/1/picture', app.base), { method: 'POST', body: form });
    expect(res.status).toBe(201);
    const { original, thumbnail } = (await res.json()) as { original: string; thumbnail: string };
    expect(original).toMatch(
      /^http:\/\/img\.test\/user-picture\/1\/0\/1\.300x200\.png\?_ts=\d{20}$/,
    );
    expect(thumbnail).toMatch(
      /^http:\/\/img\.test\/user-picture\/1\/0\/1\.100x66\.png\?_ts=\d{20}$/,
    );
    expect((await readdir(join(dir, 'images/user-picture/1/0'))).sort()).toEqual([
      '1.100x66.png',
      '1.300x200.png',
    ]);
    expect(await leftovers()).toEqual([]);

    const page = await (await fetch(new URL('users/1', app.base))).text();
    expect(page).toContain(`src="${original.replaceAll('&', '&amp;')}"`);
    expect(page).toContain(`src="${thumbnail.replaceAll('&', '&amp;')}"`);
    expect(page).not.toContain('[object Promise]');
  });

  it('answers 415 for a file that is no image, and removes that upload too', async () => {
    const form = new FormData();
    form.set('picture', new Blob([Buffer.from('not an image')]), 'face.png');
    const res = await fetch(new URL('users/1/picture', app.base), { method: 'POST', body: form });
    expect(res.status).toBe(415);
    expect(await leftovers()).toEqual([]);
  });
});
