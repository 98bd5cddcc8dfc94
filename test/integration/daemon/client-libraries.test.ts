// The gateway of a real swarmd (loopback, fakes for its model servers) through the client
// libraries apps use: `openai`, the AI SDK (`ai` + `@ai-sdk/openai-compatible`) and LangChain
// (`@langchain/openai`). Each must get through a tool call and its second round trip, structured
// output, embeddings, and see swarmd's refusals as its own typed errors: 404 for an unknown model,
// 400 for a prompt longer than the model's context, 429 with Retry-After when the queue is full.
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { type AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { tool as lcTool } from '@langchain/core/tools';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { APICallError, embed, generateText, Output, stepCountIs, tool } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { GenerationRecord } from '../../fakes/generation/script.js';
import { FakeLlamaCpp } from '../../fakes/llamacpp.js';
import { FakeOllama } from '../../fakes/ollama.js';
import { ensureBuilt } from '../../helpers/build.js';
import { createSandbox, loopbackFlags, type Sandbox, writeConfig } from '../../helpers/sandbox.js';
import { killAllSwarmd, startSwarmd } from '../../helpers/swarmd.js';
import { waitUntil } from '../../helpers/wait.js';

// tools-m answers with a get_weather call, then (given the tool's result) with text; json-m
// answers a JSON object; slow-m has one slot and takes a while; tight-m (llama.cpp) has a
// 32-token context.
const ollama = new FakeOllama({
  models: ['tools-m:8b', 'json-m:8b', 'emb-m:1b', 'slow-m:1b'].map((name) => ({ name })),
  loaded: ['tools-m:8b', 'json-m:8b', 'emb-m:1b', 'slow-m:1b'].map((name) => ({ name })),
});
const llamacpp = new FakeLlamaCpp({ modelId: 'tight-m', nCtx: 32 });
const LONG_PROMPT = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');

let box: Sandbox;
let baseURL: string;

function lastMessage(record: GenerationRecord): { role?: string; content?: unknown } {
  return (record.messages?.at(-1) ?? {}) as { role?: string; content?: unknown };
}

beforeAll(async () => {
  await ensureBuilt();
  await Promise.all([ollama.start(), llamacpp.start()]);
  ollama.behave({
    toolCalls: (record) =>
      record.model === 'tools-m:8b' && lastMessage(record).role !== 'tool'
        ? [{ name: 'get_weather', arguments: '{"city":"Paris"}' }]
        : null,
    respond: (record) => {
      if (record.model === 'json-m:8b') return '{"city":"Paris","sunny":true}';
      const last = lastMessage(record);
      return last.role === 'tool' ? `The weather: ${String(last.content)}` : 'slow reply';
    },
  });
  box = await createSandbox();
  const config = await writeConfig(box, {
    backends: {
      servers: [
        { url: ollama.url, kind: 'ollama', models: { 'slow-m:1b': { maxConcurrency: 1 } } },
        { url: llamacpp.url, kind: 'llamacpp' },
      ],
    },
    // No queue: a request finding every slot busy is answered 429 at once.
    routing: { fallback: [], queueSize: 0 },
  });
  const node = await startSwarmd(['--config', config, ...loopbackFlags(box), '--name', 'solo'], {
    env: box.env,
  });
  baseURL = node.gatewayUrl();
}, 60_000);

afterAll(async () => {
  await killAllSwarmd();
  await Promise.all([ollama.stop(), llamacpp.stop()]);
  await box?.remove();
});

const openai = () => new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });
const aiSdk = () =>
  createOpenAICompatible({ name: 'swarm', baseURL, includeUsage: true, supportsStructuredOutputs: true });
const langchain = (model: string) =>
  new ChatOpenAI({ model, apiKey: 'unused', maxRetries: 0, configuration: { baseURL } });

const weatherParams = z.object({ city: z.string() });
const WEATHER_JSON_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
} as const;

/** What the fake's tools-m saw last: the tool result the client sent back. */
function toolResultSeen(): unknown {
  const record = ollama.generations.filter((g) => g.model === 'tools-m:8b').at(-1);
  return record ? lastMessage(record) : null;
}

describe('tools: a call, then the second round trip with its result', () => {
  it('openai', async () => {
    const client = openai();
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: WEATHER_JSON_SCHEMA } },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await client.chat.completions.create({ model: 'tools-m:8b', messages, tools });
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    if (call?.type !== 'function') throw new Error('no function call');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'sunny, 21 C' });
    const second = await client.chat.completions.create({ model: 'tools-m:8b', messages, tools });
    expect(second.choices[0]?.message.content).toBe('The weather: sunny, 21 C');
    expect(toolResultSeen()).toMatchObject({ role: 'tool', tool_call_id: call.id });
  });

  it('openai, streamed', async () => {
    const stream = await openai().chat.completions.create({
      model: 'tools-m:8b',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: WEATHER_JSON_SCHEMA } }],
      stream: true,
    });
    let name = '';
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      name += delta?.tool_calls?.[0]?.function?.name ?? '';
      args += delta?.tool_calls?.[0]?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    expect(finish).toBe('tool_calls');
  });

  it('AI SDK (generateText runs the tool and asks again)', async () => {
    const seen: unknown[] = [];
    const result = await generateText({
      model: aiSdk()('tools-m:8b'),
      prompt: 'Weather in Paris?',
      tools: {
        get_weather: tool({
          inputSchema: weatherParams,
          execute: async (input) => {
            seen.push(input);
            return 'sunny, 21 C';
          },
        }),
      },
      stopWhen: stepCountIs(2),
      maxRetries: 0,
    });
    expect(seen).toEqual([{ city: 'Paris' }]);
    expect(result.steps).toHaveLength(2);
    expect(result.text).toBe('The weather: sunny, 21 C');
  });

  it('LangChain (bindTools, then a ToolMessage)', async () => {
    const getWeather = lcTool(async () => 'sunny, 21 C', {
      name: 'get_weather',
      description: 'the weather in a city',
      schema: weatherParams,
    });
    const model = langchain('tools-m:8b').bindTools([getWeather]);
    const question = new HumanMessage('Weather in Paris?');
    const first = (await model.invoke([question])) as AIMessage;
    expect(first.tool_calls).toEqual([
      expect.objectContaining({ name: 'get_weather', args: { city: 'Paris' } }),
    ]);
    const call = first.tool_calls![0]!;
    const answer = new ToolMessage({
      content: await getWeather.invoke(call.args as { city: string }),
      tool_call_id: call.id!,
    });
    const second = await model.invoke([question, first, answer]);
    expect(second.content).toBe('The weather: sunny, 21 C');
  });
});

describe('structured output', () => {
  const schema = z.object({ city: z.string(), sunny: z.boolean() });

  it('openai (response_format json_schema)', async () => {
    const reply = await openai().chat.completions.create({
      model: 'json-m:8b',
      messages: [{ role: 'user', content: 'Describe Paris.' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'city', schema: { type: 'object', properties: { city: { type: 'string' } } } },
      },
    });
    expect(JSON.parse(reply.choices[0]?.message.content ?? '')).toEqual({ city: 'Paris', sunny: true });
    expect(ollama.generations.at(-1)?.body.response_format).toMatchObject({ type: 'json_schema' });
  });

  it('AI SDK (Output.object)', async () => {
    const result = await generateText({
      model: aiSdk()('json-m:8b'),
      output: Output.object({ schema }),
      prompt: 'Describe Paris.',
      maxRetries: 0,
    });
    expect(result.output).toEqual({ city: 'Paris', sunny: true });
    expect(ollama.generations.at(-1)?.body.response_format).toMatchObject({ type: 'json_schema' });
  });

  it('LangChain (withStructuredOutput)', async () => {
    const model = langchain('json-m:8b').withStructuredOutput(schema, { method: 'jsonSchema' });
    expect(await model.invoke('Describe Paris.')).toEqual({ city: 'Paris', sunny: true });
  });
});

describe('embeddings', () => {
  it('openai, AI SDK and LangChain get one vector per input', async () => {
    const fromOpenAi = await openai().embeddings.create({ model: 'emb-m:1b', input: ['one', 'two'] });
    expect(fromOpenAi.data.map((d) => d.index)).toEqual([0, 1]);
    expect(fromOpenAi.data[0]?.embedding.length).toBeGreaterThan(0);

    const fromAiSdk = await embed({ model: aiSdk().embeddingModel('emb-m:1b'), value: 'one', maxRetries: 0 });
    expect(fromAiSdk.embedding).toEqual(fromOpenAi.data[0]?.embedding);

    const lc = new OpenAIEmbeddings({
      model: 'emb-m:1b',
      apiKey: 'unused',
      maxRetries: 0,
      configuration: { baseURL },
    });
    expect(await lc.embedDocuments(['one', 'two'])).toEqual(fromOpenAi.data.map((d) => d.embedding));
  });
});

describe('typed errors', () => {
  const hi = 'hi';

  it('404: an unknown model', async () => {
    const fromOpenAi = await openai()
      .chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: hi }] })
      .catch((err: unknown) => err);
    expect(fromOpenAi).toBeInstanceOf(OpenAI.NotFoundError);
    expect(fromOpenAi).toMatchObject({ code: 'model_not_found' });

    const fromAiSdk = await generateText({
      model: aiSdk()('no-such-model'),
      prompt: hi,
      maxRetries: 0,
    }).catch((err: unknown) => err);
    expect(APICallError.isInstance(fromAiSdk)).toBe(true);
    expect(fromAiSdk).toMatchObject({ statusCode: 404, isRetryable: false });

    const fromLangChain = await langchain('no-such-model')
      .invoke(hi)
      .catch((err: unknown) => err);
    expect(fromLangChain).toMatchObject({ status: 404, lc_error_code: 'MODEL_NOT_FOUND' });
  });

  it('400: a prompt longer than the model’s context', async () => {
    const fromOpenAi = await openai()
      .chat.completions.create({ model: 'tight-m', messages: [{ role: 'user', content: LONG_PROMPT }] })
      .catch((err: unknown) => err);
    expect(fromOpenAi).toBeInstanceOf(OpenAI.BadRequestError);
    expect(fromOpenAi).toMatchObject({ code: 'context_length_exceeded' });

    const fromAiSdk = await generateText({
      model: aiSdk()('tight-m'),
      prompt: LONG_PROMPT,
      maxRetries: 0,
    }).catch((err: unknown) => err);
    expect(APICallError.isInstance(fromAiSdk)).toBe(true);
    expect(fromAiSdk).toMatchObject({ statusCode: 400, isRetryable: false });

    const fromLangChain = await langchain('tight-m')
      .invoke(LONG_PROMPT)
      .catch((err: unknown) => err);
    // LangChain types this as its ContextOverflowError only when the message has OpenAI's wording
    // ("maximum context length"); swarmd's does not, so it is the plain 400 with OpenAI's code.
    expect(fromLangChain).toMatchObject({ status: 400, code: 'context_length_exceeded' });
  });

  it('429 with Retry-After: every slot busy and no queue', async () => {
    ollama.behave({ firstTokenDelayMs: 4000 });
    const holding = openai().chat.completions.create({
      model: 'slow-m:1b',
      messages: [{ role: 'user', content: hi }],
    });
    try {
      await waitUntil(() => ollama.inflight === 1, 'the first request to take the only slot', 5000, 20);

      const fromOpenAi = await openai()
        .chat.completions.create({ model: 'slow-m:1b', messages: [{ role: 'user', content: hi }] })
        .catch((err: unknown) => err);
      expect(fromOpenAi).toBeInstanceOf(OpenAI.RateLimitError);
      expect(
        Number((fromOpenAi as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')),
      ).toBeGreaterThanOrEqual(1);

      const fromAiSdk = await generateText({ model: aiSdk()('slow-m:1b'), prompt: hi, maxRetries: 0 }).catch(
        (err: unknown) => err,
      );
      expect(APICallError.isInstance(fromAiSdk)).toBe(true);
      expect(fromAiSdk).toMatchObject({ statusCode: 429, isRetryable: true });
      expect(Number((fromAiSdk as APICallError).responseHeaders?.['retry-after'])).toBeGreaterThanOrEqual(1);

      const fromLangChain = await langchain('slow-m:1b')
        .invoke(hi)
        .catch((err: unknown) => err);
      expect(fromLangChain).toMatchObject({ status: 429, lc_error_code: 'MODEL_RATE_LIMIT' });
    } finally {
      await holding.catch(() => undefined);
      ollama.behave({ firstTokenDelayMs: 0 });
    }
    expect(ollama.maxInflightSeen).toBe(1);
  });
});
