import { describe, expect, it } from 'vitest';
import { AdvertTracker, type BrowsedService } from '../../../src/discovery/peer-events.js';

const OWN = 'aaaaaaaaaaaaaaaa';
const PEER = 'bbbbbbbbbbbbbbbb';

function service(
  name: string,
  txt: Record<string, string> | undefined,
  addresses = ['10.0.0.2'],
): BrowsedService {
  return { name, txt, addresses };
}

function peerTxt(overrides: Record<string, string> = {}): Record<string, string> {
  return { id: PEER, pv: '1.0', ep: '10.0.0.2:8766', ...overrides };
}

function tracker() {
  const invalid: { instance: string; reason: string }[] = [];
  const t = new AdvertTracker({
    ownId: OWN,
    onInvalid: (instance, reason) => invalid.push({ instance, reason }),
  });
  return { t, invalid };
}

describe('AdvertTracker', () => {
  it('reports a new peer up once, again when its advert changes, and down on goodbye', () => {
    const { t } = tracker();
    const up = t.seen(service(PEER, peerTxt()));
    expect(up).toEqual({
      type: 'up',
      advert: { id: PEER, protocol: { major: 1, minor: 0 }, endpoints: ['10.0.0.2:8766'], proof: null },
      addresses: ['10.0.0.2'],
    });
    expect(t.seen(service(PEER, peerTxt()))).toBeNull();
    expect(t.seen(service(PEER, peerTxt({ ep: '10.0.0.3:8766' })))?.advert.endpoints).toEqual([
      '10.0.0.3:8766',
    ]);
    expect(t.gone(service(PEER, undefined))?.type).toBe('down');
    expect(t.gone(service(PEER, undefined))).toBeNull();
  });

  it('ignores our own advert', () => {
    const { t, invalid } = tracker();
    expect(t.seen(service(OWN, { id: OWN, pv: '1.0', ep: '10.0.0.1:8766' }))).toBeNull();
    expect(t.gone(service(OWN, undefined))).toBeNull();
    expect(invalid).toEqual([]);
  });

  it('reports a garbage TXT once per instance name and never raises it as a peer', () => {
    const { t, invalid } = tracker();
    expect(t.seen(service('stranger', { id: 'zz' }))).toBeNull();
    expect(t.seen(service('stranger', { id: 'yy', pv: 'x' }))).toBeNull();
    expect(t.seen(service('other', { foo: 'bar' }))).toBeNull();
    expect(invalid.map((i) => i.instance)).toEqual(['stranger', 'other']);
    expect(invalid[0]?.reason).toContain('id');
    expect(t.gone(service('stranger', undefined))).toBeNull();
  });

  it('refuses an advert whose id is not its instance name', () => {
    const { t, invalid } = tracker();
    expect(t.seen(service('cccccccccccccccc', peerTxt()))).toBeNull();
    expect(invalid).toHaveLength(1);
  });

  it('takes a peer whose advert turns to garbage as gone', () => {
    const { t } = tracker();
    t.seen(service(PEER, peerTxt()));
    expect(t.seen(service(PEER, peerTxt({ pv: 'broken' })))?.type).toBe('down');
  });

  it('waits quietly when the TXT record has not arrived yet', () => {
    const { t, invalid } = tracker();
    expect(t.seen(service(PEER, undefined))).toBeNull();
    expect(invalid).toEqual([]);
    expect(t.seen(service(PEER, peerTxt()))?.type).toBe('up');
  });

  it('prefers the raw TXT strings over bonjour-service decoded values', () => {
    const { t } = tracker();
    const raw = ['id=bbbbbbbbbbbbbbbb', 'pv=1.0', 'ep=10.0.0.2:8766'].map((s) => Buffer.from(s));
    expect(t.seen({ name: PEER, rawTxt: raw, txt: { broken: 'x' } })?.type).toBe('up');
  });
});
