// Every adapter by kind: the one place that maps a BackendKind to the code that speaks it.
import type { BackendAdapter } from './adapter.js';
import { llamaSwapAdapter } from './llama-swap.js';
import { llamaCppAdapter } from './llamacpp.js';
import { lmStudioAdapter } from './lmstudio.js';
import { ollamaAdapter } from './ollama.js';
import { openAiAdapter } from './openai-compatible.js';
import type { BackendKind } from './types.js';
import { vllmAdapter } from './vllm.js';

/** The adapter for each server kind. */
export const ADAPTERS: Readonly<Record<BackendKind, BackendAdapter>> = Object.freeze({
  ollama: ollamaAdapter,
  'llama-swap': llamaSwapAdapter,
  vllm: vllmAdapter,
  llamacpp: llamaCppAdapter,
  lmstudio: lmStudioAdapter,
  openai: openAiAdapter,
});
