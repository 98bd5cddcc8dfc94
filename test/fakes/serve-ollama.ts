// Run a fake Ollama as its own process (for e2e tests inside a network namespace):
//   node --import tsx test/fakes/serve-ollama.ts --port 11434 --models a,b --loaded a
// Prints one JSON line {"url": ...} when listening; stops on SIGTERM.
import { parseArgs } from 'node:util';
import { FakeOllama } from './ollama.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '11434' },
    models: { type: 'string', default: '' },
    loaded: { type: 'string', default: '' },
  },
});
const names = (text: string) => text.split(',').filter((name) => name.length > 0);
const fake = new FakeOllama({
  models: names(values.models).map((name) => ({ name, contextLength: 32768 })),
  loaded: names(values.loaded).map((name) => ({ name, contextLength: 8192 })),
});
const { url } = await fake.start({ port: Number(values.port) });
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on('SIGTERM', () => {
  fake.stop().finally(() => process.exit(0));
});
