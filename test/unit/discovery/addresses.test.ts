import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  formatEndpoint,
  isVirtualInterface,
  parseEndpoint,
  usableAddresses,
} from '../../../src/discovery/addresses.js';

type Info = os.NetworkInterfaceInfo;

function v4(address: string, internal = false): Info {
  return {
    address,
    netmask: '255.255.255.0',
    family: 'IPv4',
    mac: '02:00:00:00:00:01',
    internal,
    cidr: null,
  };
}

function v6(address: string, scopeid = 0, internal = false): Info {
  return {
    address,
    netmask: 'ffff:ffff:ffff:ffff::',
    family: 'IPv6',
    mac: '02:00:00:00:00:01',
    internal,
    cidr: null,
    scopeid,
  };
}

const loopback = { lo: [v4('127.0.0.1', true), v6('::1', 0, true)] };

describe('usableAddresses', () => {
  it('skips Docker, libvirt and CNI interfaces but keeps a plain veth0', () => {
    const interfaces = {
      ...loopback,
      docker0: [v4('172.17.0.1')],
      'br-abcd': [v4('172.18.0.1')],
      'br-0123456789ab': [v4('172.19.0.1')],
      veth1234abc: [v4('169.254.10.1')],
      virbr0: [v4('192.168.122.1')],
      'flannel.1': [v4('10.244.0.0')],
      cni0: [v4('10.88.0.1')],
      vmnet8: [v4('192.168.200.1')],
      veth0: [v4('10.203.0.1')],
      eth0: [v4('192.168.1.20')],
    };
    expect(usableAddresses({ includeVirtual: false, interfaces })).toEqual([
      { address: '10.203.0.1', family: 4, iface: 'veth0' },
      { address: '192.168.1.20', family: 4, iface: 'eth0' },
    ]);
  });

  it('keeps virtual interfaces when asked to', () => {
    const interfaces = { docker0: [v4('172.17.0.1')], eth0: [v4('192.168.1.20')] };
    expect(usableAddresses({ includeVirtual: true, interfaces }).map((a) => a.iface)).toEqual([
      'docker0',
      'eth0',
    ]);
  });

  it('leaves out link-local IPv6 and lists IPv4 before IPv6', () => {
    const interfaces = {
      eth0: [v6('fe80::1', 2), v6('2001:db8::20'), v4('192.168.1.20')],
      wlan0: [v6('fe80::2'), v4('192.168.1.21')],
    };
    expect(usableAddresses({ includeVirtual: false, interfaces })).toEqual([
      { address: '192.168.1.20', family: 4, iface: 'eth0' },
      { address: '192.168.1.21', family: 4, iface: 'wlan0' },
      { address: '2001:db8::20', family: 6, iface: 'eth0' },
    ]);
  });

  it('falls back to loopback only when nothing else exists', () => {
    expect(usableAddresses({ includeVirtual: false, interfaces: loopback })).toEqual([
      { address: '127.0.0.1', family: 4, iface: 'lo' },
      { address: '::1', family: 6, iface: 'lo' },
    ]);
    const withLan = { ...loopback, eth0: [v4('192.168.1.20')] };
    expect(usableAddresses({ includeVirtual: false, interfaces: withLan }).map((a) => a.iface)).toEqual([
      'eth0',
    ]);
  });

  it('lists an address shared by two interfaces once', () => {
    const interfaces = { eth0: [v4('192.168.1.20')], eth1: [v4('192.168.1.20')] };
    expect(usableAddresses({ includeVirtual: false, interfaces })).toHaveLength(1);
  });
});

describe('isVirtualInterface', () => {
  it.each([
    'docker0',
    'docker_gwbridge',
    'br-abcd',
    'veth1234abc',
    'vethc1a2b3c4',
    'virbr0',
    'virbr0-nic',
    'cni0',
    'cni-podman0',
    'flannel.1',
    'vmnet1',
    'podman0',
  ])('%s is virtual', (name) => expect(isVirtualInterface(name)).toBe(true));
  it.each(['veth0', 'veth1', 'eth0', 'enp3s0', 'wlan0', 'br0', 'br-lan', 'tailscale0', 'lo'])(
    '%s is not',
    (name) => expect(isVirtualInterface(name)).toBe(false),
  );
});

describe('formatEndpoint / parseEndpoint', () => {
  it('brackets IPv6 and leaves IPv4 and host names bare', () => {
    expect(formatEndpoint('192.168.1.20', 8766)).toBe('192.168.1.20:8766');
    expect(formatEndpoint('2001:db8::1', 8766)).toBe('[2001:db8::1]:8766');
    expect(formatEndpoint('gpu.lan', 8766)).toBe('gpu.lan:8766');
  });

  it('parses what it formats', () => {
    for (const host of ['192.168.1.20', '2001:db8::1', '::1', 'gpu-box.local']) {
      expect(parseEndpoint(formatEndpoint(host, 8766))).toEqual({ host, port: 8766 });
    }
  });

  it.each([
    '',
    ':8766',
    '10.0.0.1',
    '10.0.0.1:',
    '10.0.0.1:0',
    '10.0.0.1:65536',
    '10.0.0.1:87a',
    '::1:8766',
    '[::1]',
    '[::1:8766',
    '[fe80::1%eth0]:1',
    '-bad.host:1',
    'a..b:1',
    '300.1.1.1:1',
  ])('rejects %j', (text) => expect(parseEndpoint(text)).toBeNull());
});
