// What the OpenAI-compatible gateway costs on top of the model server, on loopback: two real
// swarmd processes (A and B, paired, static peer, mDNS off) and fake Ollamas that answer "ok"
// at once, in a child process of their own. Sequential keep-alive requests for the latency
// rows (warm-up excluded), sent in rounds of one request to each target so that every row
// sees the same moments of the machine, 8 in flight for the throughput rows (with the CPU
// each daemon spent per request), and the floors under them:
// the fake itself, a bare grpc-js unary call between two processes, nginx when installed, and
// the smallest Node.js versions of a local hop (a bare proxy) and of a peer hop (a bare relay
// over one mTLS gRPC stream), measured exactly like the gateway rows.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { createSwarmCa } from '../src/security/ca.js';
import { buildCredentials, type Credentials } from '../src/security/credentials.js';
import { clientCredentials, peerChannelOptions } from '../src/security/grpc-credentials.js';
import { ROOT } from '../test/helpers/build.js';
import { pairBoxes, startAlphaBravo } from '../test/helpers/loopback-swarm.js';
import { createSandbox, type Sandbox } from '../test/helpers/sandbox.js';
import { killAllSwarmd, type Swarmd } from '../test/helpers/swarmd.js';
import { sleep, waitUntil } from '../test/helpers/wait.js';
import { ECHO_SERVICE } from './children/grpc-echo.js';
import { type BenchRow, msFine, percentile } from './table.js';

/** Measured requests per latency row (warm-up excluded). */
export const GATEWAY_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const WARMUP = 50;
const CONCURRENCY = 8;
const THROUGHPUT_MS = 5_000;
const THROUGHPUT_MAX = 2_000;
const REQUEST_TIMEOUT_MS = 10_000;
const PEER_TARGET = '< 1 ms added at p50 through a peer hop';

const LOCAL_MODEL = 'bench-local:1b';
const PEER_MODEL = 'bench-peer:8b';

// ---------------------------------------------------------------- child processes

interface Child<T> {
  process: ChildProcess;
  info: T;
}

/** Start a TypeScript child with tsx and wait (bounded) for the JSON line it prints when ready. */
async function startChild<T>(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Child<T>> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, file), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const info = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start within 20 s: ${err}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out
        .slice(0, out.lastIndexOf('\n') + 1)
        .split('\n')
        .find((text) => text.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as T);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited (${code}) before it was ready: ${err}`));
    });
  });
  return { process: child, info };
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const late = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(late);
}

// ---------------------------------------------------------------- HTTP

interface Reply {
  status: number;
  /** x-swarm-node and x-swarm-model: who served it, with which model. */
  node: string | undefined;
  model: string | undefined;
  /** Until the whole body arrived. */
  ms: number;
  /** Until the first `data:` event carrying content (streams only). */
  ttftMs: number | null;
  body: string;
}

function chatBody(model: string, stream: boolean): string {
  return JSON.stringify({
    model,
    messages: [{ role: 'user', content: 'hi' }],
    ...(stream ? { stream } : {}),
  });
}

/** True when one SSE event carries non-empty content. */
function hasContent(event: string): boolean {
  for (const line of event.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') return false;
    try {
      const chunk = JSON.parse(data) as { choices?: { delta?: { content?: unknown } }[] };
      const content = chunk.choices?.[0]?.delta?.content;
      if (typeof content === 'string' && content !== '') return true;
    } catch {
      // not JSON: no content
    }
  }
  return false;
}

/** POST a JSON body over a keep-alive agent; times the whole reply and, for streams, the first token. */
function post(agent: http.Agent, url: URL, body: string, stream: boolean): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        let ttftMs: number | null = null;
        let scanned = 0;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (!stream || ttftMs !== null) return;
          // Look at every complete event not looked at yet.
          for (let end = text.indexOf('\n\n', scanned); end >= 0; end = text.indexOf('\n\n', scanned)) {
            const event = text.slice(scanned, end);
            scanned = end + 2;
            if (hasContent(event)) {
              ttftMs = performance.now() - started;
              break;
            }
          }
        });
        res.on('end', () => {
          const { 'x-swarm-node': node, 'x-swarm-model': model } = res.headers;
          resolve({
            status: res.statusCode ?? 0,
            node: typeof node === 'string' ? node : undefined,
            model: typeof model === 'string' ? model : undefined,
            ms: performance.now() - started,
            ttftMs,
            body: text,
          });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

interface Target {
  label: string;
  url: URL;
  model: string;
  /** x-swarm-node the answer must name; undefined for the fake itself. */
  node: string | undefined;
}

/** A 200 with content; `strict`: also served by the expected node with the model asked for. */
function check(target: Target, reply: Reply, stream: boolean, strict = true): void {
  if (reply.status !== 200)
    throw new Error(`${target.label}: HTTP ${reply.status}: ${reply.body.slice(0, 300)}`);
  if (strict && target.node !== undefined && (reply.node !== target.node || reply.model !== target.model)) {
    throw new Error(
      `${target.label}: served by ${reply.node} with ${reply.model}, expected ${target.node} with ${target.model}`,
    );
  }
  if (stream ? reply.ttftMs === null : !reply.body.includes('"ok"')) {
    throw new Error(`${target.label}: no content in the reply: ${reply.body.slice(0, 300)}`);
  }
}

/**
 * Sequential requests, one keep-alive connection per target, in rounds: each round sends one
 * request to every target in turn (warm-up rounds first, then `GATEWAY_REQUESTS`). Every row
 * thus sees the same moments of this noisy shared machine, and "added over direct" compares
 * like with like. Returns the times per target, in the order given.
 */
async function interleaved(targets: Target[], stream: boolean): Promise<number[][]> {
  const agents = targets.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const bodies = targets.map((target) => chatBody(target.model, stream));
  const times = targets.map((): number[] => []);
  try {
    for (let round = 0; round < WARMUP + GATEWAY_REQUESTS; round++) {
      for (const [i, target] of targets.entries()) {
        const reply = await post(agents[i]!, target.url, bodies[i]!, stream);
        check(target, reply, stream);
        if (round >= WARMUP) times[i]!.push(stream ? reply.ttftMs! : reply.ms);
      }
    }
  } finally {
    for (const agent of agents) agent.destroy();
  }
  return times;
}

interface Throughput {
  done: number;
  perSecond: number;
  times: number[];
  /** Requests per `node model` that served them (the gateway may fall back to another node and model). */
  servedBy: Map<string, number>;
}

/**
 * `CONCURRENCY` requests in flight for `THROUGHPUT_MS` or `THROUGHPUT_MAX` requests, whichever first.
 * Any 200 counts: with every slot of the asked model busy, the gateway may serve another model.
 */
async function throughput(target: Target): Promise<Throughput> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const body = chatBody(target.model, false);
  const times: number[] = [];
  const servedBy = new Map<string, number>();
  try {
    // Open the connections first.
    await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        post(agent, target.url, body, false).then((r) => check(target, r, false, false)),
      ),
    );
    let issued = 0;
    const started = performance.now();
    const deadline = started + THROUGHPUT_MS;
    const worker = async () => {
      while (issued < THROUGHPUT_MAX && performance.now() < deadline) {
        issued += 1;
        const reply = await post(agent, target.url, body, false);
        check(target, reply, false, false);
        times.push(reply.ms);
        const key = reply.node === undefined ? 'the fake' : `${reply.node} ${reply.model}`;
        servedBy.set(key, (servedBy.get(key) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsed = performance.now() - started;
    return { done: times.length, perSecond: (times.length * 1000) / elapsed, times, servedBy };
  } finally {
    agent.destroy();
  }
}

// ---------------------------------------------------------------- gRPC floor

async function grpcLatency(client: grpc.Client): Promise<number[]> {
  const check = healthService['Check']!;
  const call = () =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      client.makeUnaryRequest(
        check.path,
        check.requestSerialize,
        check.responseDeserialize,
        { service: '' },
        { deadline: Date.now() + REQUEST_TIMEOUT_MS },
        (err) => (err ? reject(err) : resolve(performance.now() - started)),
      );
    });
  const times: number[] = [];
  for (let i = 0; i < WARMUP + GATEWAY_REQUESTS; i++) {
    const ms = await call();
    if (i >= WARMUP) times.push(ms);
  }
  return times;
}

/** One message each way on an open bidirectional call (the floor of a task-channel frame). */
async function grpcStreamLatency(client: grpc.Client): Promise<number[]> {
  const echo = ECHO_SERVICE['Echo']!;
  const call = client.makeBidiStreamRequest(echo.path, echo.requestSerialize, echo.responseDeserialize);
  let answered: (() => void) | null = null;
  call.on('data', () => answered?.());
  const failed = new Promise<never>((_resolve, reject) => call.on('error', reject));
  const message = Buffer.alloc(256, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < WARMUP + GATEWAY_REQUESTS; i++) {
      const started = performance.now();
      await Promise.race([
        new Promise<void>((resolve) => {
          answered = resolve;
          call.write(message);
        }),
        failed,
      ]);
      if (i >= WARMUP) times.push(performance.now() - started);
    }
  } finally {
    call.end();
  }
  return times;
}

/** A throwaway swarm CA and two node credentials from it, as two paired swarmd nodes hold. */
async function credentialPair(): Promise<{ mine: Credentials; theirs: Credentials }> {
  const secret = { ...(await createSwarmCa('00000000000000b1')), epoch: 1 };
  const { credentials: mine } = await buildCredentials(secret, '00000000000000c1');
  const { credentials: theirs } = await buildCredentials(secret, '00000000000000c2');
  return { mine, theirs };
}

/** A plain grpc-js unary call (grpc.health.v1 Check) to a child process: insecure and mTLS; a frame on an open call. */
async function grpcFloor(): Promise<{ insecure: number[]; tls: number[]; stream: number[] }> {
  const { mine, theirs } = await credentialPair();
  const serverId = theirs.nodeId;
  let child: ChildProcess | undefined;
  const clients: grpc.Client[] = [];
  try {
    const started = await startChild<{ insecure: number; tls: number }>('bench/children/grpc-floor.ts', [], {
      BENCH_GRPC_TLS: JSON.stringify({
        caCertPem: theirs.caCertPem,
        nodeCertPem: theirs.nodeCertPem,
        nodeKeyPem: theirs.nodeKeyPem,
      }),
    });
    child = started.process;
    const insecure = new grpc.Client(`127.0.0.1:${started.info.insecure}`, grpc.credentials.createInsecure());
    // The same channel credentials and options swarmd's peer client pool dials with.
    const tls = new grpc.Client(
      `127.0.0.1:${started.info.tls}`,
      clientCredentials(mine, serverId),
      peerChannelOptions(serverId),
    );
    clients.push(insecure, tls);
    return {
      insecure: await grpcLatency(insecure),
      tls: await grpcLatency(tls),
      stream: await grpcStreamLatency(tls),
    };
  } finally {
    for (const client of clients) client.close();
    await stopChild(child);
  }
}

// ---------------------------------------------------------------- bare Node.js floors

/** Bounded: until `url` answers a chat request with a 200. */
async function waitForAnswer(url: URL, model: string): Promise<void> {
  const answers = async () => {
    const agent = new http.Agent();
    const ok = await post(agent, url, chatBody(model, false), false).then(
      (reply) => reply.status === 200,
      () => false,
    );
    agent.destroy();
    return ok;
  };
  await waitUntil(answers, `${url} to answer`, 5_000, 100);
}

/** A floor that is up: where to send its requests, and how to stop it. */
interface Floor {
  target: Target;
  stop(): Promise<void>;
}

/** bench/children/node-floor.ts (a bare node:http proxy) in front of the fake. */
async function nodeFloor(upstream: URL, model: string): Promise<Floor> {
  const started = await startChild<{ port: number }>('bench/children/node-floor.ts', [upstream.origin]);
  const stop = () => stopChild(started.process);
  try {
    const url = new URL(`http://127.0.0.1:${started.info.port}/v1/chat/completions`);
    await waitForAnswer(url, model);
    return { target: { label: 'bare Node proxy', url, model, node: undefined }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * bench/children/relay-front.ts → one mTLS gRPC bidirectional call → bench/children/relay-back.ts
 * → the fake: the smallest Node.js version of swarmd's peer hop.
 */
async function relayFloor(upstream: URL, model: string): Promise<Floor> {
  const { mine, theirs } = await credentialPair();
  // What the credential functions read; the rest (the CA key, the advert key) stays here.
  const tls = (creds: Credentials) =>
    JSON.stringify({
      swarmId: creds.swarmId,
      caCertPem: creds.caCertPem,
      nodeCertPem: creds.nodeCertPem,
      nodeKeyPem: creds.nodeKeyPem,
    });
  let back: ChildProcess | undefined;
  let front: ChildProcess | undefined;
  const stop = async () => {
    await stopChild(front);
    await stopChild(back);
  };
  try {
    const backStarted = await startChild<{ port: number }>(
      'bench/children/relay-back.ts',
      [new URL('/v1/chat/completions', upstream).href],
      { BENCH_RELAY_TLS: tls(theirs) },
    );
    back = backStarted.process;
    const frontStarted = await startChild<{ port: number }>(
      'bench/children/relay-front.ts',
      [String(backStarted.info.port), theirs.nodeId],
      { BENCH_RELAY_TLS: tls(mine) },
    );
    front = frontStarted.process;
    const url = new URL(`http://127.0.0.1:${frontStarted.info.port}/v1/chat/completions`);
    await waitForAnswer(url, model);
    return { target: { label: 'bare Node relay', url, model, node: undefined }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------------------------------------------------------------- nginx floor

function nginxPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** nginx (one worker, keep-alive upstream) proxy_pass in front of the fake; null without nginx. */
async function nginxFloor(upstream: URL, model: string): Promise<Floor | null> {
  const binary = nginxPath();
  if (!binary) return null;
  const dir = await mkdtemp(join(tmpdir(), 'swarmd-bench-nginx-'));
  let child: ChildProcess | undefined;
  const stop = async () => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream fake { server 127.0.0.1:${upstream.port}; keepalive 8; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`;
    await writeFile(join(dir, 'nginx.conf'), conf);
    child = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    const url = new URL(`http://127.0.0.1:${port}/v1/chat/completions`);
    const target: Target = { label: 'nginx', url, model, node: undefined };
    // Bounded wait until nginx answers.
    for (let i = 0; ; i++) {
      const ok = await post(new http.Agent(), url, chatBody(model, false), false).then(
        (reply) => reply.status === 200,
        () => false,
      );
      if (ok) break;
      if (i >= 50 || child.exitCode !== null) throw new Error('nginx did not start');
      await sleep(100);
    }
    return { target, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------------------------------------------------------------- the daemons

/** The daemon's chat completions URL. */
function chatUrl(daemon: Swarmd): URL {
  const base = daemon.gatewayUrl().replace(/\/+$/, '');
  return new URL(`${base.endsWith('/v1') ? base : `${base}/v1`}/chat/completions`);
}

/** Bounded: until A lists B's model and serves it through B. */
async function waitForPeer(a: Sandbox, target: Target): Promise<void> {
  const listed = async () => (await a.swarmctl(['models', '--json'])).stdout.includes(PEER_MODEL);
  await waitUntil(listed, `A to list ${PEER_MODEL}`, 20_000, 100);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const served = async () => {
      const reply = await post(agent, target.url, chatBody(target.model, false), false).catch(() => null);
      return reply?.status === 200 && reply.node === target.node;
    };
    await waitUntil(served, `A to serve ${PEER_MODEL} through B`, 20_000, 100);
  } finally {
    agent.destroy();
  }
}

/** CPU time (user + system) a process has used, in ms; NaN where /proc cannot tell. */
function cpuMs(pid: number): number {
  try {
    // Fields after the `(comm)`: utime and stime are the 12th and 13th, in clock ticks (100 Hz on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Run `work` and say how much CPU each daemon spent per request meanwhile. */
async function withCpu(
  daemons: [string, number][],
  work: () => Promise<Throughput>,
): Promise<{ result: Throughput; cpu: string }> {
  const before = daemons.map(([, pid]) => cpuMs(pid));
  const result = await work();
  const count = result.done + CONCURRENCY;
  const parts = daemons.map(([name, pid], i) => `${name} ${((cpuMs(pid) - before[i]!) / count).toFixed(2)}`);
  return { result, cpu: parts.some((part) => part.includes('NaN')) ? '' : `CPU ms/req ${parts.join(', ')}` };
}

// ---------------------------------------------------------------- rows

function latencyRow(metric: string, times: number[], target: string, note: string): BenchRow {
  return {
    metric,
    runs: times.length,
    p50: msFine(percentile(times, 0.5)),
    p99: msFine(percentile(times, 0.99)),
    max: msFine(Math.max(...times)),
    target,
    note,
  };
}

function added(times: number[], floor: number[]): string {
  const delta = percentile(times, 0.5) - percentile(floor, 0.5);
  return `${delta >= 0 ? '+' : '−'}${Math.abs(delta).toFixed(2)} ms at p50 over direct`;
}

function throughputRow(metric: string, target: Target, result: Throughput, note: string): BenchRow {
  const asked = target.node === undefined ? 'the fake' : `${target.node} ${target.model}`;
  const others = [...result.servedBy].filter(([key]) => key !== asked);
  const moved = others.reduce((sum, [, count]) => sum + count, 0);
  const fallback = moved
    ? `; ${moved} answered by ${others.map(([key]) => key).join(', ')} (fallback while busy)`
    : '';
  return {
    metric,
    runs: result.done,
    p50: `${Math.round(result.perSecond)} req/s`,
    p99: '',
    max: '',
    target: '',
    note: `in flight p50 ${msFine(percentile(result.times, 0.5))}, p99 ${msFine(percentile(result.times, 0.99))}${note ? `; ${note}` : ''}${fallback}`,
  };
}

/** Every gateway row. Leaves nothing running. */
export async function benchGateway(): Promise<BenchRow[]> {
  const boxes: Sandbox[] = [];
  const floors: Floor[] = [];
  let fakes: ChildProcess | undefined;
  try {
    const grpcRows = await grpcFloor();

    const [a, b] = [await createSandbox(), await createSandbox()];
    boxes.push(a, b);
    await pairBoxes(a, b);
    const started = await startChild<{ urls: string[] }>('bench/children/fake-ollama.ts', [
      LOCAL_MODEL,
      PEER_MODEL,
    ]);
    fakes = started.process;
    const [urlA, urlB] = started.info.urls as [string, string];
    const { nodeA, nodeB } = await startAlphaBravo(a, b, urlA, urlB);

    const gateway = chatUrl(nodeA);
    const direct: Target = {
      label: 'direct',
      url: new URL('/v1/chat/completions', urlA),
      model: LOCAL_MODEL,
      node: undefined,
    };
    const local: Target = { label: 'gateway local', url: gateway, model: LOCAL_MODEL, node: 'alpha' };
    const peer: Target = { label: 'gateway peer', url: gateway, model: PEER_MODEL, node: 'bravo' };
    await waitForPeer(a, peer);

    const daemons: [string, number][] = [
      ['A', nodeA.pid],
      ['B', nodeB.pid],
    ];
    const measure = (work: () => Promise<Throughput>) => withCpu(daemons, work);
    // The floors run beside the daemons, so that one interleaved loop measures every row.
    const nginx = await nginxFloor(new URL(urlA), LOCAL_MODEL);
    if (nginx) floors.push(nginx);
    const nodeProxy = await nodeFloor(new URL(urlA), LOCAL_MODEL);
    floors.push(nodeProxy);
    const nodeRelay = await relayFloor(new URL(urlA), LOCAL_MODEL);
    floors.push(nodeRelay);
    const [directMs, localMs, peerMs, nodeProxyMs, nodeRelayMs, nginxMs] = (await interleaved(
      [direct, local, peer, nodeProxy.target, nodeRelay.target, ...(nginx ? [nginx.target] : [])],
      false,
    )) as [number[], number[], number[], number[], number[], number[] | undefined];
    const [directTtft, localTtft, peerTtft] = (await interleaved([direct, local, peer], true)) as [
      number[],
      number[],
      number[],
    ];
    const directRate = await throughput(direct);
    const localRate = await measure(() => throughput(local));
    const peerRate = await measure(() => throughput(peer));

    const rows: BenchRow[] = [
      latencyRow(
        'chat, direct to the fake Ollama (floor)',
        directMs,
        '',
        'non-streaming, keep-alive, sequential',
      ),
      latencyRow('chat via gateway A, local backend', localMs, '', added(localMs, directMs)),
      latencyRow('chat via gateway A, one peer hop to B', peerMs, PEER_TARGET, added(peerMs, directMs)),
      latencyRow('stream TTFT, direct to the fake Ollama', directTtft, '', 'first data: event with content'),
      latencyRow('stream TTFT via gateway A, local backend', localTtft, '', added(localTtft, directTtft)),
      latencyRow(
        'stream TTFT via gateway A, one peer hop',
        peerTtft,
        PEER_TARGET,
        added(peerTtft, directTtft),
      ),
      throughputRow(`throughput, direct to the fake, ${CONCURRENCY} in flight`, direct, directRate, ''),
      throughputRow(
        `throughput via gateway A, local model, ${CONCURRENCY} in flight`,
        local,
        localRate.result,
        localRate.cpu,
      ),
      throughputRow(
        `throughput via gateway A, peer model, ${CONCURRENCY} in flight`,
        peer,
        peerRate.result,
        peerRate.cpu,
      ),
      latencyRow(
        'grpc-js unary between two processes, insecure (floor)',
        grpcRows.insecure,
        '',
        'grpc.health.v1 Check',
      ),
      latencyRow(
        'grpc-js unary between two processes, mTLS (floor)',
        grpcRows.tls,
        '',
        "swarmd's peer channel credentials",
      ),
      latencyRow(
        'grpc-js message each way on an open call, mTLS (floor)',
        grpcRows.stream,
        '',
        'what a task-channel frame and its answer cost',
      ),
      nginxMs
        ? latencyRow('nginx proxy_pass to the fake (floor)', nginxMs, '', added(nginxMs, directMs))
        : {
            metric: 'nginx proxy_pass to the fake (floor)',
            runs: 0,
            p50: 'n/a',
            p99: 'n/a',
            max: 'n/a',
            target: '',
            note: 'nginx not installed',
          },
      latencyRow(
        'bare Node proxy (floor of a local hop)',
        nodeProxyMs,
        '',
        `${added(nodeProxyMs, directMs)}; node:http server, keep-alive http.Agent to the fake, body piped back`,
      ),
      latencyRow(
        'bare Node relay over a gRPC stream, mTLS (floor of a peer hop)',
        nodeRelayMs,
        '',
        `${added(nodeRelayMs, directMs)}; node:http → one frame each way on one grpc-js bidi call → keep-alive POST to the fake; two processes`,
      ),
    ];
    return rows;
  } finally {
    for (const floor of floors) await floor.stop();
    await killAllSwarmd();
    await stopChild(fakes);
    await Promise.all(boxes.map((box) => box.remove()));
  }
}
