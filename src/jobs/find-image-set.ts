/**
 * Finds again, in a worker, the image set a job was sent for (see `ImageSetAddress`).
 */
import type { Model, ModelStatic, Sequelize, WhereOptions } from 'sequelize';
import { JobTargetError } from '../errors.js';
import type { BaseImageSet } from '../models/image-set.js';
import type { Image } from '../models/image.js';
import type { ImageSetAddress } from '../models/thumbnail-scheduler.js';

/**
 * The set, or `undefined` when its parent row is gone (deleted after the job was sent).
 * @throws {JobTargetError} when this process defines no such model or attachment.
 */
export async function findImageSet(
  sequelize: Sequelize,
  address: ImageSetAddress,
): Promise<BaseImageSet<Image> | undefined> {
  if (typeof address !== 'object' || address === null) {
    throw new JobTargetError('The job names no image set.');
  }
  const Parent: ModelStatic<Model> | undefined = sequelize.models[address.model];
  if (Parent === undefined) {
    throw new JobTargetError(
      `The job is for a model ${address.model} this worker does not define; load the same ` +
        'models in the worker as in the web process.',
    );
  }
  const parent = await Parent.findOne({
    where: { [address.sourceKey]: address.key } as WhereOptions,
  });
  if (parent === null) return undefined;
  const set = (parent as unknown as Record<string, unknown>)[address.attachment];
  if (address.criteria !== undefined) {
    if (!hasMethod(set, 'getImageSet')) throw notAnAttachment(address);
    return (set as { getImageSet(criteria: object): BaseImageSet<Image> }).getImageSet(
      address.criteria,
    );
  }
  if (!hasMethod(set, 'generateThumbnails')) throw notAnAttachment(address);
  return set as BaseImageSet<Image>;
}

function hasMethod(value: unknown, name: string): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[name] === 'function'
  );
}

function notAnAttachment(address: ImageSetAddress): JobTargetError {
  return new JobTargetError(
    `${address.model} has no image attachment ${address.attachment}` +
      (address.criteria === undefined ? '' : ' with multiple: true') +
      ' in this worker; load the same models as in the web process.',
  );
}
