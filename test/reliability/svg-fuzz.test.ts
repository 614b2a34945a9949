/**
 * SVG fuzzing: the evasion corpus and the benign drawings mutated at the text level
 * (`svg-mutations.ts`). The check never throws; and no mutant is both accepted and able to run
 * a script or make a request: a sample of the accepted ones, mutants of hostile files first, is
 * loaded in Chromium as the benign set is.
 *
 * Replay with RELIABILITY_SEED; run longer with RELIABILITY_ITERATIONS (mutants) and
 * SVG_FUZZ_BROWSER (accepted mutants loaded in Chromium, default 25).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findSvgProblem } from '../../src/images/svg-safety.js';
import { BENIGN } from '../images/svg-benign.js';
import { CHROMIUM_FOUND, CHROMIUM_MISSING, SvgBrowser } from '../images/svg-browser.js';
import { EVASIONS } from '../images/svg-evasions.js';
import { iterations, random } from './random.js';
import { mutateSvg } from './svg-mutations.js';

const MUTANTS = Math.round(1500 * iterations());
const SEED = Number(process.env.RELIABILITY_SEED ?? '20261202');
const BROWSER_SAMPLE = Number(process.env.SVG_FUZZ_BROWSER ?? '25');

interface Mutant {
  name: string;
  svg: string;
  hostile: boolean;
  accepted: boolean;
}

let mutants: Mutant[];
const tally = { mutants: 0, accepted: 0, acceptedHostile: 0, loaded: 0 };

beforeAll(() => {
  const seeds = [
    ...EVASIONS.map((c) => ({ name: c.name, svg: c.svg, hostile: true })),
    ...BENIGN.map((b) => ({ name: b.name, svg: b.svg, hostile: false })),
  ];
  const rng = random(SEED);
  mutants = Array.from({ length: MUTANTS }, (_, i) => {
    const seed = seeds[i % seeds.length]!;
    const svg = mutateSvg(seed.svg, rng);
    return { name: `${seed.name} #${i}`, svg, hostile: seed.hostile, accepted: false };
  });
});

describe(`${MUTANTS} mutants of the SVG corpora (seed ${SEED})`, () => {
  test('the check judges every mutant without throwing; some pass, most are refused', () => {
    for (const mutant of mutants) {
      mutant.accepted = findSvgProblem(Buffer.from(mutant.svg)) === undefined;
    }
    const accepted = mutants.filter((m) => m.accepted);
    tally.mutants = mutants.length;
    tally.accepted = accepted.length;
    tally.acceptedHostile = accepted.filter((m) => m.hostile).length;
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.length).toBeLessThan(mutants.length);
  });

  test.skipIf(!CHROMIUM_FOUND)(
    CHROMIUM_FOUND
      ? `no accepted mutant runs a script or makes a request in Chromium (up to ${BROWSER_SAMPLE})`
      : `accepted mutants in Chromium: ${CHROMIUM_MISSING}`,
    { timeout: 60_000 + BROWSER_SAMPLE * 10_000 },
    async () => {
      const accepted = mutants.filter((m) => m.accepted);
      // Mutants of hostile files first: they are the ones that could carry a payload through.
      const sample = [
        ...accepted.filter((m) => m.hostile),
        ...accepted.filter((m) => !m.hostile),
      ].slice(0, BROWSER_SAMPLE);
      const browser = await SvgBrowser.open();
      try {
        for (const mutant of sample) {
          const verdict = await browser.load(mutant.svg);
          expect(
            {
              scripts: verdict.scripts,
              dialogs: verdict.dialogs,
              pwned: verdict.pwned,
              requests: verdict.requests,
            },
            `${mutant.name}\n${mutant.svg}`,
          ).toEqual({ scripts: 0, dialogs: 0, pwned: false, requests: [] });
          tally.loaded += 1;
        }
      } finally {
        await browser.close();
      }
      expect(tally.loaded).toBe(sample.length);
    },
  );
});

afterAll(() => {
  console.log(
    `svg fuzzer: ${tally.mutants} mutants (seed ${SEED}), ${tally.accepted} accepted ` +
      `(${tally.acceptedHostile} of hostile files), ${tally.loaded} loaded in Chromium: ` +
      'no script ran, no request left',
  );
});
