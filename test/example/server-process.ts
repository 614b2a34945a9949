/**
 * Runs the example app as `npm start` does (examples/express-app/server.ts under tsx), in a
 * child process with its own environment, and stops it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const URL_LINE = /at (http:\/\/localhost:(\d+)\/)/;

export interface RunningServer {
  /** `http://127.0.0.1:port/`: the printed URL's port on the IPv4 loopback. */
  url: string;
  /** What the app printed. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts the app on a free port; resolves once it has printed its URL. */
export async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/express-app/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  // 'close', not 'exit': it comes after the output has been read to its end.
  const exited = once(child, 'close');
  const port = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = URL_LINE.exec(output);
      if (match !== null) resolve(match[2]!);
    };
    child.stdout.on('data', check);
    void exited.then(([code]) => reject(new Error(`the app exited (${String(code)}):\n${output}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
