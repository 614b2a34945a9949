/**
 * Another process holding a SQLite file's write lock (`BEGIN IMMEDIATE`) until told to commit:
 * what the CLI's `gc` or a second app process does to a running app, in the worst case.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const HOLDER = `
const sqlite3 = require('sqlite3');
const db = new sqlite3.Database(process.env.SQLITE_FILE);
db.exec('BEGIN IMMEDIATE', (error) => {
  if (error) { console.error(error.message); process.exit(1); }
  process.stdout.write('locked\\n');
});
process.stdin.once('data', () => db.exec('COMMIT', () => db.close(() => process.exit(0))));
`;

export interface HeldLock {
  /** Commits and waits for the process to exit. */
  release(): Promise<void>;
}

/** Resolves once another process holds the write lock of `file`. */
export async function holdWriteLock(file: string): Promise<HeldLock> {
  const child = spawn(process.execPath, ['-e', HOLDER], {
    cwd: ROOT,
    env: { ...process.env, SQLITE_FILE: file },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
  });
  return {
    release: async () => {
      child.stdin.write('commit\n');
      await exited;
    },
  };
}
