// What the OpenAI-compatible gateway is built from: its components, its options and the
// shapes the daemon hands it (model catalogue entries, the privacy decision).
import type { AsyncTaskService, Dispatcher, InferenceKind, JsonObject, Privacy } from '../inference/types.js';
import type { Logger } from '../util/logger.js';

/** What a name in `GET /v1/models` stands for: a concrete model, an alias, a tier or `auto`. */
export type ModelListKind = 'model' | 'alias' | 'tier' | 'auto';

/** One name the gateway lists in `GET /v1/models` (the daemon builds these from the swarm catalogue). */
export interface ModelListEntry {
  /** The name clients send in `model`. */
  id: string;
  kind: ModelListKind;
  /** Names of the nodes that hold a concrete model, loaded first. */
  nodes?: string[];
  /** True when some node has the model resident in memory. */
  loaded?: boolean;
  /** Largest context length a holder reports. */
  contextLength?: number;
  /** Unix seconds shown as `created`; the gateway's start time when absent. */
  created?: number;
  /** Shown as `owned_by`; "swarmd" when absent. */
  ownedBy?: string;
}

/** What the privacy decider sees of a request. */
export interface PrivacyInput {
  kind: InferenceKind;
  /** The OpenAI request body as received. */
  body: JsonObject;
  /** The `x-swarm-privacy` header, or null. */
  header: string | null;
  /** API key label or "local". */
  client: string;
}

/** The effective privacy of a request and why. */
export interface PrivacyDecision {
  privacy: Privacy;
  reason: string;
}

/** Decides a request's privacy; throws SwarmError PRIVACY_INVALID on a bad header value. */
export type PrivacyDecider = (input: PrivacyInput) => PrivacyDecision;

/** The services the gateway uses. */
export interface GatewayComponents {
  logger: Logger;
  dispatcher: Dispatcher;
  /** Every name `GET /v1/models` lists, at the time of the call. */
  catalogue: () => ModelListEntry[];
  decidePrivacy?: PrivacyDecider;
  /** Asynchronous tasks (`Prefer: respond-async`, `/v1/tasks`); absent: the preference is ignored. */
  tasks?: AsyncTaskService;
}

/** The gateway's options. */
export interface GatewayInit {
  /** Address to listen on (config gateway.host). */
  host: string;
  /** Port to listen on (config gateway.port); 0 picks a free one. */
  port: number;
  /** Keys clients must send as `Authorization: Bearer <key>`; empty: no auth. */
  apiKeys: string[];
  /** Largest accepted request body; default 32 MiB. */
  maxBodyBytes?: number;
  /** How long stop() waits for requests in flight before aborting them; default 5 s. */
  stopGraceMs?: number;
  nodeName: string;
  nodeId: string;
}
