import { clientNetwork } from './client-network';

describe('clientNetwork', () => {
  it('keys an IPv4 address by itself, also when written as an IPv4-mapped IPv6 address', () => {
    expect(clientNetwork('203.0.113.5')).toBe('203.0.113.5');
    expect(clientNetwork('::ffff:203.0.113.5')).toBe('203.0.113.5');
    expect(clientNetwork('203.0.113.6')).not.toBe(clientNetwork('203.0.113.5'));
  });

  it('keys an IPv6 address by its /64, however it is spelled', () => {
    const network = clientNetwork('2001:db8:1:2::1');
    expect(network).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff')).toBe(network);
    expect(clientNetwork('2001:db8:1:2:0:0:0:abcd')).toBe(network);
    expect(clientNetwork('fe80::1%eth0')).toBe('fe80::/64');
    expect(clientNetwork('2001:db8:1:3::1')).not.toBe(network);
    expect(clientNetwork('::1')).toBe('::/64');
  });

  it('keeps what is no address as it is, bounded', () => {
    expect(clientNetwork('unknown')).toBe('unknown');
    expect(clientNetwork('x'.repeat(500))).toHaveLength(64);
  });
});
