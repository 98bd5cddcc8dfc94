// The fake llama-server (test/fakes/llamacpp.ts, current shape) against the real one: the same
// requests to both must give answers of the same structure — the same keys at every level that
// swarmd or a client reads, the same events of a stream in the same order (where usage and timings
// ride), the same error envelope. Values (text, ids, numbers) differ and are not compared.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeLlamaCpp } from '../fakes/llamacpp.js';
import { LlamaServer, routerModelsDir, stopAllLlamaServers } from '../helpers/llama-server.js';

type Json = Record<string, unknown>;

let real: LlamaServer;
const fake = new FakeLlamaCpp({ modelId: 'tiny', nCtx: 512, totalSlots: 2 });

beforeAll(async () => {
  real = await LlamaServer.start({ alias: 'tiny', ctx: 1024, parallel: 2 });
  await fake.start();
});

afterAll(async () => {
  await stopAllLlamaServers();
  await fake.stop();
});

const both = (): Array<[string, string]> => [
  ['real', real.url],
  ['fake', fake.url],
];

async function post(base: string, path: string, body: Json): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The key structure of a JSON value: objects by sorted keys, arrays by their first element. */
function skeleton(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [skeleton(value[0])];
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, skeleton((value as Json)[key])]),
    );
  }
  return value === null ? null : typeof value;
}

/** The events of an SSE body, each as its skeleton, with runs of equal ones (the tokens) folded. */
async function streamSkeleton(res: Response): Promise<unknown[]> {
  const events = (await res.text())
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6));
  const shapes = events.map((data) => (data === '[DONE]' ? '[DONE]' : skeleton(JSON.parse(data))));
  return shapes.filter((shape, i) => i === 0 || JSON.stringify(shape) !== JSON.stringify(shapes[i - 1]));
}

const chat = { model: 'tiny', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 4 };

describe('the fake llama-server has the real one’s shapes', () => {
  it('a whole chat answer', async () => {
    const [r, f] = await Promise.all(both().map(([, url]) => post(url, '/v1/chat/completions', chat)));
    expect(skeleton(await f!.json())).toEqual(skeleton(await r!.json()));
  });

  it('a streamed chat, without and with include_usage (where usage and timings ride)', async () => {
    for (const extra of [{}, { stream_options: { include_usage: true } }]) {
      const body = { ...chat, stream: true, ...extra };
      const [r, f] = await Promise.all(both().map(([, url]) => post(url, '/v1/chat/completions', body)));
      expect(await streamSkeleton(f!)).toEqual(await streamSkeleton(r!));
    }
  });

  it('a streamed text completion, with include_usage (usage on the finish chunk, no usage chunk)', async () => {
    const body = {
      model: 'tiny',
      prompt: 'Hello',
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    };
    const [r, f] = await Promise.all(both().map(([, url]) => post(url, '/v1/completions', body)));
    expect(await streamSkeleton(f!)).toEqual(await streamSkeleton(r!));
  });

  it('the model list, slots of an idle server, and the error of an unknown route', async () => {
    for (const path of ['/v1/models', '/slots', '/no-such-route']) {
      const [r, f] = await Promise.all(both().map(([, url]) => fetch(`${url}${path}`)));
      expect(f!.status, path).toBe(r!.status);
      const [rs, fs] = [skeleton(await r!.json()), skeleton(await f!.json())];
      if (path === '/v1/models') {
        // meta lists the model's own numbers (vocab, parameters...), which differ by model.
        const dropMeta = (s: unknown) => JSON.stringify(s).replace(/"meta":\{[^}]*\}/g, '"meta":{}');
        expect(dropMeta(fs)).toBe(dropMeta(rs));
      } else {
        expect(fs, path).toEqual(rs);
      }
    }
  });
});

describe('the fake llama-server router has the real router’s shapes', () => {
  let models: Awaited<ReturnType<typeof routerModelsDir>>;
  let router: LlamaServer;
  // The real router's models get -c 512 -np 2 (the helper's defaults): 2 slots of 256 tokens.
  const fakeRouter = new FakeLlamaCpp({
    nCtx: 256,
    totalSlots: 2,
    router: [
      { id: 'alpha-tiny', status: 'unloaded' },
      { id: 'bravo-tiny', status: 'unloaded' },
    ],
  });

  beforeAll(async () => {
    models = await routerModelsDir(['alpha-tiny', 'bravo-tiny']);
    router = await LlamaServer.start({ modelsDir: models.dir });
    await fakeRouter.start();
  });

  afterAll(async () => {
    await router?.stop();
    await fakeRouter.stop();
    await models?.remove();
  });

  const pair = (): Array<[string, string]> => [
    ['real', router.url],
    ['fake', fakeRouter.url],
  ];
  const statuses = async (url: string) =>
    (
      (await (await fetch(`${url}/models`)).json()) as {
        data: Array<{ id: string; status: { value: string } }>;
      }
    ).data.map((m) => `${m.id}:${m.status.value}`);

  it('lists, refuses an unknown model, loads on first request, and unloads as the real router does', async () => {
    const [r0, f0] = await Promise.all(pair().map(([, url]) => fetch(`${url}/models`)));
    expect(skeleton(await f0!.json())).toEqual(skeleton(await r0!.json()));

    const [rp, fp] = await Promise.all(pair().map(([, url]) => fetch(`${url}/props`)));
    expect(skeleton(await fp!.json())).toEqual(skeleton(await rp!.json()));
    const modelProps = (url: string, model: string) => fetch(`${url}/props?model=${model}&autoload=false`);
    for (const model of ['alpha-tiny', 'nope']) {
      const [r, f] = await Promise.all(pair().map(([, url]) => modelProps(url, model)));
      expect(f!.status, model).toBe(r!.status);
      expect(await f!.json(), model).toEqual(await r!.json());
    }

    for (const [path, body] of [
      ['/models/unload', { model: 'alpha-tiny' }], // not running yet
      ['/models/unload', { model: 'nope' }],
      ['/v1/chat/completions', { ...chat, model: 'nope' }],
    ] as const) {
      const [r, f] = await Promise.all(pair().map(([, url]) => post(url, path, body)));
      expect(f!.status, path).toBe(r!.status);
      expect(await f!.json(), `${path} ${body.model}`).toEqual(await r!.json());
    }

    await Promise.all(
      pair().map(([, url]) => post(url, '/v1/chat/completions', { ...chat, model: 'alpha-tiny' })),
    );
    for (const [, url] of pair())
      expect(await statuses(url)).toEqual(['alpha-tiny:loaded', 'bravo-tiny:unloaded']);
    // A loaded model's own /props: what swarmd reads from it (slots, per-slot context) agrees.
    const slotsOf = async (url: string) => {
      const props = (await (await modelProps(url, 'alpha-tiny')).json()) as Json;
      return [props.total_slots, (props.default_generation_settings as Json).n_ctx];
    };
    expect(await slotsOf(fakeRouter.url)).toEqual(await slotsOf(router.url));

    const [r1, f1] = await Promise.all(
      pair().map(([, url]) => post(url, '/models/unload', { model: 'alpha-tiny' })),
    );
    expect(await f1!.json()).toEqual(await r1!.json());
    await vi.waitFor(async () =>
      expect(await statuses(router.url)).toEqual(['alpha-tiny:unloaded', 'bravo-tiny:unloaded']),
    );
    expect(await statuses(fakeRouter.url)).toEqual(['alpha-tiny:unloaded', 'bravo-tiny:unloaded']);
  });
});
