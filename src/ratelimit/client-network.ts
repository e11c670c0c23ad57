import ipaddr from 'ipaddr.js';

/**
 * The client network an address belongs to, as the per-address rate limits count it: an IPv4
 * address is itself (an IPv4-mapped IPv6 address too), an IPv6 address is its /64 (one subscriber
 * holds a whole /64, so rotating addresses inside it must not buy more attempts). Something that
 * is no address (`unknown`) is kept as it is, cut to a bounded length.
 */
export function clientNetwork(address: string): string {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(address);
  } catch {
    return address.slice(0, 64);
  }
  if (ip.kind() === 'ipv4') return ip.toString();
  const parts = (ip as ipaddr.IPv6).parts.slice(0, 4).concat([0, 0, 0, 0]);
  return `${new ipaddr.IPv6(parts).toString()}/64`;
}
