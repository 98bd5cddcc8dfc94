// `swarmctl chat "prompt"`: one request through this box's OpenAI-compatible gateway, over HTTP
// with the `openai` client, the same path any app takes (routing, fallback, privacy, ledger).
// The gateway's address comes from the daemon's Status; its API key, when the config sets
// gateway.apiKeys, from the config. Tokens go to stdout as they arrive; a one-line footer
// (who served it, attempts, tokens, time) goes to stderr.
import type OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { ErrorCodes, errorMessage, SwarmError } from '../../errors.js';
import { PRIVACY_ORDER, type Privacy } from '../../inference/types.js';
import { chatJson, errorJson, servedJson } from '../json.js';
import { renderChatFooter } from '../render.js';
import { type CliIo, type CommandOptions, type DaemonCommand, ExitCodes, printJson } from '../types.js';

/** The model asked for when --model is not given: the gateway picks a tier from the prompt. */
export const DEFAULT_CHAT_MODEL = 'auto';

/** Key sent when the gateway needs none (it ignores it; the client library wants one). */
const NO_KEY = 'swarmctl';

/** Send the prompt, print the reply (streamed unless --no-stream or --json) and the footer. */
export const chatCommand: DaemonCommand = async (client, opts, io) => {
  const prompt = opts.args[0] ?? '';
  if (prompt.trim() === '') {
    throw new SwarmError(ErrorCodes.ARGS_INVALID, 'chat needs a prompt: swarmctl chat "your question"');
  }
  const model = stringOption(opts, 'model') ?? DEFAULT_CHAT_MODEL;
  const system = stringOption(opts, 'system');
  const privacy = privacyOption(stringOption(opts, 'privacy'));
  const streaming = opts.options['stream'] !== false && !opts.json;

  const baseURL = (await client.status()).gatewayUrl;
  if (!baseURL) {
    throw new SwarmError(
      ErrorCodes.GATEWAY_UNREACHABLE,
      `swarmd on ${opts.socket} does not say where its gateway listens: it is still starting, or older than this swarmctl (upgrade swarmd and restart it)`,
    );
  }
  // Loaded here, not at start-up: every other command would pay for it.
  const openai = await import('openai');
  const ai = new openai.OpenAI({
    baseURL,
    apiKey: opts.config().gateway.apiKeys[0]?.key ?? NO_KEY,
    maxRetries: 0,
  });
  const messages: ChatCompletionMessageParam[] = [
    ...(system !== undefined ? [{ role: 'system' as const, content: system }] : []),
    { role: 'user', content: prompt },
  ];
  const request = privacy ? { headers: { 'x-swarm-privacy': privacy } } : {};
  const started = performance.now();
  const text = textSink(io);
  try {
    if (streaming) {
      const { data, response } = await ai.chat.completions
        .create({ model, messages, stream: true, stream_options: { include_usage: true } }, request)
        .withResponse();
      let usage: OpenAI.CompletionUsage | null = null;
      for await (const chunk of data) {
        const delta = chunk.choices[0]?.delta?.content;
        if (delta) text.write(delta);
        if (chunk.usage) usage = chunk.usage;
      }
      text.end();
      footer(io, response.headers, usage, started);
      return ExitCodes.OK;
    }
    const { data, response } = await ai.chat.completions.create({ model, messages }, request).withResponse();
    if (opts.json) {
      printJson(io, chatJson(data, servedJson(response.headers)));
      return ExitCodes.OK;
    }
    text.write(data.choices[0]?.message?.content ?? '');
    text.end();
    footer(io, response.headers, data.usage ?? null, started);
    return ExitCodes.OK;
  } catch (err) {
    text.end();
    return gatewayFailure(openai, err, baseURL, opts, io);
  }
};

function footer(
  io: CliIo,
  headers: { get(name: string): string | null },
  usage: OpenAI.CompletionUsage | null,
  started: number,
): void {
  const line = renderChatFooter({
    served: servedJson(headers),
    promptTokens: usage?.prompt_tokens ?? null,
    completionTokens: usage?.completion_tokens ?? null,
    elapsedMs: performance.now() - started,
  });
  io.err(io.styled ? `\x1b[2m${line}\x1b[22m` : line);
}

/**
 * A refusal or failure the gateway answered (OpenAI error body, or an error event mid-stream):
 * `swarmctl: <message> [<x-swarm-error-code>]`, exit 1. No answer at all: exit 3.
 */
function gatewayFailure(
  openai: typeof import('openai'),
  err: unknown,
  baseURL: string,
  opts: CommandOptions,
  io: CliIo,
): number {
  if (err instanceof openai.APIConnectionError) {
    throw new SwarmError(
      ErrorCodes.GATEWAY_UNREACHABLE,
      `cannot reach swarmd's gateway at ${baseURL}: ${rootCause(err)}; is swarmd running (swarmctl status)?`,
      { cause: err },
    );
  }
  if (!(err instanceof openai.APIError)) throw err;
  const body = err.error as { message?: unknown; code?: unknown } | undefined;
  const message =
    typeof body?.message === 'string' && body.message !== '' ? body.message : err.message || 'request failed';
  const swarmCode = err.headers?.get('x-swarm-error-code') ?? null;
  const shown = swarmCode ?? (typeof body?.code === 'string' ? body.code : null);
  io.err(`swarmctl: ${message}${shown ? ` [${shown}]` : ''}`);
  if (opts.json) printJson(io, errorJson(swarmCode, message));
  return ExitCodes.FAILED;
}

/** Where streamed text goes: straight to stdout, or collected into one `out` when io has no `write`. */
function textSink(io: CliIo): { write(s: string): void; end(): void } {
  let last = '';
  let collected = '';
  let wrote = false;
  let ended = false;
  return {
    write(s) {
      if (s === '' || ended) return;
      wrote = true;
      last = s;
      if (io.write) io.write(s);
      else collected += s;
    },
    end() {
      if (ended) return;
      ended = true;
      if (!wrote) return;
      if (io.write) {
        if (!last.endsWith('\n')) io.write('\n');
      } else io.out(collected.replace(/\n$/, ''));
    },
  };
}

function stringOption(opts: CommandOptions, name: string): string | undefined {
  const value = opts.options[name];
  return typeof value === 'string' ? value : undefined;
}

function privacyOption(value: string | undefined): Privacy | undefined {
  if (value === undefined) return undefined;
  const level = value.trim().toLowerCase();
  if ((PRIVACY_ORDER as readonly string[]).includes(level)) return level as Privacy;
  throw new SwarmError(
    ErrorCodes.ARGS_INVALID,
    `--privacy: got ${JSON.stringify(value)}; expected one of ${PRIVACY_ORDER.join(', ')}`,
  );
}

/** The innermost cause's message (fetch failed → connect ECONNREFUSED 127.0.0.1:8765). */
function rootCause(err: Error): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return errorMessage(current);
}
