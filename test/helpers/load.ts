// Drive a bounded `openai`-client load (test/helpers/load-client.ts) from inside one host of a
// test LAN against that host's gateway, and read back what the fake backends ran; and single
// requests from inside a host (askOnce). Shared by the chaos, failover and churn tests and the
// chaos bench.
import { fileURLToPath } from 'node:url';
import type { GenerationLine, SwarmNode } from './swarm-node.js';
import type { TestLan } from './testlan.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One request the gateway answered. */
export interface Served {
  index: number;
  /** x-request-id: the task id the backends saw. */
  id: string | null;
  node: string | null;
  attempts: number;
  content: string;
}

/** Everything the load client saw. */
export interface LoadSummary {
  served: Served[];
  failed: { index: number; status: number | null; code: string | null; message: string }[];
}

export interface LoadOptions {
  model: string;
  count: number;
  parallel?: number;
  /** Host whose gateway (127.0.0.1:8765) gets the load; default 0. */
  host?: number;
  /** `during` runs once this many requests have finished. */
  after?: number;
  /** Stop starting requests after this long (count still bounds them). */
  seconds?: number;
  during?: () => Promise<void>;
}

/** Run the load to the end; rejects when the client or `during` fails. */
export async function runLoad(lan: TestLan, options: LoadOptions): Promise<LoadSummary> {
  const child = lan.exec(
    options.host ?? 0,
    process.execPath,
    [
      '--import',
      'tsx',
      'test/helpers/load-client.ts',
      '--url',
      'http://127.0.0.1:8765/v1',
      '--model',
      options.model,
      '--count',
      String(options.count),
      '--parallel',
      String(options.parallel ?? 8),
      ...(options.seconds !== undefined ? ['--seconds', String(options.seconds)] : []),
    ],
    { cwd: ROOT },
  );
  let buffer = '';
  let summary: LoadSummary | undefined;
  let fired: Promise<void> | undefined;
  let duringError: unknown;
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      const message = JSON.parse(line) as { progress?: number; summary?: LoadSummary };
      if (message.summary) summary = message.summary;
      const due = message.progress !== undefined && message.progress >= (options.after ?? 0);
      if (due && options.during && !fired)
        fired = options.during().catch((err: unknown) => {
          duringError = err;
        });
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  await fired;
  if (duringError) throw duringError;
  if (code !== 0 || !summary) throw new Error(`load client failed (${code}): ${stderr}`);
  return summary;
}

/** Every generation log line of these nodes' fake backends. */
export async function generationsOf(nodes: SwarmNode[]): Promise<GenerationLine[]> {
  return (await Promise.all(nodes.map((node) => node.generations()))).flat();
}

/** How many times each request id was run to completion, counted across the backends. */
export function completions(lines: GenerationLine[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines)
    if (line.event === 'end' && line.completed && line.requestId)
      counts.set(line.requestId, (counts.get(line.requestId) ?? 0) + 1);
  return counts;
}

/** What one request from inside a host got back. */
export interface Answer {
  status: number;
  node: string | null;
  attempts: number;
  /** x-request-id: the task id the backends saw. */
  id: string | null;
  /** The reply's text, or the error message. */
  content: string;
}

/** One non-streaming request to host `host`'s gateway (127.0.0.1:8765), from inside that host. */
export async function askOnce(lan: TestLan, host: number, model: string): Promise<Answer> {
  const script = `
    const res = await fetch('http://127.0.0.1:8765/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: ${JSON.stringify(model)}, messages: [{ role: 'user', content: 'one answer please' }] }),
    });
    const body = await res.json();
    console.log(JSON.stringify({
      status: res.status,
      node: res.headers.get('x-swarm-node'),
      attempts: Number(res.headers.get('x-swarm-attempts') ?? 0),
      id: res.headers.get('x-request-id'),
      content: body.choices?.[0]?.message?.content ?? body.error?.message ?? JSON.stringify(body),
    }));`;
  const child = lan.exec(host, process.execPath, ['--input-type=module', '-e', script]);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  await new Promise((resolve) => child.once('exit', resolve));
  if (!out.trim()) throw new Error(`request from host ${host} failed: ${err}`);
  return JSON.parse(out) as Answer;
}
