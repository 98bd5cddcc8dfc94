import { Service } from 'bonjour-service';
import { describe, expect, it } from 'vitest';
import {
  type Advert,
  type AdvertSummary,
  decodeTxt,
  encodeTxt,
  fitAdvert,
  TXT_BUDGET_BYTES,
  TXT_CORE_BUDGET_BYTES,
  TXT_MAX_KEYS,
  TXT_MAX_STRING_BYTES,
  txtBytes,
} from '../../../src/discovery/txt.js';
import { ErrorCodes } from '../../../src/errors.js';

const summary: AdvertSummary = {
  state: 'active',
  gpuCount: 3,
  gpus: [
    { name: 'NVIDIA GeForce RTX 3090', count: 2 },
    { name: 'NVIDIA RTX A4000', count: 1 },
  ],
  vramTotalMiB: 65_536,
  vramFreeMiB: 40_960,
  models: ['llama3.1:8b', 'qwen2.5-coder:32b'],
  modelCount: 2,
};

const advert: Advert = {
  id: '0123456789abcdef',
  protocol: { major: 1, minor: 0 },
  endpoints: ['192.168.1.20:8766'],
  proof: 'P'.repeat(22),
  swarm: 'fedcba9876543210',
  epoch: 3,
  summary,
  summaryProof: 'S'.repeat(22),
};

// The raw TXT strings bonjour-service puts on the wire for `txt` (what a browser's rawTxt holds).
function wireStrings(txt: Record<string, string>): Buffer[] {
  const service = new Service(
    { name: 'x', type: 'llmswarm', port: 1, txt },
    () => {},
    () => {},
  );
  return service.records().find((r) => r.type === 'TXT')?.data as Buffer[];
}

/** An advert whose record is as big as it gets: long endpoints, many GPUs and many models. */
function biggest(): Advert {
  return {
    ...advert,
    endpoints: Array.from(
      { length: 40 },
      (_, i) => `[2001:db8:1234:5678:9abc:def0:1234:${i.toString(16)}]:8766`,
    ),
    summary: {
      ...summary,
      gpuCount: 40,
      gpus: Array.from({ length: 20 }, (_, i) => ({
        name: `NVIDIA Some Long GPU Name Number ${i}`,
        count: 2,
      })),
      models: Array.from(
        { length: 120 },
        (_, i) => `hf.co/bartowski/model-${String(i).padStart(3, '0')}:Q4_K_M`,
      ),
      modelCount: 120,
    },
  };
}

describe('TXT capability summary', () => {
  it('writes the summary keys avahi-browse shows and reads them back', () => {
    const txt = encodeTxt(advert);
    expect(txt).toMatchObject({
      st: 'active',
      gc: '3',
      gn: '2x NVIDIA GeForce RTX 3090,1x NVIDIA RTX A4000',
      vt: '65536',
      vf: '40960',
      lc: '2',
      lm: 'llama3.1:8b,qwen2.5-coder:32b',
      sp: 'S'.repeat(22),
    });
    expect(decodeTxt(txt)).toEqual(advert);
    expect(decodeTxt(wireStrings(txt))).toEqual(advert);
  });

  it('leaves out what the box does not have (no GPU, no model)', () => {
    const bare: AdvertSummary = {
      state: 'paused',
      gpuCount: 0,
      gpus: [],
      vramTotalMiB: null,
      vramFreeMiB: null,
      models: [],
      modelCount: 0,
    };
    const txt = encodeTxt({ ...advert, summary: bare });
    expect(Object.keys(txt).filter((key) => ['gn', 'vt', 'vf', 'lm', 'lm2'].includes(key))).toEqual([]);
    expect(txt).toMatchObject({ st: 'paused', gc: '0', lc: '0' });
    expect(decodeTxt(txt).summary).toEqual(bare);
  });

  it('escapes names with commas, percent signs and newlines, and reads them back exactly', () => {
    const odd = { ...summary, gpus: [{ name: 'GPU, rev 2', count: 1 }], gpuCount: 1 };
    const withOdd = { ...advert, summary: { ...odd, models: ['a,b', '100%', 'x\ny'], modelCount: 3 } };
    const txt = encodeTxt(withOdd);
    expect(txt['gn']).toBe('1x GPU%2C rev 2');
    expect(txt['lm']).toBe('a%2Cb,100%25,x%0Ay');
    expect(decodeTxt(txt).summary).toEqual(withOdd.summary);
  });

  it('cuts model and GPU names to fit 255-byte strings and the 1300-byte record, with the counts intact', () => {
    const big = biggest();
    const txt = encodeTxt(big);
    expect(txtBytes(txt)).toBeLessThanOrEqual(TXT_BUDGET_BYTES);
    expect(
      txtBytes(encodeTxt({ ...big, proof: 'p'.repeat(64), summaryProof: 's'.repeat(64) })),
    ).toBeLessThanOrEqual(TXT_BUDGET_BYTES);
    expect(Object.keys(txt).length).toBeLessThanOrEqual(TXT_MAX_KEYS - 1); // room for one more key
    for (const [key, value] of Object.entries(txt)) {
      expect(Buffer.byteLength(`${key}=${value}`), key).toBeLessThanOrEqual(TXT_MAX_STRING_BYTES);
    }
    // The core stays as small as the previous release's whole record.
    const { id, pv, ep, pf, sw, se } = txt;
    expect(txtBytes({ id, pv, ep, pf, sw, se } as Record<string, string>)).toBeLessThanOrEqual(
      TXT_CORE_BUDGET_BYTES,
    );
    const decoded = decodeTxt(txt);
    const read = decoded.summary!;
    expect(read.modelCount).toBe(120);
    expect(read.gpuCount).toBe(40);
    expect(read.models.length).toBeGreaterThan(10);
    expect(read.models.length).toBeLessThan(120);
    expect(read.models).toEqual(big.summary!.models.slice(0, read.models.length));
    expect(read.gpus).toEqual(big.summary!.gpus.slice(0, read.gpus.length));
    expect(txt['lm2']).toBeDefined(); // the names spill into the second string
    // What was sent is what fitAdvert says, and fitting it again changes nothing.
    const fitted = fitAdvert(big);
    expect(decoded).toEqual(fitted);
    expect(fitAdvert(fitted)).toEqual(fitted);
    // On the wire, as a browser counts it.
    expect(wireStrings(txt).reduce((sum, b) => sum + 1 + b.length, 0)).toBe(txtBytes(txt));
  });

  it('reads an advert without a summary (an older node) as one without', () => {
    const old = decodeTxt({ id: advert.id, pv: '1.0', ep: '10.0.0.1:8766', pf: 'P'.repeat(22) });
    expect(old.summary).toBeUndefined();
    expect(old.summaryProof).toBeUndefined();
    expect(old.proof).toBe('P'.repeat(22));
  });

  const good = encodeTxt(advert);
  it.each([
    ['an unknown state', { st: 'busy' }],
    ['a count that is not a number', { gc: 'x' }],
    ['a count with a leading zero', { gc: '03' }],
    ['a negative VRAM', { vt: '-1' }],
    ['a fractional VRAM', { vf: '1.5' }],
    ['a GPU entry without a count', { gn: 'NVIDIA RTX A4000' }],
    ['a GPU entry with count 0', { gn: '0x NVIDIA RTX A4000' }],
    ['GPU counts over the GPU count', { gc: '2' }],
    ['an empty model list', { lm: '' }],
    ['an empty model name', { lm: 'a,,b' }],
    ['more models than the count', { lc: '1' }],
    ['a stray percent sign', { lm: '50%off' }],
    ['an escape of a character that is never escaped', { lm: '%41bc' }],
    ['a lower-case escape', { lm: 'a%2cb' }],
    ['a second model string without a first', { lm: undefined, lm2: 'a', lc: '1' }],
    ['models split where we would not split them', { lm: 'llama3.1:8b', lm2: 'qwen2.5-coder:32b' }],
  ])('drops a summary with %s but keeps the advert', (_, change) => {
    const txt: Record<string, string> = { ...good };
    for (const [key, value] of Object.entries(change)) {
      if (value === undefined) delete txt[key];
      else txt[key] = value;
    }
    const decoded = decodeTxt(txt);
    expect(decoded.summary).toBeUndefined();
    expect(decoded.summaryProof).toBeUndefined();
    expect(decoded).toMatchObject({ id: advert.id, proof: advert.proof, endpoints: advert.endpoints });
  });

  it('drops a malformed summary proof but keeps the summary (unverifiable, then)', () => {
    for (const sp of ['', 'has=padding', 'x'.repeat(65)]) {
      const decoded = decodeTxt({ ...good, sp });
      expect(decoded.summary).toEqual(summary);
      expect(decoded.summaryProof).toBeNull();
    }
  });

  it('still refuses a record over the limits, summary or not', () => {
    const huge = Object.fromEntries(['gn', 'lm', 'lm2', 'vt', 'vf'].map((key) => [key, 'x'.repeat(250)]));
    expect(txtBytes({ ...good, ...huge })).toBeGreaterThan(1300);
    expect(() => decodeTxt({ ...good, ...huge })).toThrow(
      expect.objectContaining({ code: ErrorCodes.TXT_INVALID, message: expect.stringContaining('1300') }),
    );
    const many = { ...good, ...Object.fromEntries(['k1', 'k2', 'k3'].map((k) => [k, '1'])) };
    expect(Object.keys(many).length).toBeGreaterThan(TXT_MAX_KEYS);
    expect(() => decodeTxt(many)).toThrow(
      expect.objectContaining({ code: ErrorCodes.TXT_INVALID, message: expect.stringContaining('keys') }),
    );
  });
});
