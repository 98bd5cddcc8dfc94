// A request's effective privacy and the rule that decided it. Pure.
//
// Precedence: the `x-swarm-privacy` header, then the alias the request names, then the API
// key it came with, then `routing.defaultPrivacy`. A prompt that carries a secret is then
// held to `lan` or stricter whatever was asked (`local` stays `local`): secrets never reach
// a cloud provider. The reason is short ASCII, fit for the `x-swarm-privacy-reason` header.
import { ErrorCodes, SwarmError } from '../errors.js';
import { PRIVACY_ORDER, type Privacy } from '../inference/types.js';

/** Everything that can set a request's privacy. */
export interface PrivacyInputs {
  /** Raw `x-swarm-privacy` header value; null, undefined or blank when absent. */
  header?: string | null | undefined;
  /** Privacy of the alias the request names, when the alias sets one. */
  alias?: Privacy | null | undefined;
  /** Privacy attached to the caller's API key, when its config sets one. */
  apiKey?: Privacy | null | undefined;
  /** `routing.defaultPrivacy`. */
  configDefault: Privacy;
  /** What `findSecrets` found in the request (only the kinds are used). */
  secretsFound: readonly { kind: string }[];
}

/** The effective privacy and which rule decided it. */
export interface PrivacyDecision {
  privacy: Privacy;
  /** `header`, `alias`, `api-key`, `default`, or `secret:<kind>` when a secret capped it. */
  reason: string;
}

/** Parse an `x-swarm-privacy` header value; null when absent; SwarmError PRIVACY_INVALID when wrong. */
export function parsePrivacyHeader(value: string | null | undefined): Privacy | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  const privacy = value.trim().toLowerCase();
  if ((PRIVACY_ORDER as readonly string[]).includes(privacy)) return privacy as Privacy;
  throw new SwarmError(
    ErrorCodes.PRIVACY_INVALID,
    `x-swarm-privacy: got ${JSON.stringify(value.slice(0, 64))}; use local (this box only), lan (any swarm node) or cloud (cloud providers allowed)`,
  );
}

/** The effective privacy of a request, by header > alias > API key > default, capped by secrets. */
export function effectivePrivacy(inputs: PrivacyInputs): PrivacyDecision {
  const header = parsePrivacyHeader(inputs.header);
  let decision: PrivacyDecision;
  if (header !== null) decision = { privacy: header, reason: 'header' };
  else if (inputs.alias) decision = { privacy: inputs.alias, reason: 'alias' };
  else if (inputs.apiKey) decision = { privacy: inputs.apiKey, reason: 'api-key' };
  else decision = { privacy: inputs.configDefault, reason: 'default' };
  const secret = inputs.secretsFound[0];
  if (secret && decision.privacy === 'cloud') return { privacy: 'lan', reason: `secret:${secret.kind}` };
  return decision;
}

/** True when a target of privacy `need` may serve a request whose privacy is `allowed`. */
export function privacyAllows(allowed: Privacy, need: Privacy): boolean {
  return PRIVACY_ORDER.indexOf(need) <= PRIVACY_ORDER.indexOf(allowed);
}
