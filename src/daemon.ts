// The composition root: builds every service, wires them together, and owns the
// start and stop order. No other module constructs services or knows about them all.
import { connect } from 'node:net';
import { BackendMonitor } from './backends/monitor.js';
import type { SwarmConfig } from './config/load.js';
import { buildCatalogue } from './control/catalogue.js';
import { runDoctor } from './control/doctor.js';
import { ControlServer } from './control/server.js';
import { formatEndpoint, parseEndpoint, usableAddresses } from './discovery/addresses.js';
import { MdnsDiscovery } from './discovery/mdns.js';
import type { Advert } from './discovery/txt.js';
import { Membership } from './membership/membership.js';
import { SelfNode } from './membership/self-node.js';
import { NodeFactsService } from './node/facts-service.js';
import { loadOrCreateNodeId } from './node/identity.js';
import { PeerClientPool } from './rpc/peer-client.js';
import { PeerServer } from './rpc/peer-server.js';
import type { StatusResponse } from './rpc/wire.js';
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
  private endpoints: string[] = [];
  nodeId = '';
  membership: Membership | undefined;
  private peerServer: PeerServer | undefined;
  private backends: BackendMonitor | undefined;
  private mdns: MdnsDiscovery | undefined;

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
    this.nodeId = await loadOrCreateNodeId(config.node.dataDir);
    logger.info({ node: this.nodeId, name: config.node.name, version: SOFTWARE_VERSION }, 'swarmd starting');

    const facts = new NodeFactsService(
      { logger: logger.child({ component: 'facts' }) },
      { refreshIntervalMs: config.facts.refreshInterval, nvidiaSmi: config.facts.nvidiaSmi },
    );
    // Facts and backends fill in while the node starts being found: peers pick the
    // details up through the NodeInfo generation. Only discovery waits for nothing.
    this.track('facts', facts);
    const factsReady = facts.start();

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

    const self = new SelfNode({
      id: this.nodeId,
      name: config.node.name,
      softwareVersion: SOFTWARE_VERSION,
      endpoints: () => this.endpoints,
      facts: () => facts.current(),
      backends: () => backends.list(),
    });
    facts.onChange(() => self.bump());
    backends.onChange(() => self.bump());

    const pool = new PeerClientPool(
      { logger: logger.child({ component: 'peers' }) },
      { maxMessageBytes: config.peer.maxMessageBytes },
    );
    this.track('peer clients', { stop: () => pool.closeAll() });
    const membership = new Membership(
      { logger: logger.child({ component: 'membership' }), self, pool },
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

    const peerServer = new PeerServer(
      {
        logger: logger.child({ component: 'rpc' }),
        handlers: {
          registerNode: (request) => membership.handleRegister(request),
          heartbeat: (request) => membership.handleHeartbeat(request),
        },
      },
      { host: config.peer.host, port: config.peer.port, maxMessageBytes: config.peer.maxMessageBytes },
    );
    await peerServer.start();
    this.peerServer = peerServer;
    this.track('peer server', peerServer);
    this.endpoints = this.advertisedEndpoints(peerServer.port);
    self.bump();

    const control = new ControlServer(
      {
        logger: logger.child({ component: 'control' }),
        handlers: {
          status: () => this.status(),
          listNodes: () => ({
            selfId: this.nodeId,
            nodes: membership.views(),
            paired: false,
            swarm: '',
            epoch: 0,
            visible: [],
          }),
          listModels: () => ({ models: buildCatalogue(membership.views()) }),
          doctor: async () => ({ checks: await this.doctor() }),
        },
      },
      { socketPath: config.control.socket },
    );
    await control.start();
    this.track('control server', control);

    membership.start();
    this.track('membership', membership);

    if (config.discovery.mdns.enabled) {
      const mdns = new MdnsDiscovery(
        { logger },
        {
          nodeId: this.nodeId,
          port: peerServer.port,
          advert: (): Advert => ({
            id: this.nodeId,
            protocol: self.protocol,
            endpoints: this.endpoints,
            proof: null,
          }),
          ...(config.discovery.mdns.interface !== undefined && {
            interface: config.discovery.mdns.interface,
          }),
          ...(config.discovery.mdns.bind !== undefined && { bind: config.discovery.mdns.bind }),
        },
      );
      mdns.onPeer((event) => {
        if (event.type === 'up') membership.discovered(event.advert, 'mdns');
      });
      await mdns.start();
      this.mdns = mdns;
      this.track('mdns', mdns);
    }
    await Promise.all([factsReady, backendsReady]);
    self.bump();
    logger.info(
      { node: this.nodeId, endpoints: this.endpoints, socket: config.control.socket },
      'swarmd ready',
    );
  }

  /** Leave the swarm cleanly: tell peers, send the mDNS goodbye, close servers. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('swarmd stopping');
      await this.membership?.leave().catch(() => undefined);
      await this.stopStarted();
      this.logger.info('swarmd stopped');
    })();
    return this.stopping;
  }

  private track(name: string, service: { stop: () => unknown }): void {
    this.started.push({ name, stop: () => service.stop() });
  }

  private async stopStarted(): Promise<void> {
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
    };
  }

  private doctor() {
    return runDoctor({
      mdnsEnabled: this.config.discovery.mdns.enabled,
      checkMulticastRoute: () => MdnsDiscovery.checkMulticastRoute(),
      checkMdnsPort: () => MdnsDiscovery.checkMdnsPort(),
      checkOwnEndpoints: () => checkEndpoints(this.endpoints),
      views: this.membership?.views() ?? [],
      unreachableStatics: this.membership?.unreachableStatics() ?? [],
      backends: this.backends?.list() ?? [],
      peerPort: this.peerServer?.port ?? this.config.peer.port,
    });
  }
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
