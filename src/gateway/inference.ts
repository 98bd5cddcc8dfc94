// The three inference routes: read and check the body, build the InferenceRequest, call
// the dispatcher, and answer as JSON or as an SSE stream. A client that goes away aborts
// the dispatcher's signal, which is how cancellation reaches a backend or a peer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, errorMessage, SwarmError } from '../errors.js';
import {
  type AsyncTaskService,
  type Dispatcher,
  type InferenceKind,
  type InferenceOutcome,
  type InferenceRequest,
  type JsonObject,
  PRIVACY_ORDER,
  type Privacy,
  type ServedBy,
} from '../inference/types.js';
import { bodyWithUsage } from '../inference/wire-usage.js';
import { monotonicMs } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { parseJsonObject, readBody } from './body.js';
import { toHttpError } from './error-map.js';
import { RequestError } from './request-error.js';
import { type Headers, sendError, sendJson, servedHeaders } from './respond.js';
import type { ClientIdentity } from './security.js';
import { SseWriter } from './sse.js';
import { prefersAsync, sendAccepted } from './tasks.js';
import type { PrivacyDecider, PrivacyDecision } from './types.js';
import { validateRequest } from './validate.js';

/** What the inference handler needs from the server. */
export interface InferenceContext {
  logger: Logger;
  dispatcher: Dispatcher;
  tasks: AsyncTaskService | undefined;
  decidePrivacy: PrivacyDecider | undefined;
  maxBodyBytes: number;
  /** Registers a request in flight so stop() can wait for it or abort it; returns the release. */
  track: (controller: AbortController) => () => void;
}

/** Who asked and under which id. */
export interface RequestMeta {
  requestId: string;
  client: ClientIdentity;
  /** Headers every answer to this request carries (x-request-id, x-swarm-node of this gateway). */
  headers: Headers;
}

const CHUNK_OBJECT: Record<InferenceKind, string> = {
  chat: 'chat.completion.chunk',
  completions: 'text_completion',
  embeddings: 'list',
};
const ID_PREFIX: Record<InferenceKind, string> = { chat: 'chatcmpl', completions: 'cmpl', embeddings: 'emb' };

/** Serve one inference request from body to last byte; never throws. */
export async function handleInference(
  ctx: InferenceContext,
  kind: InferenceKind,
  req: IncomingMessage,
  res: ServerResponse,
  meta: RequestMeta,
): Promise<void> {
  const started = monotonicMs();
  const controller = new AbortController();
  const release = ctx.track(controller);
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new Error('the client closed the connection'));
  };
  res.on('close', onClose);
  let model: string | null = null;
  let privacy: Privacy | null = null;
  let privacyReason = '';
  let writer: SseWriter | null = null;
  let served: ServedBy | null = null;
  try {
    const body = parseJsonObject(await readBody(req, ctx.maxBodyBytes));
    const facts = validateRequest(kind, body);
    model = facts.model;
    const decision = decide(ctx.decidePrivacy, kind, body, req.headers['x-swarm-privacy'], meta.client.label);
    privacy = decision.privacy;
    privacyReason = decision.reason;
    const actionHeader = req.headers['x-swarm-action'];
    const request: InferenceRequest = {
      id: meta.requestId,
      kind,
      body,
      stream: facts.stream,
      privacy,
      client: meta.client.label,
      action: typeof actionHeader === 'string' && actionHeader !== '' ? actionHeader : facts.metadataAction,
    };
    ctx.logger.debug(
      {
        reqId: meta.requestId,
        kind,
        model,
        client: meta.client.label,
        privacy,
        privacyReason: decision.reason,
      },
      'request accepted',
    );
    if (ctx.tasks && prefersAsync(req)) {
      if (facts.stream) {
        throw new RequestError(
          'Prefer: respond-async cannot be combined with "stream": true; fetch the result from /v1/tasks/{id} instead of streaming it.',
          { code: ErrorCodes.GATEWAY_BAD_REQUEST, param: 'stream' },
        );
      }
      const task = ctx.tasks.submit(request, meta.client.keyId);
      sendAccepted(res, task, {
        ...meta.headers,
        'x-swarm-privacy': privacy,
        'x-swarm-privacy-reason': privacyReason,
      });
      ctx.logger.debug({ reqId: meta.requestId, kind, model }, 'async task accepted');
      return;
    }
    const requestPrivacy = privacy;
    let outcome: InferenceOutcome;
    if (facts.stream) {
      const sse = new SseWriter(res, facts.includeUsage, {
        id: `${ID_PREFIX[kind]}-${meta.requestId}`,
        object: CHUNK_OBJECT[kind],
        model,
      });
      writer = sse;
      const open = () =>
        sse.open(
          served ? servedHeaders(served, requestPrivacy, meta.requestId, privacyReason) : meta.headers,
        );
      outcome = await ctx.dispatcher.dispatch(request, {
        signal: controller.signal,
        onStart: (servedBy) => {
          served = servedBy;
          open();
        },
        onChunk: (chunk) => {
          if (!sse.started) open();
          sse.chunk(chunk);
        },
      });
      served = outcome.servedBy;
      if (!sse.started) open();
      sse.finish(outcome.usage);
    } else {
      outcome = await ctx.dispatcher.dispatch(request, {
        signal: controller.signal,
        onStart: (servedBy) => {
          served = servedBy;
        },
      });
      served = outcome.servedBy;
      sendJson(
        res,
        200,
        withUsage(outcome),
        servedHeaders(outcome.servedBy, requestPrivacy, meta.requestId, privacyReason),
      );
    }
    ctx.logger.info(
      {
        reqId: meta.requestId,
        kind,
        model,
        client: meta.client.label,
        node: outcome.servedBy.target.nodeName,
        backend: outcome.servedBy.target.backendId,
        attempts: outcome.servedBy.attempts,
        stream: facts.stream,
        ms: Math.round(monotonicMs() - started),
      },
      'request served',
    );
  } catch (err) {
    if (controller.signal.aborted) {
      ctx.logger.debug({ reqId: meta.requestId, kind, model }, 'client went away; request aborted');
      return;
    }
    const httpError = toHttpError(err, { model, requestId: meta.requestId });
    logFailure(ctx.logger, meta.requestId, kind, model, httpError.status, err);
    if (writer?.started) {
      writer.fail(httpError.error);
      return;
    }
    let headers: Headers =
      served && privacy ? servedHeaders(served, privacy, meta.requestId, privacyReason) : meta.headers;
    if (privacy && !served)
      headers = { ...headers, 'x-swarm-privacy': privacy, 'x-swarm-privacy-reason': privacyReason };
    if (httpError.swarmCode === ErrorCodes.GATEWAY_BODY_TOO_LARGE)
      headers = { ...headers, connection: 'close' };
    sendError(res, httpError, headers);
  } finally {
    res.off('close', onClose);
    release();
  }
}

function decide(
  decider: PrivacyDecider | undefined,
  kind: InferenceKind,
  body: JsonObject,
  header: string | string[] | undefined,
  client: string,
): PrivacyDecision {
  const value = typeof header === 'string' ? header.trim() : null;
  if (decider) return decider({ kind, body, header: value, client });
  if (value === null || value === '') return { privacy: 'lan', reason: 'default' };
  const privacy = value.toLowerCase() as Privacy;
  if (!PRIVACY_ORDER.includes(privacy)) {
    throw new RequestError(
      `Invalid x-swarm-privacy header ${JSON.stringify(value)}; use one of ${PRIVACY_ORDER.join(', ')}.`,
      { code: ErrorCodes.PRIVACY_INVALID, openaiCode: 'invalid_privacy' },
    );
  }
  return { privacy, reason: 'x-swarm-privacy header' };
}

function withUsage(outcome: InferenceOutcome): JsonObject {
  if (outcome.body === null) {
    throw new SwarmError(ErrorCodes.BACKEND_BAD_RESPONSE, 'the backend answered without a response body');
  }
  return bodyWithUsage(outcome.body, outcome.usage);
}

function logFailure(
  logger: Logger,
  reqId: string,
  kind: InferenceKind,
  model: string | null,
  status: number,
  err: unknown,
): void {
  if (!(err instanceof SwarmError)) {
    logger.error({ reqId, kind, model, err }, 'request failed with an unexpected error');
  } else if (status >= 500) {
    logger.warn({ reqId, kind, model, status, code: err.code, error: errorMessage(err) }, 'request failed');
  } else {
    logger.debug({ reqId, kind, model, status, code: err.code, error: errorMessage(err) }, 'request refused');
  }
}
