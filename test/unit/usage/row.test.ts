import { describe, expect, it } from 'vitest';
import { ErrorCodes, SwarmError } from '../../../src/errors.js';
import type { InferenceOutcome, InferenceRequest, Target } from '../../../src/inference/types.js';
import { rowFromFailure, rowFromOutcome } from '../../../src/usage/row.js';

const request: InferenceRequest = {
  id: 'req-1',
  kind: 'chat',
  body: { model: 'auto', messages: [] },
  stream: true,
  privacy: 'cloud',
  client: 'laptop',
  action: null,
};

function target(overrides: Partial<Target> = {}): Target {
  return {
    nodeId: 'node-b',
    nodeName: 'gamer',
    backendId: 'ollama-11434',
    backendUrl: 'http://10.0.0.2:11434',
    backendKind: 'ollama',
    model: 'qwen2.5-coder:32b',
    tier: 'deep',
    local: false,
    cloud: false,
    ...overrides,
  };
}

function outcome(t: Target): InferenceOutcome {
  return {
    servedBy: { target: t, attempts: 2 },
    body: null,
    usage: { promptTokens: 1000, completionTokens: 2000, totalTokens: 3000 },
    finishReason: 'stop',
    firstTokenMs: 150,
    latencyMs: 2400,
  };
}

const prices = {
  price: { inputPerMTok: 1, outputPerMTok: 2 },
  reference: { model: 'gpt-4o', inputPerMTok: 5, outputPerMTok: 15 },
};

describe('rowFromOutcome', () => {
  it('records a local model at no cost, with what the reference would have cost', () => {
    const row = rowFromOutcome(request, outcome(target()), prices, 1_000);
    expect(row).toEqual({
      ts: 1_000,
      requestId: 'req-1',
      client: 'laptop',
      nodeId: 'node-b',
      nodeName: 'gamer',
      backend: 'ollama-11434',
      model: 'qwen2.5-coder:32b',
      tier: 'deep',
      cloud: false,
      privacy: 'cloud',
      promptTokens: 1000,
      completionTokens: 2000,
      latencyMs: 2400,
      firstTokenMs: 150,
      attempts: 2,
      costUsd: 0,
      referenceCostUsd: 0.035,
      outcome: 'ok',
      errorCode: null,
    });
  });

  it('charges a cloud model at its price', () => {
    const row = rowFromOutcome(request, outcome(target({ cloud: true, tier: 'cloud' })), prices, 1_000);
    expect(row.cloud).toBe(true);
    expect(row.costUsd).toBeCloseTo(0.005, 12);
  });
});

describe('rowFromFailure', () => {
  it('records the error code and no tokens, on this node when no target was reached', () => {
    const err = new SwarmError(ErrorCodes.PEER_UNREACHABLE, 'gone');
    const row = rowFromFailure(
      request,
      { target: null, attempts: 0, latencyMs: 12, firstTokenMs: null, error: err, cancelled: false },
      { nodeId: 'node-a', nodeName: 'box-a' },
      2_000,
    );
    expect(row).toMatchObject({
      nodeId: 'node-a',
      backend: 'none',
      model: 'auto',
      cloud: false,
      outcome: 'error',
      errorCode: 'SWARM_ERR_PEER_UNREACHABLE',
      costUsd: 0,
      referenceCostUsd: null,
      promptTokens: 0,
    });
  });

  it('names the last target tried, and SWARM_ERR_INTERNAL for an error without a code (as the client got)', () => {
    const row = rowFromFailure(
      request,
      {
        target: target(),
        attempts: 3,
        latencyMs: 12,
        firstTokenMs: null,
        error: new Error('boom'),
        cancelled: false,
      },
      { nodeId: 'node-a', nodeName: 'box-a' },
      2_000,
    );
    expect(row).toMatchObject({
      nodeId: 'node-b',
      backend: 'ollama-11434',
      attempts: 3,
      outcome: 'error',
      errorCode: 'SWARM_ERR_INTERNAL',
    });
  });

  it('marks a cancelled request as such, with its own code', () => {
    const row = rowFromFailure(
      request,
      {
        target: target(),
        attempts: 1,
        latencyMs: 40,
        firstTokenMs: 9,
        error: new Error('aborted'),
        cancelled: true,
      },
      { nodeId: 'node-a', nodeName: 'box-a' },
      2_000,
    );
    expect(row).toMatchObject({
      outcome: 'cancelled',
      errorCode: 'SWARM_ERR_REQUEST_CANCELLED',
      firstTokenMs: 9,
    });
  });
});
