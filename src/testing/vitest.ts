/**
 * Vitest, an optional peer dependency: `sequelize-imageattach/testing` is of use only inside a
 * Vitest run, and where Vitest is not installed its import fails with the command that
 * installs it rather than Node's bare "Cannot find package". The top-level `await` costs
 * nothing here: Vitest itself cannot be `require()`d (its CommonJS entry throws), so neither
 * can this subpath.
 */
import type * as Vitest from 'vitest';
import { MissingDependencyError } from '../errors.js';
import { isMissingPackage } from '../optional-peer.js';

async function loadVitest(): Promise<typeof Vitest> {
  try {
    return await import('vitest');
  } catch (error) {
    if (!isMissingPackage(error, 'vitest')) throw error;
    throw new MissingDependencyError(['vitest'], 'sequelize-imageattach/testing', {
      cause: error,
    });
  }
}

export const { beforeAll, describe, expect, it } = await loadVitest();
