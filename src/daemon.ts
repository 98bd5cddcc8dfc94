// The composition root: builds every service, wires them together, and owns the
// start and stop order. No other module constructs services or knows about them all.
import { connect } from 'node:net';
import { homedir } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { ActivityController } from './activity/controller.js';
import { GamingWatcher } from './activity/gaming.js';
import { unloadAll } from './activity/unload.js';
import { BackendMonitor } from './backends/monitor.js';
import type { SwarmConfig } from './config/load.js';
import { buildCatalogue } from './control/catalogue.js';
import { runDoctor } from './control/doctor.js';
import { ControlServer } from './control/server.js';
import { UsageService } from './control/usage.js';
import { formatEndpoint, parseEndpoint, usableAddresses } from './discovery/addresses.js';
import { buildSummary } from './discovery/advert-summary.js';
import { MdnsDiscovery } from './discovery/mdns.js';
import type { Advert } from './discovery/txt.js';
import { ErrorCodes, SwarmError } from './errors.js';
import { jobControlHandlers } from './jobs/control.js';
import { JobService } from './jobs/service.js';
import { AdvertRouter } from './membership/advert-router.js';
import { Membership } from './membership/membership.js';
import { CredentialRotation } from './membership/rotation.js';
import { SelfNode } from './membership/self-node.js';
import { NodeFactsService } from './node/facts-service.js';
import { loadOrCreateNodeId } from './node/identity.js';
import { PeerClientPool } from './rpc/peer-client.js';
import { PeerServer } from './rpc/peer-server.js';
import type { HeartbeatRequest, StatusResponse } from './rpc/wire.js';
import { assertPeerIs, type HasAuthContext } from './security/grpc-credentials.js';
import { checkDataDirOwnership } from './security/ownership.js';
import { SwarmTrust } from './security/trust.js';
import { Serving } from './serving.js';
import { Slots } from './tasks/slots.js';
import { serveTaskChannel } from './tasks/worker-channel.js';
import { monotonicMs } from './util/clock.js';
import type { Logger } from './util/logger.js';
import { SOFTWARE_VERSION } from './version.js';

interface Stoppable {
  name: string;
  stop: () => unknown;
}

/** One swarmd node. */
export class Daemon {
  private readonly config: SwarmConfig;
  private readonly logger: Logger;
  private readonly started: Stoppable[] = [];
  private startedMono = 0;
  private stopping: Promise<void> | undefined;
  /** Services are being stopped (stop(), or a failed start): start nothing more. */
  private halting = false;
  private endpoints: string[] = [];
  nodeId = '';
  membership: Membership | undefined;
  private peerServer: PeerServer | undefined;
  private backends: BackendMonitor | undefined;
  private trust: SwarmTrust | undefined;
  private pool: PeerClientPool | undefined;
  private self: SelfNode | undefined;
  private serving: Serving | undefined;
  private mdns: MdnsDiscovery | undefined;
  private activity: ActivityController | undefined;
  private jobs: JobService | undefined;
  private resolveStopped: () => void = () => undefined;
  /** Resolves once stop() has finished (a signal, or `swarmctl drain`): time for the process to exit. */
  readonly stopped: Promise<void> = new Promise((resolve) => {
    this.resolveStopped = resolve;
  });

  constructor(config: SwarmConfig, components: { logger: Logger }) {
    this.config = config;
    this.logger = components.logger;
  }

  /** Start every service in dependency order; on failure stop what started and rethrow. */
  async start(): Promise<void> {
    this.startedMono = monotonicMs();
    try {
      await this.startServices();
    } catch (err) {
      await this.stopStarted();
      throw err;
    }
  }

  private async startServices(): Promise<void> {
    const { config, logger } = this;
    // Before reading anything from it: another user's data dir could hold their swarm's credentials.
    await checkDataDirOwnership(config.node.dataDir);
    this.nodeId = await loadOrCreateNodeId(config.node.dataDir);
    logger.info({ node: this.nodeId, name: config.node.name, version: SOFTWARE_VERSION }, 'swarmd starting');

    const trust = new SwarmTrust(
      { logger: logger.child({ component: 'trust' }) },
      { dataDir: config.node.dataDir, nodeId: this.nodeId },
    );
    await trust.start();
    this.trust = trust;
    this.track('trust', trust);

    const facts = new NodeFactsService(
      { logger: logger.child({ component: 'facts' }) },
      { refreshIntervalMs: config.facts.refreshInterval, nvidiaSmi: config.facts.nvidiaSmi },
    );
    // Facts and backends fill in while the node starts being found: peers pick the
    // details up through the NodeInfo generation. Only discovery waits for nothing.
    this.track('facts', facts);

    const backends = new BackendMonitor(
      { logger: logger.child({ component: 'backends' }) },
      {
        autoDetect: config.backends.autoDetect,
        probeIntervalMs: config.backends.probeInterval,
        probeTimeoutMs: config.backends.probeTimeout,
        defaultMaxConcurrency: config.backends.defaultMaxConcurrency,
        servers: [...config.backends.servers],
      },
    );
    this.backends = backends;
    this.track('backends', backends);
    const backendsReady = backends.start();
    backendsReady.catch(() => undefined);

    // One count of running requests per backend model, whoever asked (our gateway or a peer).
    const slots = new Slots();
    let backendsProbed = false;
    const self = new SelfNode({
      id: this.nodeId,
      name: config.node.name,
      softwareVersion: SOFTWARE_VERSION,
      endpoints: () => this.endpoints,
      facts: () => facts.current(),
      backends: () => backends.list(),
      inflight: () => ({
        total: slots.totalInflight(),
        byModel: (backendId, model) => slots.count(backendId, model),
      }),
      // Until then peers keep what a previous process of this node offered (restart).
      starting: () => !backendsProbed,
    });
    this.self = self;
    facts.onChange(() => self.bump());
    backends.onChange(() => self.bump());

    const pool = new PeerClientPool(
      { logger: logger.child({ component: 'peers' }) },
      { maxMessageBytes: config.peer.maxMessageBytes, channel: (expectedId) => trust.channel(expectedId) },
    );
    this.pool = pool;
    this.track('peer clients', { stop: () => pool.closeAll() });
    // Every peer call must come from the node it claims to be, per its swarm certificate.
    const authorize = (call: unknown, claimedId: string) => {
      const creds = trust.current();
      if (!creds) throw new SwarmError(ErrorCodes.SECURITY_UNPAIRED, 'this node is not in a swarm');
      assertPeerIs(call as HasAuthContext, claimedId, creds);
    };
    const membership = new Membership(
      { logger: logger.child({ component: 'membership' }), self, pool, authorize },
      {
        heartbeatIntervalMs: config.membership.heartbeatInterval,
        suspectAfterMs: config.membership.suspectAfter,
        deadAfterMs: config.membership.deadAfter,
        rpcTimeoutMs: config.membership.rpcTimeout,
        forgetAfterMs: config.membership.forgetAfter,
        staticPeers: config.discovery.peers,
      },
    );
    this.membership = membership;
    const serving = new Serving({ logger, config, self, membership, pool, slots, backends });
    const activity = new ActivityController(
      {
        logger: logger.child({ component: 'activity' }),
        self,
        heartbeatNow: () => membership.heartbeatNow(),
        work: {
          inflight: () => slots.totalInflight(),
          handBack: () => serving.handBack(),
          coordinating: () => serving.remoteInflight,
        },
        unload: () => unloadAll(backends.local()),
        exit: () => void this.stop(),
      },
      { defaultGraceMs: config.shutdown.drainGrace },
    );
    activity.start();
    this.activity = activity;
    this.track('activity', activity);
    const rotation = new CredentialRotation({
      logger: logger.child({ component: 'trust' }),
      trust,
      membership,
      pool,
      self,
    });
    const adverts = new AdvertRouter({ logger: logger.child({ component: 'trust' }), trust, membership });
    const usage = new UsageService(
      {
        logger: logger.child({ component: 'usage' }),
        ledger: () => serving.ledgerHandle(),
        self,
        membership,
        pool,
        authorize,
      },
      { enabled: config.usage.enabled },
    );

    const peerServer = new PeerServer(
      {
        logger: logger.child({ component: 'rpc' }),
        handlers: {
          registerNode: (request, call) => membership.handleRegister(request, call),
          heartbeat: (request, call) => membership.handleHeartbeat(request, call),
          rekey: (request, call) => rotation.receive(request, call),
          requestTask: (request, call) => {
            authorize(call, request.coordinatorId);
            return serving.worker.handleRequestTask(request);
          },
          submitResult: (call, callback) => serving.remote.handleSubmitResult(call, callback, authorize),
          taskChannel: (call) =>
            serveTaskChannel(call, {
              logger: logger.child({ component: 'tasks' }),
              worker: serving.worker,
              authorize,
            }),
          usageSummary: (request, call) => usage.answerPeer(request, call),
        },
      },
      {
        host: config.peer.host,
        port: config.peer.port,
        maxMessageBytes: config.peer.maxMessageBytes,
        credentials: () => trust.serverCredentials(),
      },
    );
    await peerServer.start();
    this.peerServer = peerServer;
    this.track('peer server', peerServer);
    this.endpoints = this.advertisedEndpoints(peerServer.port);
    self.bump();

    // Start being found as soon as the peer port answers.
    let mdnsStarted: Promise<void> = Promise.resolve();
    membership.start();
    this.track('membership', membership);
    // Peers learn at once, not at the next heartbeat, that this node's models are known now.
    const probed = () => {
      backendsProbed = true;
      self.bump();
      void membership.heartbeatNow();
    };
    backendsReady.then(probed, probed);
    // GPU and host facts only order places, they do not make a node routable: read them once the
    // node can be found and its models are known (nvidia-smi, systeminformation's synchronous
    // calls and loading both cost the event loop what a restart waits on).
    const startFacts = () => (this.halting ? undefined : facts.start());
    const factsReady = backendsReady.then(startFacts, startFacts);
    factsReady.catch(() => undefined); // awaited before "ready"; see mdnsStarted

    if (config.discovery.mdns.enabled) {
      const mdns = new MdnsDiscovery(
        { logger },
        {
          nodeId: this.nodeId,
          port: peerServer.port,
          advert: (previous): Advert =>
            trust.signAdvert({
              id: this.nodeId,
              protocol: self.protocol,
              endpoints: this.endpoints,
              proof: null,
              summary: buildSummary(
                {
                  gpus: facts.current().gpus,
                  backends: backends.list(),
                  active: self.activity === 'ACTIVITY_ACTIVE',
                },
                previous?.summary,
              ),
            }),
          ...(config.discovery.mdns.interface !== undefined && {
            interface: config.discovery.mdns.interface,
          }),
          ...(config.discovery.mdns.bind !== undefined && { bind: config.discovery.mdns.bind }),
        },
      );
      mdns.onPeer((event) => adverts.handle(event));
      // Facts, backends and activity all bump self: the advert summary follows (paced by mdns).
      self.onChange(() => mdns.update());
      // The probe takes ~0.9 s of waiting: let the control socket and gateway start meanwhile.
      this.track('mdns', mdns);
      this.mdns = mdns;
      mdnsStarted = mdns.start();
      // Awaited below; until then a failure must not count as an unhandled rejection.
      mdnsStarted.catch(() => undefined);
    }
    // Coding jobs: started only from the control socket below, never from a peer.
    const jobs = new JobService(
      {
        logger: logger.child({ component: 'jobs' }),
        dispatcher: () => serving.dispatcherHandle(),
        decidePrivacy: (body, requested) => serving.decidePrivacy(body, requested),
        tierModel: (tier) => config.routing.tiers[tier][0] ?? null,
        costOf: (client, sinceMs) =>
          serving
            .ledgerHandle()
            ?.query({ sinceMs, by: 'client' })
            .groups.find((group) => group.key === client)?.costUsd ?? 0,
      },
      {
        dataDir: config.node.dataDir,
        settings: { ...config.jobs, stepTimeoutMs: config.jobs.stepTimeout, env: {} },
        sandboxHost: {
          home: homedir(),
          // The config file may hold gateway API keys, wherever it lives (/etc is visible).
          hidden: [
            config.node.dataDir,
            config.control.socket,
            ...(config.configPath ? [config.configPath] : []),
          ],
        },
      },
    );
    jobs.start();
    this.jobs = jobs;
    const control = new ControlServer(
      {
        logger: logger.child({ component: 'control' }),
        handlers: {
          status: () => this.status(),
          listNodes: () => {
            const creds = trust.current();
            return {
              selfId: this.nodeId,
              nodes: membership.views(),
              paired: creds !== null,
              swarm: creds?.swarmId ?? '',
              epoch: creds?.epoch ?? 0,
              visible: adverts.visible(),
            };
          },
          listModels: () => ({ models: buildCatalogue(membership.views()) }),
          doctor: async () => ({ checks: await this.doctor() }),
          removeNode: (request) => rotation.rotate(request.node),
          rotate: () => rotation.rotate(),
          usage: (request) => usage.summary(request),
          usageRows: (request) => usage.rows(request),
          pause: (request) =>
            activity.pause({
              source: 'manual',
              reason: 'manual',
              graceMs: request.defaultGrace ? config.shutdown.drainGrace : request.graceMs,
              wait: request.wait,
              unload: request.unload,
            }),
          resume: () => activity.resume(),
          drain: (request) =>
            activity.drain(request.defaultGrace ? config.shutdown.drainGrace : request.graceMs),
          jobs: jobControlHandlers(jobs, config.jobs.maxConcurrent),
        },
      },
      { socketPath: config.control.socket },
    );
    await control.start();
    this.track('control server', control);

    await serving.start();
    this.serving = serving;
    this.track('serving', serving);
    // Stopped before serving: running jobs are cancelled while their model calls can still end.
    this.track('jobs', jobs);

    const gaming = new GamingWatcher(
      {
        logger: logger.child({ component: 'gaming' }),
        setGaming: (reason) => activity.setGaming(reason),
        ownWork: () => slots.totalInflight(),
      },
      {
        ...config.gaming.autoPause,
        quietMs: config.gaming.autoPause.quietPeriod,
        checkMs: config.gaming.autoPause.checkInterval,
        nvidiaSmi: config.facts.nvidiaSmi,
      },
    );
    gaming.start();
    this.track('gaming', gaming);

    // A join, rotation or removal: new TLS identity, new advert proof, every peer found again.
    trust.onChange(() => {
      self.bump();
      membership.resetConnections();
      adverts.rejudge();
      this.mdns?.republish().catch((err: unknown) => logger.warn({ err }, 'mDNS republish failed'));
    });
    await Promise.all([factsReady, backendsReady, mdnsStarted]);
    self.bump();
    serving.resumeTasks();
    logger.info(
      {
        node: this.nodeId,
        endpoints: this.endpoints,
        socket: config.control.socket,
        gateway: `http://${config.gateway.host}:${serving.gatewayPort}/v1`,
      },
      'swarmd ready',
    );
  }

  /** Leave the swarm cleanly: tell peers, send the mDNS goodbye, close servers. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('swarmd stopping');
      // Peers stop routing here at once; running work finishes within the grace or is handed back.
      const drained = await this.activity
        ?.shutdownDrain(this.config.shutdown.drainGrace)
        .catch((err: unknown) => this.logger.warn({ err }, 'drain failed'));
      if (drained && drained.handedBack > 0)
        this.logger.info({ handedBack: drained.handedBack }, 'work handed back');
      await this.membership?.leave().catch(() => undefined);
      await this.stopStarted();
      this.logger.info('swarmd stopped');
      this.resolveStopped();
    })();
    return this.stopping;
  }

  private track(name: string, service: { stop: () => unknown }): void {
    this.started.push({ name, stop: () => service.stop() });
  }

  private async stopStarted(): Promise<void> {
    this.halting = true;
    while (this.started.length > 0) {
      const service = this.started.pop()!;
      try {
        await service.stop();
      } catch (err) {
        this.logger.warn({ err, service: service.name }, 'error while stopping');
      }
    }
  }

  /** gRPC endpoints to advertise: configured ones, loopback when mDNS is bound there, else every usable address. */
  private advertisedEndpoints(port: number): string[] {
    const { peer, discovery } = this.config;
    if (peer.advertise.length > 0) return [...peer.advertise];
    const iface = discovery.mdns.interface;
    if (iface === '127.0.0.1' || iface === '::1') return [formatEndpoint(iface, port)];
    if (peer.host !== '0.0.0.0' && peer.host !== '::') return [formatEndpoint(peer.host, port)];
    return usableAddresses({ includeVirtual: discovery.mdns.includeVirtualInterfaces }).map((entry) =>
      formatEndpoint(entry.address, port),
    );
  }

  private status(): StatusResponse {
    const views = this.membership?.views() ?? [];
    return {
      self: views.find((view) => view.self) ?? null,
      uptimeMs: monotonicMs() - this.startedMono,
      dataDir: this.config.node.dataDir,
      configPath: this.config.configPath ?? '',
      controlSocket: this.config.control.socket,
      peerPort: this.peerServer?.port ?? 0,
      mdnsEnabled: this.config.discovery.mdns.enabled,
      gatewayUrl: this.gatewayUrl(),
    };
  }

  /** The gateway as a client on this box reaches it: a wildcard bind is dialled on loopback. */
  private gatewayUrl(): string {
    const port = this.serving?.gatewayPort ?? 0;
    if (port === 0) return '';
    const host = this.config.gateway.host;
    const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    return `http://${formatEndpoint(local, port)}/v1`;
  }

  private doctor() {
    return runDoctor({
      mdnsEnabled: this.config.discovery.mdns.enabled,
      checkMulticastRoute: () => MdnsDiscovery.checkMulticastRoute(),
      checkMdnsPort: () => MdnsDiscovery.checkMdnsPort(),
      checkOwnEndpoints: () => this.checkOwnEndpoints(),
      views: this.membership?.views() ?? [],
      unreachableStatics: this.membership?.unreachableStatics() ?? [],
      backends: this.backends?.list() ?? [],
      autoDetect: this.config.backends.autoDetect,
      peerPort: this.peerServer?.port ?? this.config.peer.port,
      swarm: (() => {
        const creds = this.trust?.current();
        return creds ? { swarmId: creds.swarmId, epoch: creds.epoch, fingerprint: creds.fingerprint } : null;
      })(),
      checkJobSandbox: async () =>
        this.jobs ? this.jobs.sandbox() : { kind: null, reason: 'swarmd is starting' },
    });
  }

  /**
   * Call our own advertised endpoints the way a peer would: with mTLS when paired (a heartbeat
   * from ourselves is refused with ALREADY_EXISTS, which proves TLS and the handler work),
   * else a bare TCP connect.
   */
  private async checkOwnEndpoints(): Promise<{ ok: boolean; detail: string }> {
    const pool = this.pool;
    const self = this.self;
    if (!pool?.ready() || !self) return checkEndpoints(this.endpoints);
    if (this.endpoints.length === 0)
      return { ok: false, detail: 'no endpoint is advertised (no usable network address?)' };
    const problems = await Promise.all(
      this.endpoints.map(async (endpoint) => {
        try {
          await pool.heartbeat(endpoint, selfHeartbeat(self), 1500, self.id);
          return null;
        } catch (err) {
          const code = (err as grpc.ServiceError).code;
          if (code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED) {
            return `${endpoint}: ${(err as grpc.ServiceError).details}`;
          }
          return null;
        }
      }),
    );
    const failed = problems.filter((problem): problem is string => problem !== null);
    return failed.length === 0
      ? { ok: true, detail: `serving mTLS on ${this.endpoints.join(', ')}` }
      : { ok: false, detail: `not reachable with this swarm's credentials: ${failed.join('; ')}` };
  }
}

/** A heartbeat from this node to itself (for the doctor's own-port check). */
function selfHeartbeat(self: SelfNode): HeartbeatRequest {
  return {
    nodeId: self.id,
    incarnation: self.incarnation,
    seq: 1,
    activity: self.activity,
    inflight: 0,
    generation: self.generation,
    gpus: [],
    activityReason: '',
    protocol: { ...self.protocol },
    modelInflight: {},
  };
}

/** TCP-connect to each endpoint; ok when all accept. */
async function checkEndpoints(endpoints: string[]): Promise<{ ok: boolean; detail: string }> {
  if (endpoints.length === 0)
    return { ok: false, detail: 'no endpoint is advertised (no usable network address?)' };
  const results = await Promise.all(
    endpoints.map(
      (endpoint) =>
        new Promise<string | null>((resolve) => {
          const target = parseEndpoint(endpoint);
          if (!target) return resolve(`${endpoint}: not host:port`);
          const socket = connect({ host: target.host, port: target.port });
          const done = (problem: string | null) => {
            socket.destroy();
            resolve(problem);
          };
          socket.once('connect', () => done(null));
          socket.once('error', (err) => done(`${endpoint}: ${err.message}`));
          socket.setTimeout(1000, () => done(`${endpoint}: timed out`));
        }),
    ),
  );
  const problems = results.filter((problem): problem is string => problem !== null);
  return problems.length === 0
    ? { ok: true, detail: `listening on ${endpoints.join(', ')}` }
    : { ok: false, detail: `not reachable locally: ${problems.join('; ')}` };
}
