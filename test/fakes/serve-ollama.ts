// Run a fake Ollama as its own process (for e2e tests inside a network namespace):
//   node --import tsx test/fakes/serve-ollama.ts --port 11434 --models a,b --loaded a \
//     [--reply "text"] [--first-token-delay-ms 100] [--token-delay-ms 10] [--log gen.jsonl]
// Prints one JSON line {"url": ...} when listening; stops on SIGTERM. With --log, every
// generation request appends a JSON line when it starts ({event:"start", requestId, model}) and
// one when it ends ({event:"end", requestId, model, completed, aborted}).
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FakeOllama } from './ollama.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '11434' },
    models: { type: 'string', default: '' },
    loaded: { type: 'string', default: '' },
    reply: { type: 'string' },
    'first-token-delay-ms': { type: 'string', default: '0' },
    'token-delay-ms': { type: 'string', default: '0' },
    log: { type: 'string' },
  },
});
const names = (text: string) => text.split(',').filter((name) => name.length > 0);
const fake = new FakeOllama({
  models: names(values.models).map((name) => ({ name, contextLength: 32768 })),
  loaded: names(values.loaded).map((name) => ({ name, contextLength: 8192 })),
});
fake.behave({
  ...(values.reply !== undefined && { reply: values.reply }),
  firstTokenDelayMs: Number(values['first-token-delay-ms']),
  tokenDelayMs: Number(values['token-delay-ms']),
});
const log = values.log;
if (log) {
  const write = (line: Record<string, unknown>) => appendFileSync(log, `${JSON.stringify(line)}\n`);
  const begin = fake.begin.bind(fake);
  fake.begin = (record) => {
    write({ event: 'start', requestId: record.requestId, model: record.model, at: Date.now() });
    return begin(record);
  };
  const end = fake.end.bind(fake);
  fake.end = (record) => {
    end(record);
    const { requestId, model, completed, aborted } = record;
    write({ event: 'end', requestId, model, completed, aborted, at: Date.now() });
  };
}
const { url } = await fake.start({ port: Number(values.port) });
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on('SIGTERM', () => {
  fake.stop().finally(() => process.exit(0));
});
