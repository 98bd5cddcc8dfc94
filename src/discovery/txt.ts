// The mDNS TXT record of a swarmd node: encode our advert, decode a stranger's. Pure, no I/O.
// Two parts (DESIGN §5): the core (id, protocol, endpoints, swarm, epoch and the proof `pf` over
// them), laid out exactly as the previous release reads and verifies it, and a capability summary
// (txt-summary.ts) with its own proof `sp` over the whole record. Routing never trusts the summary.
import { ErrorCodes, errorMessage, SwarmError } from '../errors.js';
import { parseEndpoint } from './endpoint.js';
import { type AdvertSummary, decodeSummary, fitSummary, summaryFields } from './txt-summary.js';

export type { AdvertSummary } from './txt-summary.js';

/** What a node says about itself in mDNS: enough to dial it and check it belongs. */
export interface Advert {
  /** Node id: 16 lowercase hex digits, also the mDNS instance name. */
  id: string;
  /** Peer protocol version the node speaks. */
  protocol: { major: number; minor: number };
  /** gRPC endpoints in order of preference, `host:port`, IPv6 as `[addr]:port`. */
  endpoints: string[];
  /** Swarm membership proof (base64url), or null when the node sends none. */
  proof: string | null;
  /** Id of the swarm the node belongs to (not secret), or null when it is unpaired. */
  swarm?: string | null;
  /** Credential epoch of that swarm (grows on rotate/remove), or null when unpaired. */
  epoch?: number | null;
  /** What the box has (GPUs, VRAM, loaded models, state); absent in adverts of older nodes. */
  summary?: AdvertSummary | null;
  /** Proof (base64url) over the whole record, summary included; null when the node sends none. */
  summaryProof?: string | null;
}

/** Most bytes our own TXT record may take on the wire (length bytes included). */
export const TXT_BUDGET_BYTES = 1300;
/** Most bytes the core fields may take: the whole record of the previous release, as it was. */
export const TXT_CORE_BUDGET_BYTES = 400;
/** Most bytes a stranger's TXT record may take before we refuse to read it. */
export const TXT_MAX_BYTES = 1300;
/** Most distinct keys a stranger's TXT record may carry. */
export const TXT_MAX_KEYS = 16;
/** DNS caps each TXT string (`key=value`) at 255 bytes: its length is one byte. */
export const TXT_MAX_STRING_BYTES = 255;

const ID_RE = /^[0-9a-f]{16}$/;
const VERSION_RE = /^([0-9]{1,5})\.([0-9]{1,5})$/;
const PROOF_RE = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_VERSION_PART = 65_535;

/**
 * Encode our advert as TXT key/values. Cuts it to fit first (fitAdvert); sign the fitted advert,
 * so the proofs cover exactly what is sent.
 */
export function encodeTxt(advert: Advert): Record<string, string> {
  const fitted = fitAdvert(advert);
  const txt = coreTxt(fitted);
  if (fitted.summary) {
    Object.assign(txt, summaryFields(fitted.summary));
    if (fitted.summaryProof != null) txt['sp'] = checkProof(fitted.summaryProof, 'own', 'sp');
  }
  return txt;
}

/**
 * The advert as encodeTxt sends it: trailing endpoints dropped to keep the core within
 * TXT_CORE_BUDGET_BYTES, then GPU and model names cut to keep the whole within TXT_BUDGET_BYTES.
 * Room is kept for the proofs the advert carries (sign with placeholders of the real length).
 * Fitting a fitted advert changes nothing.
 */
export function fitAdvert(advert: Advert): Advert {
  const core = coreTxt({ ...advert, endpoints: [] });
  const kept: string[] = [];
  for (const endpoint of advert.endpoints) {
    if (parseEndpoint(endpoint) === null) fail('own', `ep: ${show(endpoint)} is not host:port`);
    const ep = [...kept, endpoint].join(',');
    const withEp = { ...core, ep };
    if (stringBytes('ep', ep) > TXT_MAX_STRING_BYTES || txtBytes(withEp) > TXT_CORE_BUDGET_BYTES) break;
    kept.push(endpoint);
  }
  if (kept.length === 0) {
    fail(
      'own',
      `ep: no endpoint fits the ${TXT_CORE_BUDGET_BYTES}-byte budget (got ${advert.endpoints.length})`,
    );
  }
  const fitted: Advert = { ...advert, endpoints: kept };
  if (!advert.summary) return fitted;
  let spare = TXT_BUDGET_BYTES - txtBytes(coreTxt(fitted));
  if (advert.summaryProof != null) spare -= 1 + stringBytes('sp', advert.summaryProof);
  return { ...fitted, summary: fitSummary(advert.summary, spare) };
}

// The core fields as the previous release writes them (endpoints as given).
function coreTxt(advert: Advert): Record<string, string> {
  const txt: Record<string, string> = {
    id: checkId(advert.id, 'own'),
    pv: formatVersion(advert.protocol),
  };
  if (advert.proof !== null) txt['pf'] = checkProof(advert.proof, 'own');
  if (advert.swarm) txt['sw'] = checkSwarm(advert.swarm, 'own');
  if (advert.swarm && advert.epoch) txt['se'] = String(checkEpoch(String(advert.epoch), 'own'));
  for (const endpoint of advert.endpoints) {
    if (parseEndpoint(endpoint) === null) fail('own', `ep: ${show(endpoint)} is not host:port`);
  }
  if (advert.endpoints.length > 0) txt['ep'] = advert.endpoints.join(',');
  return txt;
}

/**
 * Decode a TXT record received from the network. Accepts the key/value object bonjour
 * builds (string or Buffer values) or the raw list of `key=value` strings/Buffers.
 * Throws only SwarmError TXT_INVALID, naming the field and what was wrong.
 */
export function decodeTxt(txt: unknown): Advert {
  try {
    return decodeFields(normalise(txt));
  } catch (err) {
    // A hostile object (a Proxy, a throwing getter) must not leak another kind of error.
    if (err instanceof SwarmError) throw err;
    return fail('peer', `record: unreadable (${show(errorMessage(err))})`);
  }
}

function decodeFields(fields: Map<string, string>): Advert {
  const id = fields.get('id');
  if (id === undefined) fail('peer', 'id: missing');
  const pv = fields.get('pv');
  if (pv === undefined) fail('peer', 'pv: missing');
  const ep = fields.get('ep');
  if (ep === undefined) fail('peer', 'ep: missing');
  const pf = fields.get('pf');
  const sw = fields.get('sw');
  const se = fields.get('se');
  const advert: Advert = {
    id: checkId(id, 'peer'),
    protocol: parseVersion(pv),
    endpoints: parseEndpoints(ep),
    proof: pf === undefined ? null : checkProof(pf, 'peer'),
  };
  // Unpaired nodes send no swarm fields; leave them out rather than null.
  if (sw !== undefined) advert.swarm = checkSwarm(sw, 'peer');
  if (sw !== undefined && se !== undefined) advert.epoch = checkEpoch(se, 'peer');
  // Older nodes send no summary; one this release cannot read is dropped, not the advert.
  const summary = decodeSummary(fields);
  if (summary) {
    advert.summary = summary;
    const sp = fields.get('sp');
    advert.summaryProof = sp !== undefined && PROOF_RE.test(sp) ? sp : null;
  }
  return advert;
}

/**
 * The fields an advert proof signs, rebuilt from an Advert exactly as encodeTxt writes
 * them, so the publisher (before encoding) and a receiver (after decoding) sign and
 * verify the same text. Pass the advert with the endpoints that were actually encoded.
 */
export function advertProofFields(advert: Advert): Record<string, string> {
  const fields: Record<string, string> = {
    id: advert.id,
    pv: formatVersion(advert.protocol),
    ep: advert.endpoints.join(','),
  };
  if (advert.swarm) fields['sw'] = advert.swarm;
  if (advert.swarm && advert.epoch) fields['se'] = String(advert.epoch);
  return fields;
}

/**
 * The fields the summary proof signs: the whole record but the two proofs, rebuilt from a
 * fitted (or received) advert that has a summary.
 */
export function advertSummaryProofFields(
  advert: Advert & { summary: AdvertSummary },
): Record<string, string> {
  return { ...advertProofFields(advert), ...summaryFields(advert.summary) };
}

const SWARM_RE = /^[0-9a-f]{16}$/;

function checkSwarm(value: string, who: 'own' | 'peer'): string {
  if (!SWARM_RE.test(value)) fail(who, `sw: ${show(value)} is not a swarm id (16 lowercase hex digits)`);
  return value;
}

function checkEpoch(value: string, who: 'own' | 'peer'): number {
  if (!/^[1-9][0-9]{0,8}$/.test(value))
    fail(who, `se: ${show(value)} is not an epoch (a positive whole number)`);
  return Number(value);
}

/** Bytes a TXT key/value record takes on the wire: one length byte plus `key=value` per entry. */
export function txtBytes(txt: Record<string, string>): number {
  let total = 0;
  for (const [key, value] of Object.entries(txt)) total += 1 + stringBytes(key, value);
  return total;
}

function stringBytes(key: string, value: string): number {
  return Buffer.byteLength(key) + 1 + Buffer.byteLength(value);
}

// Reduce both input shapes to lowercased keys (RFC 6763 §6.4: keys are case-insensitive,
// the first occurrence of a key wins) while enforcing the size and key-count limits.
function normalise(txt: unknown): Map<string, string> {
  const fields = new Map<string, string>();
  let bytes = 0;
  const add = (key: string, value: string | undefined, entryBytes: number): void => {
    bytes += entryBytes;
    if (bytes > TXT_MAX_BYTES) fail('peer', `record: more than ${TXT_MAX_BYTES} bytes`);
    if (entryBytes - 1 > TXT_MAX_STRING_BYTES) {
      fail('peer', `${show(key)}: entry of ${entryBytes - 1} bytes exceeds ${TXT_MAX_STRING_BYTES}`);
    }
    // RFC 6763 §6.4: a string starting with "=" has no key and is ignored.
    if (key.length === 0) return;
    const lower = key.toLowerCase();
    if (fields.has(lower)) return;
    if (fields.size >= TXT_MAX_KEYS) fail('peer', `record: more than ${TXT_MAX_KEYS} keys`);
    fields.set(lower, value ?? '');
  };

  if (Array.isArray(txt)) {
    for (const entry of txt) {
      const text = asText(entry, 'record entry');
      if (text.length === 0) {
        add('', undefined, 1);
        continue;
      }
      const eq = text.indexOf('=');
      const key = eq === -1 ? text : text.slice(0, eq);
      add(key, eq === -1 ? undefined : text.slice(eq + 1), 1 + Buffer.byteLength(text));
    }
    return fields;
  }
  if (txt === null || typeof txt !== 'object' || txt instanceof Uint8Array) {
    fail('peer', `record: got ${describe(txt)}, expected key/value pairs`);
  }
  for (const [key, raw] of Object.entries(txt)) {
    // bonjour decodes a key with no "=" (an RFC 6763 boolean attribute) to undefined.
    const value = raw === undefined || raw === true ? undefined : asText(raw, show(key));
    const entryBytes = 1 + Buffer.byteLength(key) + (value === undefined ? 0 : 1 + Buffer.byteLength(value));
    add(key, value, entryBytes);
  }
  return fields;
}

function asText(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString();
  return fail('peer', `${field}: got ${describe(value)}, expected a string or bytes`);
}

function checkId(id: string, who: Who): string {
  if (!ID_RE.test(id)) fail(who, `id: ${show(id)} is not 16 lowercase hex digits`);
  return id;
}

function checkProof(proof: string, who: Who, key = 'pf'): string {
  if (!PROOF_RE.test(proof)) fail(who, `${key}: ${show(proof)} is not base64url of 1-64 characters`);
  return proof;
}

function formatVersion(protocol: Advert['protocol']): string {
  const { major, minor } = protocol;
  const ok = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= MAX_VERSION_PART;
  if (!ok(major) || !ok(minor)) fail('own', `pv: ${show(`${major}.${minor}`)} is not major.minor`);
  return `${major}.${minor}`;
}

function parseVersion(pv: string): Advert['protocol'] {
  const match = VERSION_RE.exec(pv);
  const major = Number(match?.[1]);
  const minor = Number(match?.[2]);
  if (!match || major > MAX_VERSION_PART || minor > MAX_VERSION_PART) {
    fail('peer', `pv: ${show(pv)} is not major.minor, each 0-65535 (e.g. "1.0")`);
  }
  return { major, minor };
}

function parseEndpoints(ep: string): string[] {
  if (ep.length === 0) fail('peer', 'ep: empty, expected at least one host:port');
  return ep.split(',').map((endpoint, index) => {
    if (parseEndpoint(endpoint) === null) {
      fail('peer', `ep: endpoint ${index + 1} ${show(endpoint)} is not host:port with a port 1-65535`);
    }
    return endpoint;
  });
}

type Who = 'own' | 'peer';

function fail(who: Who, what: string): never {
  const whose = who === 'own' ? 'our own advert cannot be encoded' : 'TXT record from the network is invalid';
  throw new SwarmError(ErrorCodes.TXT_INVALID, `${whose}: ${what}`);
}

// Strangers' text goes into messages quoted and cut short, so logs stay readable.
function show(value: string): string {
  return JSON.stringify(value.length > 48 ? `${value.slice(0, 48)}…` : value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'bytes';
  return `a ${typeof value}`;
}
