import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { defaultProcessingQueue, ProcessingQueue, QueueFullError } from '../../src/index.js';
import { machineConcurrency } from '../../src/images/queue.js';

/** A task that runs until released, recording that it started. */
function gate(started: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { task: () => (started.push(name), done.then(() => name)), release };
}

describe('ProcessingQueue', () => {
  it('runs at most `concurrency` tasks, the rest in order as slots free', async () => {
    const queue = new ProcessingQueue({ concurrency: 2, maxQueued: 10 });
    const started: string[] = [];
    const gates = ['a', 'b', 'c', 'd'].map((name) => gate(started, name));
    const results = gates.map((g) => queue.run(g.task));
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual(['a', 'b']);
    expect([queue.running, queue.queued]).toEqual([2, 2]);
    gates[1]!.release();
    await results[1];
    await new Promise(setImmediate);
    expect(started).toEqual(['a', 'b', 'c']);
    for (const g of gates) g.release();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect([queue.running, queue.queued]).toEqual([0, 0]);
  });

  it('refuses with QueueFullError (503, retryAfter) beyond maxQueued, and accepts again later', async () => {
    const queue = new ProcessingQueue({ concurrency: 1, maxQueued: 1, retryAfter: 3 });
    const started: string[] = [];
    const a = gate(started, 'a');
    const b = gate(started, 'b');
    const running = [queue.run(a.task), queue.run(b.task)];
    expect(queue.full).toBe(true);
    const refused = await queue.run(() => Promise.resolve('c')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(QueueFullError);
    expect(refused).toMatchObject({ code: 'E_QUEUE_FULL', status: 503, retryAfter: 3 });
    a.release();
    b.release();
    await Promise.all(running);
    expect(queue.full).toBe(false);
    expect(await queue.run(() => Promise.resolve('c'))).toBe('c');
  });

  it('frees the slot of a task that fails or throws', async () => {
    const queue = new ProcessingQueue({ concurrency: 1, maxQueued: 0 });
    await expect(queue.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      queue.run(() => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
    expect(queue.running).toBe(0);
    expect(await queue.run(() => Promise.resolve(1))).toBe(1);
  });

  it("runs a task that waited in its caller's async context, not the releasing task's", async () => {
    const queue = new ProcessingQueue({ concurrency: 1, maxQueued: 1 });
    const context = new AsyncLocalStorage<string>();
    const started: string[] = [];
    const first = gate(started, 'first');
    const running = context.run('first request', () => queue.run(first.task));
    const waiting = context.run('second request', () =>
      queue.run(() => Promise.resolve(context.getStore())),
    );
    first.release();
    await running;
    expect(await waiting).toBe('second request');
  });

  it('is sized to the machine by default', () => {
    const queue = new ProcessingQueue();
    expect(queue.concurrency).toBe(machineConcurrency());
    expect(queue.concurrency).toBeGreaterThanOrEqual(1);
    expect(queue.maxQueued).toBe(16 * queue.concurrency);
    expect(queue.retryAfter).toBe(5);
    expect(defaultProcessingQueue()).toBe(defaultProcessingQueue());
  });

  it.each([
    [{ concurrency: 0 }, 'concurrency'],
    [{ concurrency: 1.5 }, 'concurrency'],
    [{ maxQueued: -1 }, 'maxQueued'],
    [{ retryAfter: 0.5 }, 'retryAfter'],
  ])('refuses %j naming %s', (options, option) => {
    expect(() => new ProcessingQueue(options)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', option }),
    );
  });
});
