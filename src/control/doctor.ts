// `swarmctl doctor`: checks what usually breaks discovery and says what to do, and which
// sandbox coding jobs verify in. The checks read a snapshot of the daemon's state plus a few
// probes of the host.
import type { BackendStatus } from '../backends/types.js';
import type { WireDoctorCheck, WirePeerView } from '../rpc/wire.js';
import { swarmLabel } from '../security/names.js';

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

export interface DoctorContext {
  mdnsEnabled: boolean;
  checkMulticastRoute: () => Promise<ProbeResult>;
  checkMdnsPort: () => Promise<ProbeResult>;
  /** TCP-connect to our own advertised endpoints. */
  checkOwnEndpoints: () => Promise<ProbeResult>;
  views: WirePeerView[];
  unreachableStatics: string[];
  backends: BackendStatus[];
  /** backends.autoDetect: whether the default local ports were probed at all. */
  autoDetect: boolean;
  peerPort: number;
  /** This node's swarm, or null when it holds no credentials. */
  swarm: { swarmId: string; epoch: number; fingerprint: string } | null;
  /** The sandbox coding jobs verify in: bubblewrap, none (jobs.sandbox off), or null with why none can run. */
  checkJobSandbox: () => Promise<{ kind: 'bubblewrap' | 'none' } | { kind: null; reason: string }>;
}

function check(name: string, status: WireDoctorCheck['status'], detail: string, fix = ''): WireDoctorCheck {
  return { name, status, detail, fix };
}

/** Run every check; never throws (a failing probe becomes a failed check). */
export async function runDoctor(ctx: DoctorContext): Promise<WireDoctorCheck[]> {
  const checks: WireDoctorCheck[] = [];
  const safe = async (probe: () => Promise<ProbeResult>): Promise<ProbeResult> =>
    probe().catch((err: unknown) => ({ ok: false, detail: `check failed: ${String(err)}` }));

  if (ctx.mdnsEnabled) {
    const route = await safe(ctx.checkMulticastRoute);
    checks.push(
      route.ok
        ? check('multicast route', 'ok', route.detail)
        : check(
            'multicast route',
            'fail',
            route.detail,
            'mDNS needs a route for 224.0.0.0/4: `sudo ip route add 224.0.0.0/4 dev <lan-interface>` (or give the interface a default route); meanwhile list peers by hand with --peer host:8766',
          ),
    );
    const port = await safe(ctx.checkMdnsPort);
    checks.push(
      check(
        'mDNS port 5353',
        port.ok ? 'ok' : 'warn',
        port.detail,
        port.ok ? '' : 'another mDNS responder holds UDP 5353 exclusively; stop it or let it share the port',
      ),
    );
  } else {
    checks.push(
      check(
        'mDNS',
        'warn',
        'mDNS is off: only static peers are found',
        'turn it on with discovery.mdns.enabled: true, or list peers with --peer',
      ),
    );
  }

  checks.push(
    ctx.swarm
      ? check('swarm membership', 'ok', `member of ${swarmLabel(ctx.swarm)}`)
      : check(
          'swarm membership',
          'fail',
          'this node is not in a swarm: it serves no peer and dials no peer',
          'on the first box run `swarmctl init`; on every other box `swarmctl join <token>` (a member prints it with `swarmctl token`)',
        ),
  );

  const own = await safe(ctx.checkOwnEndpoints);
  checks.push(
    own.ok
      ? check('peer port', 'ok', own.detail)
      : check(
          'peer port',
          'fail',
          own.detail,
          `make sure TCP port ${ctx.peerPort} is open (e.g. \`sudo ufw allow ${ctx.peerPort}/tcp\`)`,
        ),
  );

  const peers = ctx.views.filter((view) => !view.self);
  const self = ctx.views.find((view) => view.self);
  const unreachable = peers.filter(
    (view) =>
      view.compatible &&
      (view.state === 'suspect' || view.state === 'dead') &&
      view.node?.name === view.node?.id,
  );
  checks.push(
    unreachable.length === 0
      ? check('peers reachable', 'ok', `${peers.length} peer(s) known`)
      : check(
          'peers reachable',
          'fail',
          `seen but not reachable: ${unreachable.map((view) => `${view.node?.id} at ${view.node?.endpoints.join(', ') || '?'}`).join('; ')}`,
          'their peer port is closed or their address is not routable from here: check the firewall on those boxes (TCP 8766) and that swarmd runs there',
        ),
  );
  const oneWay = peers.filter((view) => view.problem.startsWith('one-way'));
  if (oneWay.length > 0) {
    checks.push(
      check(
        'two-way reachability',
        'fail',
        oneWay.map((view) => `${view.node?.name}: ${view.problem}`).join('; '),
        `open TCP ${ctx.peerPort} both ways; a one-way peer is never given work`,
      ),
    );
  }
  const conflicts = [self, ...peers].filter((view) => view?.problem.includes('claim'));
  checks.push(
    conflicts.length === 0
      ? check('unique node ids', 'ok', 'no duplicate node ids seen')
      : check(
          'unique node ids',
          'fail',
          conflicts.map((view) => view?.problem).join('; '),
          'a cloned disk image carries the same node id: on one box delete node-id in the data dir and restart swarmd',
        ),
  );
  const incompatible = peers.filter((view) => !view.compatible);
  if (incompatible.length > 0) {
    checks.push(
      check(
        'protocol versions',
        'warn',
        incompatible.map((view) => `${view.node?.id}: ${view.problem}`).join('; '),
        'upgrade the older swarmd',
      ),
    );
  }
  if (ctx.swarm && ctx.unreachableStatics.length > 0) {
    checks.push(
      check(
        'static peers',
        'fail',
        `not answering: ${ctx.unreachableStatics.join(', ')}`,
        'check each address and port, and that swarmd runs there',
      ),
    );
  }
  checks.push(modelServersCheck(ctx));
  checks.push(await jobSandboxCheck(ctx));
  return checks;
}

const FIX_NO_SERVER =
  'start Ollama, llama-swap, vLLM, llama-server or LM Studio, or add it under backends.servers in the config';

// Says what was looked at: with auto-detection off, the default ports were never probed.
function modelServersCheck(ctx: DoctorContext): WireDoctorCheck {
  const healthy = ctx.backends.filter((backend) => backend.healthy);
  if (healthy.length > 0)
    return check('model servers', 'ok', healthy.map((backend) => backend.id).join(', '));
  if (ctx.backends.length > 0) {
    return check(
      'model servers',
      'warn',
      `none healthy: ${ctx.backends.map((backend) => `${backend.id} (${backend.error ?? 'down'})`).join(', ')}`,
      FIX_NO_SERVER,
    );
  }
  if (!ctx.autoDetect) {
    return check(
      'model servers',
      'warn',
      'none configured, and auto-detection is off (backends.autoDetect: false), so no port was probed',
      'add your server under backends.servers in the config, or set backends.autoDetect: true to find it on the default ports',
    );
  }
  return check(
    'model servers',
    'warn',
    'no model server found on the default ports (11434, 8080, 8000, 1234)',
    FIX_NO_SERVER,
  );
}

/** What checkJobSandbox answers. */
type JobSandbox = Awaited<ReturnType<DoctorContext['checkJobSandbox']>>;

/** Where coding jobs run code a model wrote: bubblewrap, nowhere (they refuse), or unsandboxed. */
async function jobSandboxCheck(ctx: DoctorContext): Promise<WireDoctorCheck> {
  const sandbox = await ctx
    .checkJobSandbox()
    .catch((err: unknown): JobSandbox => ({ kind: null, reason: `check failed: ${String(err)}` }));
  if (sandbox.kind === null) {
    return check(
      'job sandbox',
      'fail',
      `no sandbox: coding jobs refuse to verify (${sandbox.reason})`,
      'install bubblewrap (sudo apt install bubblewrap, or ./install.sh offers it); or set jobs.sandbox: off to verify unsandboxed',
    );
  }
  if (sandbox.kind === 'none') {
    return check(
      'job sandbox',
      'warn',
      'jobs.sandbox is off: coding-job verification runs code a model wrote as your user, unsandboxed',
      'install bubblewrap (sudo apt install bubblewrap) and remove jobs.sandbox: off from the config',
    );
  }
  return check(
    'job sandbox',
    'ok',
    'bubblewrap: coding-job verification runs with no network, no $HOME, no data dir, only its workspace writable',
  );
}
