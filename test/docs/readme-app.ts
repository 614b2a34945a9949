/**
 * Runs the README's Install app as its readers would: started as a process, then used over HTTP
 * the way its comments promise (a user created, a picture uploaded and served with its
 * thumbnail, the picture's page, a non-image refused). The README test runs it from the
 * sources; the pack test runs it, as JavaScript in ESM and CommonJS, against the installed tarball.
 */
import { spawn } from 'node:child_process';
import sharp from 'sharp';
import ts from 'typescript';
import { expect } from 'vitest';

export interface RunningApp {
  /** `http://localhost:<port>/`, from the app's `Listening on` line. */
  readonly base: string;
  stop(): Promise<void>;
}

/**
 * A README block as the JavaScript a user would ship: ESM as written, or CommonJS, where there
 * is no top-level `await` and so the code after the imports runs in an async function.
 */
export function toJavaScript(code: string, format: 'esm' | 'cjs'): string {
  let source = code;
  if (format === 'cjs') {
    const file = ts.createSourceFile('app.ts', code, ts.ScriptTarget.Latest, true);
    const imports = file.statements.filter((statement) => ts.isImportDeclaration(statement));
    const body = file.statements.filter((statement) => !ts.isImportDeclaration(statement));
    source = [
      ...imports.map((statement) => statement.getFullText()),
      '(async () => {',
      ...body.map((statement) => statement.getFullText()),
      '})().catch((error) => {\n  console.error(error);\n  process.exitCode = 1;\n});',
    ].join('\n');
  }
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: format === 'cjs' ? ts.ModuleKind.CommonJS : ts.ModuleKind.ESNext,
      esModuleInterop: true,
    },
  });
  return outputText;
}

/** Starts `node <args>` in `cwd` on a free port and waits for its `Listening on <url>` line. */
export async function startApp(args: readonly string[], cwd: string): Promise<RunningApp> {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, PORT: '0', NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  };
  try {
    const base = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const found = /Listening on (http:\S+)/.exec(stdout);
        if (found) resolve(found[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    return { base, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Uses the Install app over HTTP as its comments say it works. */
export async function exerciseInstallApp(base: string): Promise<void> {
  const created = await fetch(new URL('users', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Ada' }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: number };

  const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#c33' } })
    .png()
    .toBuffer();
  const form = new FormData();
  form.set('picture', new Blob([png], { type: 'application/octet-stream' }), 'face.png');
  const uploaded = await fetch(new URL(`users/${id}/picture`, base), {
    method: 'POST',
    body: form,
  });
  expect(uploaded.status).toBe(201);
  const { url, thumbnail } = (await uploaded.json()) as { url: string; thumbnail: string };
  const original = await fetch(url);
  expect(original.status).toBe(200);
  expect(Buffer.from(await original.arrayBuffer()).equals(png)).toBe(true);
  const small = await sharp(Buffer.from(await (await fetch(thumbnail)).arrayBuffer())).metadata();
  expect([small.width, small.height]).toEqual([128, 85]);

  const page = await fetch(new URL(`users/${id}/picture`, base));
  expect(await page.text()).toContain(`src="${url.replaceAll('&', '&amp;')}"`);
  const refused = new FormData();
  refused.set('picture', new Blob([Buffer.from('not an image')]), 'x.png');
  const bad = await fetch(new URL(`users/${id}/picture`, base), { method: 'POST', body: refused });
  expect(bad.status).toBe(415);
  expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('E_NOT_AN_IMAGE');
}
