// Bench child: fake Ollama servers in their own process (so the bench client does not share an
// event loop with the server it measures), answering instantly with "ok".
//   node --import tsx bench/children/fake-ollama.ts model-a model-b …
// Starts one fake per argument on 127.0.0.1, prints one JSON line {"urls": [...]}, stops on SIGTERM.
import { FakeOllama } from '../../test/fakes/ollama.js';

const fakes = process.argv.slice(2).map((name) => {
  const fake = new FakeOllama({ models: [{ name }], loaded: [{ name }] });
  fake.behave({ reply: 'ok', firstTokenDelayMs: 0, tokenDelayMs: 0 });
  return fake;
});
const urls: string[] = [];
for (const fake of fakes) urls.push((await fake.start()).url);
process.stdout.write(`${JSON.stringify({ urls })}\n`);

// The fakes log every request; drop the logs now and then so a long run stays small.
const trim = setInterval(() => {
  for (const fake of fakes) {
    fake.requests.length = 0;
    fake.generations.length = 0;
  }
}, 1000);
process.on('SIGTERM', () => {
  clearInterval(trim);
  void Promise.all(fakes.map((fake) => fake.stop())).finally(() => process.exit(0));
});
