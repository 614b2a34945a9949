import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { parseWorkerArgs } from '../../src/cli/worker-command.js';

describe('worker arguments', () => {
  it('reads every option, with defaults', () => {
    expect(parseWorkerArgs(['--models', 'm.js', '--store', 'fs:/x'])).toEqual({
      models: 'm.js',
      store: 'fs:/x',
      database: undefined,
      concurrency: 1,
      pollIntervalMs: 1000,
      queuePrefix: undefined,
      quiet: false,
      help: false,
    });
    expect(
      parseWorkerArgs([
        '--models=m.js',
        '--store=fs:/x',
        '--db=postgres://h/d',
        '--concurrency=3',
        '--poll-interval=250',
        '--queue-prefix=imgs',
        '--quiet',
      ]),
    ).toMatchObject({
      database: 'postgres://h/d',
      concurrency: 3,
      pollIntervalMs: 250,
      queuePrefix: 'imgs',
      quiet: true,
    });
  });

  it.each([
    [['--store', 'fs:/x'], /--models is required/],
    [['--models', 'm.js', '--store', ''], /--store is required/],
    [['--models', 'm.js', '--store', 'fs:/x', '--nope'], /nope/],
    [['--models', 'm.js', '--store', 'fs:/x', '--db', 'a', '--database', 'b'], /not both/],
    [['--models', 'm.js', '--store', 'fs:/x', '--concurrency', '0'], /--concurrency/],
  ])('refuses %j with a UsageError', (argv, message) => {
    expect(() => parseWorkerArgs(argv)).toThrow(UsageError);
    expect(() => parseWorkerArgs(argv)).toThrow(message);
  });

  it('needs nothing else for --help', () => {
    expect(parseWorkerArgs(['--help']).help).toBe(true);
  });
});
