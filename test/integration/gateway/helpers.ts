// A GatewayServer on 127.0.0.1:0 with a scripted Dispatcher, for the gateway integration tests.
import { request as httpRequest } from 'node:http';
import OpenAI from 'openai';
import { onTestFinished } from 'vitest';
import { GatewayServer } from '../../../src/gateway/server.js';
import type { GatewayInit, ModelListEntry, PrivacyDecider } from '../../../src/gateway/types.js';
import type {
  Dispatcher,
  InferenceOutcome,
  InferenceRequest,
  JsonObject,
  RunHooks,
  ServedBy,
  Usage,
} from '../../../src/inference/types.js';
import { silentLogger } from '../../../src/util/logger.js';
import { sleep } from '../../helpers/wait.js';

/** What the fake dispatcher does with a request. */
export type Script = (request: InferenceRequest, hooks: RunHooks) => Promise<InferenceOutcome>;

/** A Dispatcher that runs whatever script the test set, and records what it was given. */
export class ScriptedDispatcher implements Dispatcher {
  script: Script = async () => outcome(chatBody('hello'));
  readonly requests: InferenceRequest[] = [];
  readonly signals: AbortSignal[] = [];

  dispatch(request: InferenceRequest, hooks: RunHooks): Promise<InferenceOutcome> {
    this.requests.push(request);
    this.signals.push(hooks.signal);
    return this.script(request, hooks);
  }
}

export const servedBy: ServedBy = {
  target: {
    nodeId: 'node-b-id',
    nodeName: 'box-b',
    backendId: 'ollama@127.0.0.1:11434',
    backendUrl: 'http://127.0.0.1:11434',
    backendKind: 'ollama',
    model: 'qwen2.5-coder:7b',
    tier: 'fast',
    local: false,
    cloud: false,
  },
  attempts: 2,
};

export const usage: Usage = { promptTokens: 11, completionTokens: 7, totalTokens: 18 };

/** A finished request's outcome. */
export function outcome(body: JsonObject | null, extra: Partial<InferenceOutcome> = {}): InferenceOutcome {
  return { servedBy, body, usage, finishReason: 'stop', firstTokenMs: 5, latencyMs: 10, ...extra };
}

/** A chat.completion body without usage. */
export function chatBody(content: string): JsonObject {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1741569952,
    model: 'qwen2.5-coder:7b',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
  };
}

/** A chat.completion.chunk with one delta. */
export function chatChunk(delta: JsonObject, finish: string | null = null): JsonObject {
  return {
    id: 'chatcmpl-stream',
    object: 'chat.completion.chunk',
    created: 1741569952,
    model: 'qwen2.5-coder:7b',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  };
}

/** A script that streams the given pieces of text, with a short pause between chunks. */
export function streamScript(pieces: string[], pauseMs = 2): Script {
  return async (_request, hooks) => {
    hooks.onStart?.(servedBy);
    hooks.onChunk?.(chatChunk({ role: 'assistant', content: '', refusal: null }));
    for (const piece of pieces) {
      await sleep(pauseMs);
      hooks.onChunk?.(chatChunk({ content: piece }));
    }
    hooks.onChunk?.(chatChunk({}, 'stop'));
    return outcome(null);
  };
}

/** Resolves when the signal aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export const CATALOGUE: ModelListEntry[] = [
  { id: 'qwen2.5-coder:7b', kind: 'model', nodes: ['box-a', 'box-b'], loaded: true, contextLength: 32768 },
  { id: 'coder', kind: 'alias' },
  { id: 'fast', kind: 'tier' },
  { id: 'auto', kind: 'auto' },
];

/** A started gateway with its fake dispatcher and an OpenAI client pointed at it. */
export interface Harness {
  gateway: GatewayServer;
  dispatcher: ScriptedDispatcher;
  port: number;
  baseURL: string;
  client: OpenAI;
}

/** Start a gateway on an ephemeral loopback port, from within a test; it stops when the test ends. */
export async function startGateway(
  options: Partial<GatewayInit> & { decidePrivacy?: PrivacyDecider; apiKey?: string } = {},
): Promise<Harness> {
  const dispatcher = new ScriptedDispatcher();
  const { decidePrivacy, apiKey, ...init } = options;
  const gateway = new GatewayServer(
    { logger: silentLogger, dispatcher, catalogue: () => CATALOGUE, decidePrivacy },
    { host: '127.0.0.1', port: 0, apiKeys: [], nodeName: 'box-a', nodeId: 'node-a-id', ...init },
  );
  onTestFinished(() => gateway.stop());
  const port = await gateway.start();
  const baseURL = `http://127.0.0.1:${port}/v1`;
  const client = new OpenAI({ baseURL, apiKey: apiKey ?? 'x', maxRetries: 0 });
  return { gateway, dispatcher, port, baseURL, client };
}

/** A raw HTTP exchange (node:http, so Host and Origin can be anything). */
export function rawRequest(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
