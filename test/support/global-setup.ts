/**
 * Starts what the whole suite shares. Each service records how to reach it in the
 * environment, which Vitest passes on to every test worker.
 */
import type { TestProject } from 'vitest/node';

export default function setup(_project: TestProject): () => Promise<void> {
  const teardowns: Array<() => Promise<void>> = [];
  return async () => {
    for (const teardown of teardowns.reverse()) await teardown();
  };
}
