/**
 * Run by decoder-pool.test.ts in a process of its own: decodes one file through a pool and
 * then simply ends, printing its decoder children's pids. It must exit without being told to
 * (the children are unref'd) and leave no child behind.
 * Usage: node --import tsx decoder-pool.script.ts <file>
 */
import { decoderPids, DecoderPool } from '../../src/images/decoder-pool.js';

const [file] = process.argv.slice(2) as [string];
const pool = new DecoderPool(2);
const [first, second] = await Promise.all([pool.decode(file, 30_000), pool.decode(file, 30_000)]);
process.stdout.write(JSON.stringify({ outcomes: [first, second], pids: decoderPids() }) + '\n');
