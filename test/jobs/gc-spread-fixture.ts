/**
 * A store and rows whose keys spread over many id ranges, for the distributed gc tests: user
 * pictures (an integer id column, restricted in SQL) with negative, zero, short and long ids,
 * post photos (an id computed in JavaScript from two columns), rows without their file, files
 * of no row in several ranges, and a file of no model's type.
 */
import type { Store } from '../../src/index.js';
import type { Models } from '../models/models.js';

export const USER_IDS = [-4, 0, 1, 5, 12, 19, 123, 1000, 2001, 30_000, 987_654_321];
/** (postId, orderIndex): object ids (a + b)² + a = 2, 27, 39, 131. */
export const PHOTO_KEYS: Array<[number, number]> = [
  [1, 0],
  [2, 3],
  [3, 3],
  [10, 1],
];

export async function seedSpreadIds(models: Models, store: Store): Promise<void> {
  await models.User.bulkCreate(USER_IDS.map((id) => ({ id })));
  const picture = (userId: number, width: number, original: boolean) => ({
    userId,
    width,
    height: 2,
    mimetype: 'image/png',
    original,
    createdAt: new Date(),
  });
  await models.UserPicture.bulkCreate(
    [...USER_IDS.map((id) => picture(id, 3, true)), picture(12, 1, false), picture(2001, 1, false)],
    { hooks: false },
  );
  for (const id of USER_IDS) {
    // User 12's original and user 2001's thumbnail are rows without a file.
    if (id !== 12)
      await store.putFile(Buffer.from(`u${id}`), 'user-picture', id, 3, 2, 'image/png', false);
  }
  await store.putFile(Buffer.from('t12'), 'user-picture', 12, 1, 2, 'image/png', false);
  await models.Post.bulkCreate(PHOTO_KEYS.map(([id]) => ({ id })));
  await models.PostPhoto.bulkCreate(
    PHOTO_KEYS.map(([postId, orderIndex]) => ({
      postId,
      orderIndex,
      width: 3,
      height: 2,
      mimetype: 'image/png',
      original: true,
      createdAt: new Date(),
    })),
    { hooks: false },
  );
  for (const id of [2, 27, 131]) {
    await store.putFile(Buffer.from(`p${id}`), 'post-photo', id, 3, 2, 'image/png', false);
  }
  // Orphans: in the ranges -, 7, 1234567 of user pictures (and 1/ beside user 1), one post
  // photo, and one file of no model's type.
  for (const id of [-9, 7, 1_234_567, 1]) {
    await store.putFile(Buffer.from('o'), 'user-picture', id, 9, 9, 'image/png', false);
  }
  await store.putFile(Buffer.from('o'), 'post-photo', 50, 3, 2, 'image/png', false);
  await store.putFile(Buffer.from('o'), 'ghost', 7, 1, 1, 'image/png', false);
}

/** What one whole gc of the seeded store finds. */
export const SPREAD_COUNTS = { orphans: 6, missing: 3, unknown: 0 };
