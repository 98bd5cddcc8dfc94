// What a request cost and what it would have cost on the reference cloud model. Pure.
//
// Rounding: costs are computed and stored at full floating-point precision (per-token prices
// are fractions of a cent, and rounding each row would lose whole dollars over a month).
// Only display rounds, to whole cents, half away from zero (formatUsd).
import type { Usage } from '../inference/types.js';

/** A cloud model's price in USD per million tokens. */
export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** The cloud model every request is compared with, to report savings. */
export interface ReferencePrice extends Price {
  model: string;
}

/** The token counts a cost is computed from. */
export type TokenCounts = Pick<Usage, 'promptTokens' | 'completionTokens'>;

const PER_MTOK = 1_000_000;

/** USD a request cost at `price`; 0 with no price (a local model) or no usage reported. */
export function costOf(usage: TokenCounts | null, price: Price | null): number {
  if (usage === null || price === null) return 0;
  return (usage.promptTokens * price.inputPerMTok + usage.completionTokens * price.outputPerMTok) / PER_MTOK;
}

/** USD the same tokens would have cost on the reference model; null when none is configured. */
export function referenceCost(usage: TokenCounts | null, reference: ReferencePrice | null): number | null {
  if (reference === null) return null;
  return costOf(usage, reference);
}

/** USD rounded to cents for people: "$5.12", "-$0.40"; "<$0.01" for a positive amount under half a cent. */
export function formatUsd(usd: number): string {
  const cents = Math.round(Math.abs(usd) * 100);
  if (cents === 0 && usd > 0) return '<$0.01';
  const text = `$${(cents / 100).toFixed(2)}`;
  return usd < 0 && cents > 0 ? `-${text}` : text;
}
