/** A small seeded generator (mulberry32), so every random run can be replayed from its seed. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An element of the list, or `undefined` when it is empty. */
  pick<T>(list: readonly T[]): T | undefined;
}

export function random(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (list) => (list.length === 0 ? undefined : list[int(list.length)]) };
}

/** How much longer than the default the long runs go: `RELIABILITY_ITERATIONS`, default 1. */
export function iterations(): number {
  const value = Number(process.env.RELIABILITY_ITERATIONS ?? '1');
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`RELIABILITY_ITERATIONS must be a positive number, not ${value}`);
  }
  return value;
}
