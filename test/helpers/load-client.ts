// A bounded load from the real `openai` client, run as its own process inside a test-LAN host:
//   node --import tsx test/helpers/load-client.ts --url http://127.0.0.1:8765/v1 --model m \
//     --count 200 --parallel 8 [--stream-every 0] [--seconds 30]
// With --seconds, the lanes stop starting requests after that long (--count still bounds them).
// The client's own retries are off (maxRetries: 0): every recovery must be the gateway's.
// Prints {"progress": n} after each finished request and one final {"summary": ...} line.
import { parseArgs } from 'node:util';
import OpenAI from 'openai';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    model: { type: 'string' },
    count: { type: 'string', default: '100' },
    parallel: { type: 'string', default: '4' },
    'stream-every': { type: 'string', default: '0' },
    seconds: { type: 'string' },
  },
});
if (!values.url || !values.model) throw new Error('--url and --model are required');
const model = values.model;
const count = Number(values.count);
const parallel = Number(values.parallel);
const streamEvery = Number(values['stream-every']);
const deadline = values.seconds !== undefined ? Date.now() + Number(values.seconds) * 1000 : Infinity;
const client = new OpenAI({ baseURL: values.url, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });

interface Served {
  index: number;
  id: string | null;
  node: string | null;
  attempts: number;
  stream: boolean;
  content: string;
}
interface Failed {
  index: number;
  stream: boolean;
  status: number | null;
  code: string | null;
  message: string;
}

const served: Served[] = [];
const failed: Failed[] = [];
let finished = 0;

async function one(index: number): Promise<void> {
  const stream = streamEvery > 0 && index % streamEvery === 0;
  const messages = [{ role: 'user' as const, content: `request ${index}` }];
  try {
    if (stream) {
      const { data, response } = await client.chat.completions
        .create({ model, messages, stream: true })
        .withResponse();
      let content = '';
      for await (const chunk of data) content += chunk.choices[0]?.delta?.content ?? '';
      served.push(entry(index, response, true, content));
    } else {
      const { data, response } = await client.chat.completions.create({ model, messages }).withResponse();
      served.push(entry(index, response, false, data.choices[0]?.message.content ?? ''));
    }
  } catch (err) {
    const failure = err as { status?: number; headers?: Headers; message?: string };
    failed.push({
      index,
      stream,
      status: failure.status ?? null,
      code: failure.headers?.get?.('x-swarm-error-code') ?? null,
      message: failure.message ?? String(err),
    });
  }
  finished++;
  process.stdout.write(`${JSON.stringify({ progress: finished })}\n`);
}

function entry(index: number, response: Response, stream: boolean, content: string): Served {
  return {
    index,
    id: response.headers.get('x-request-id'),
    node: response.headers.get('x-swarm-node'),
    attempts: Number(response.headers.get('x-swarm-attempts') ?? '0'),
    stream,
    content,
  };
}

let next = 0;
const lane = async () => {
  while (next < count && Date.now() < deadline) await one(next++);
};
await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
process.stdout.write(`${JSON.stringify({ summary: { served, failed } })}\n`);
