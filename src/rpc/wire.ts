// TypeScript shapes of the proto messages as @grpc/proto-loader delivers them
// (camelCase, 64-bit ints as numbers, enums as their names). Optional fields are
// absent when unset. Keep in step with proto/swarm/v1/swarm.proto.

export type WireActivity =
  | 'ACTIVITY_UNSPECIFIED'
  | 'ACTIVITY_ACTIVE'
  | 'ACTIVITY_PAUSED'
  | 'ACTIVITY_DRAINING'
  | 'ACTIVITY_LEAVING';

export interface WireProtocolVersion {
  major: number;
  minor: number;
}

export interface WireGpu {
  index: number;
  vendor: string;
  name: string;
  uuid: string;
  memoryTotalMib?: number;
  memoryUsedMib?: number;
  memoryFreeMib?: number;
  utilizationPct?: number;
  temperatureC?: number;
  powerW?: number;
  unifiedMemory: boolean;
}

export interface WireModel {
  id: string;
  loaded: boolean;
  contextLength: number;
  maxConcurrency: number;
  inflight: number;
  sizeVramBytes?: number;
}

export interface WireBackend {
  id: string;
  kind: string;
  url: string;
  healthy: boolean;
  version: string;
  error: string;
  models: WireModel[];
}

export interface WireSystemFacts {
  hostname: string;
  platform: string;
  distro: string;
  release: string;
  arch: string;
  cpuModel: string;
  cpuCores: number;
  cpuLoadPct: number;
  memTotalBytes: number;
  memAvailableBytes: number;
}

export interface WireNodeInfo {
  id: string;
  name: string;
  endpoints: string[];
  protocol: WireProtocolVersion | null;
  incarnation: number;
  activity: WireActivity;
  gpus: WireGpu[];
  backends: WireBackend[];
  system: WireSystemFacts | null;
  softwareVersion: string;
  inflight: number;
  generation: number;
  activityReason: string;
  /** Its first look at its model servers is not done yet: `backends` may be missing some. */
  starting?: boolean;
}

export interface WirePeerHint {
  id: string;
  endpoints: string[];
}

export interface RegisterNodeRequest {
  node: WireNodeInfo | null;
}
export interface RegisterNodeResponse {
  node: WireNodeInfo | null;
  peers: WirePeerHint[];
}

export interface HeartbeatRequest {
  nodeId: string;
  incarnation: number;
  seq: number;
  activity: WireActivity;
  inflight: number;
  generation: number;
  gpus: WireGpu[];
  activityReason: string;
  protocol: WireProtocolVersion | null;
  modelInflight: Record<string, number>;
}
export interface HeartbeatResponse {
  nodeId: string;
  incarnation: number;
  wantInfo: boolean;
  activity: WireActivity;
}

export interface WirePeerView {
  node: WireNodeInfo | null;
  self: boolean;
  state: string;
  stateSinceMs: number;
  lastHeartbeatAgeMs: number;
  address: string;
  outboundOk: boolean;
  inboundOk: boolean;
  problem: string;
  compatible: boolean;
  /** Alive but not usable yet, and expected to be in a moment (see PeerView.settling). */
  settling: boolean;
}

export interface StatusResponse {
  self: WirePeerView | null;
  uptimeMs: number;
  dataDir: string;
  configPath: string;
  controlSocket: string;
  peerPort: number;
  mdnsEnabled: boolean;
  /** The gateway as a local client reaches it (`http://127.0.0.1:8765/v1`); '' before it listens. */
  gatewayUrl: string;
}

export interface WireVisibleNode {
  id: string;
  endpoints: string[];
  swarm: string;
  epoch: number;
  lastSeenMs: number;
}

export interface ListNodesResponse {
  selfId: string;
  nodes: WirePeerView[];
  paired: boolean;
  swarm: string;
  epoch: number;
  visible: WireVisibleNode[];
}

export interface RekeyRequest {
  token: string;
  epoch: number;
  removed: string[];
  fromNodeId: string;
}
export interface RekeyResponse {
  accepted: boolean;
  reason: string;
}

export interface UsageSummaryRequest {
  sinceMs: number;
  untilMs: number;
  /** A UsageGroupBy, or '' for totals only. */
  by: string;
  fromNodeId: string;
}
/** `json` is a usageJson object (src/usage/render.ts) as text. */
export interface UsageSummaryResponse {
  json: string;
}

export interface UsageRequest {
  sinceMs: number;
  /** A UsageGroupBy, or '' for totals only. */
  by: string;
  swarm: boolean;
}
/** `json` is a usageJson object (src/usage/render.ts) as text. */
export interface UsageResponse {
  json: string;
}
export interface UsageRowsRequest {
  sinceMs: number;
}
/** One streamed ledger row: a usageRowJsonl line (src/usage/render.ts). */
export interface UsageRowMessage {
  jsonl: string;
}

export interface RemoveNodeRequest {
  node: string;
}
export interface RekeyReport {
  epoch: number;
  fingerprint: string;
  delivered: string[];
  missed: string[];
  removed: string;
}

export interface WireCatalogueHolder {
  nodeId: string;
  nodeName: string;
  backend: string;
  loaded: boolean;
  contextLength: number;
}
export interface WireCatalogueEntry {
  model: string;
  holders: WireCatalogueHolder[];
}
export interface ListModelsResponse {
  models: WireCatalogueEntry[];
}

export interface WireDoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix: string;
}
export interface DoctorResponse {
  checks: WireDoctorCheck[];
}

export interface RequestTaskRequest {
  taskId: string;
  attempt: number;
  coordinatorId: string;
  kind: string;
  body: Buffer;
  stream: boolean;
  backendId: string;
  model: string;
  leaseMs: number;
  coordinatorIncarnation: number;
}
export interface RequestTaskResponse {
  admitted: boolean;
  reason: string;
  retryAfterMs: number;
  /** The answering worker's incarnation; 0 from peers that do not say. */
  workerIncarnation: number;
}

export interface WireTaskFinal {
  body: Buffer;
  promptTokens: number;
  completionTokens: number;
  finishReason: string;
  firstTokenMs: number;
}
export interface WireTaskError {
  code: string;
  message: string;
  retryable: boolean;
  chunksDelivered: number;
  retryAfterMs: number;
  /** The model server's own error type and code ('' when none), passed to the client as it said them. */
  upstreamType?: string;
  upstreamCode?: string;
}

/** One message of a worker's result stream; exactly one payload field is set. */
export interface SubmitResultRequest {
  taskId: string;
  attempt: number;
  workerId: string;
  workerIncarnation: number;
  payload?: 'started' | 'chunk' | 'final' | 'error';
  started?: boolean;
  chunk?: Buffer;
  final?: WireTaskFinal;
  error?: WireTaskError;
}
export interface SubmitResultResponse {
  accepted: boolean;
  reason: string;
}

/** The coordinator no longer wants a task attempt (task channel). */
export interface TaskCancel {
  taskId: string;
  attempt: number;
  reason: string;
}
/** Coordinator → worker frame of the task channel; exactly one of request/cancel is set. */
export interface TaskChannelRequest {
  frame?: 'request' | 'cancel';
  request?: RequestTaskRequest;
  cancel?: TaskCancel;
}
export interface TaskAdmission {
  taskId: string;
  attempt: number;
  reply: RequestTaskResponse;
}
/** Worker → coordinator frame of the task channel; exactly one of admission/result is set. */
export interface TaskChannelResponse {
  frame?: 'admission' | 'result';
  admission?: TaskAdmission;
  result?: SubmitResultRequest;
}

/** swarmctl pause. */
export interface PauseRequest {
  graceMs: number;
  wait: boolean;
  unload: boolean;
  /** Use shutdown.drainGrace instead of graceMs. */
  defaultGrace: boolean;
}

/** swarmctl drain. */
export interface DrainRequest {
  graceMs: number;
  defaultGrace: boolean;
}

/** What unloading did on one backend. */
export interface WireUnloadResult {
  backendId: string;
  kind: string;
  outcome: string;
  models: string[];
  detail: string;
}

/** The answer to Pause, Resume and Drain. */
export interface ActivityReportMessage {
  activity: WireActivity;
  reason: string;
  inflight: number;
  drained: boolean;
  handedBack: number;
  unload: WireUnloadResult[];
}

/** RunJob: what `swarmctl run` was given, as JSON text (src/jobs/control.ts reads it). */
export interface RunJobRequest {
  specJson: string;
}

/** One JobEvent as JSON text. */
export interface JobEventMessage {
  json: string;
}

/** A job by id. */
export interface JobRef {
  id: string;
}

/** A JobReport, or {jobs: JobSummary[]}, as JSON text. */
export interface JobJsonResponse {
  json: string;
}
