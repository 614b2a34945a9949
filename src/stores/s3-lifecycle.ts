/**
 * `ensureIncomingLifecycle()`: the bucket rule that expires the incoming objects of direct
 * uploads a browser posted and never completed. Completed (and refused) uploads are deleted
 * by the server; this covers the abandoned ones.
 */
import type { LifecycleRule } from '@aws-sdk/client-s3';
import { InvalidOptionError, StoreError } from '../errors.js';
import { incomingPrefix, storeFailure } from './s3-incoming.js';
import { s3Sdk } from './s3-sdk.js';
import type { S3Store } from './s3.js';

export interface IncomingLifecycleOptions {
  /**
   * Days after which an incoming object expires (S3 counts whole days, rounding up to the next
   * midnight UTC).
   * @default 1
   */
  days?: number;
}

/** The rule's ID, so it is found (and replaced) among the bucket's other rules. */
export const INCOMING_RULE_ID = 'imageattach-incoming-expiry';

/**
 * Makes sure the bucket of `store` has the rule expiring its incoming objects after `days`,
 * keeping the bucket's other rules, then reads the configuration back to check it. Safe to
 * call at every start-up: a bucket that has the rule already is left alone. Needs
 * `s3:GetLifecycleConfiguration` and `s3:PutLifecycleConfiguration`.
 *
 * @example
 * await ensureIncomingLifecycle(store); // before app.listen()
 * @returns the rule, as the bucket has it.
 * @throws {StoreError} when the bucket does not keep the rule (or S3 fails).
 */
export async function ensureIncomingLifecycle(
  store: S3Store,
  options: IncomingLifecycleOptions = {},
): Promise<LifecycleRule> {
  const days = options.days ?? 1;
  if (!Number.isSafeInteger(days) || days < 1) {
    throw new InvalidOptionError('days', `must be a positive integer, not ${String(days)}`);
  }
  const prefix = incomingPrefix(store);
  const wanted: LifecycleRule = {
    ID: INCOMING_RULE_ID,
    Status: 'Enabled',
    Filter: { Prefix: prefix },
    Expiration: { Days: days },
  };
  const rules = await readRules(store);
  if (rules.some((rule) => isRule(rule, prefix, days))) return findRule(rules, prefix, days);
  const others = rules.filter((rule) => rule.ID !== INCOMING_RULE_ID);
  try {
    await store.client.send(
      new s3Sdk.PutBucketLifecycleConfigurationCommand({
        Bucket: store.bucket,
        LifecycleConfiguration: { Rules: [...others, wanted] },
      }),
    );
  } catch (error) {
    throw storeFailure(error, prefix, 'set the lifecycle rule of');
  }
  return findRule(await readRules(store), prefix, days);
}

/** The bucket's lifecycle rules; none when it has no configuration. */
export async function readRules(store: S3Store): Promise<LifecycleRule[]> {
  try {
    const { Rules } = await store.client.send(
      new s3Sdk.GetBucketLifecycleConfigurationCommand({ Bucket: store.bucket }),
    );
    return Rules ?? [];
  } catch (error) {
    if ((error as { name?: unknown }).name === 'NoSuchLifecycleConfiguration') return [];
    throw storeFailure(error, incomingPrefix(store), 'read the lifecycle rules of');
  }
}

function findRule(rules: LifecycleRule[], prefix: string, days: number): LifecycleRule {
  const rule = rules.find((candidate) => isRule(candidate, prefix, days));
  if (rule === undefined) {
    throw new StoreError(
      `The bucket did not keep the rule expiring ${prefix} after ${days} day(s); set it by hand ` +
        '(see "Direct uploads" in the README).',
      prefix,
    );
  }
  return rule;
}

/** An enabled rule that expires everything under `prefix` within `days`. */
function isRule(rule: LifecycleRule, prefix: string, days: number): boolean {
  // Old-style rules put the prefix on the rule itself rather than in a filter.
  const rulePrefix = rule.Filter?.Prefix ?? (rule as { Prefix?: string }).Prefix;
  const filterIsPrefixOnly =
    rule.Filter === undefined ||
    (rule.Filter.Tag === undefined &&
      rule.Filter.And === undefined &&
      rule.Filter.ObjectSizeGreaterThan === undefined &&
      rule.Filter.ObjectSizeLessThan === undefined);
  return (
    rule.Status === 'Enabled' &&
    filterIsPrefixOnly &&
    typeof rulePrefix === 'string' &&
    prefix.startsWith(rulePrefix) &&
    rule.Expiration?.Days !== undefined &&
    rule.Expiration.Days <= days
  );
}
