import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns';
import ipaddr from 'ipaddr.js';
import type { LookupAddress, LookupOptions } from 'node:dns';

/** Addresses a webhook may not reach unless WEBHOOKS_ALLOW_PRIVATE: loopback, private, link-local and other non-public ranges. */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}

/**
 * Whether `address` (an IPv4 or IPv6 literal) is loopback, private, link-local or otherwise not
 * public. An IPv6 address that carries an IPv4 one is judged by that IPv4 address, however it is
 * written (ipaddr.js parses every spelling): IPv4-mapped `::ffff:0:0/96` and IPv4-translated
 * `::ffff:0:0:0/96`, and 6to4 `2002::/16`. Translators that reach IPv4 hosts the server cannot
 * judge (NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, Teredo) and the deprecated IPv4-compatible
 * `::/96` are refused, as is every special-purpose IPv6 range.
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family !== 6 || !ipaddr.IPv6.isValid(address)) return true;
  const ip = ipaddr.IPv6.parse(address);
  const range = ip.range();
  const bytes = ip.toByteArray();
  if (range === 'ipv4Mapped' || range === 'rfc6145') return isPrivateAddress(bytes.slice(12).join('.'));
  if (range === '6to4') return isPrivateAddress(bytes.slice(2, 6).join('.'));
  // the IPv4-compatible ::a.b.c.d (and :: and ::1)
  if (bytes.slice(0, 12).every((b) => b === 0)) return true;
  return range !== 'unicast' || BLOCKED.check(ip.toNormalizedString(), 'ipv6');
}

export class WebhookUrlError extends Error {}

/** How to allow what was refused (on a closed network or for a receiver on this machine). */
const ALLOW_HINT = 'set WEBHOOKS_ALLOW_PRIVATE=true on the server to allow it (closed networks and local receivers only)';

/** The URL's host without IPv6 brackets. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Every address `host` resolves to. */
function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => lookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));
}

/**
 * Refuses a webhook URL that is not http(s) or that resolves to a non-public address (unless
 * allowed). Checked when an endpoint is saved, and again on every delivery (by `guardedLookup`),
 * since a name may resolve elsewhere later (DNS rebinding).
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean): Promise<void> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlError('must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookUrlError('must be an http or https URL');
  if (url.username || url.password) throw new WebhookUrlError('must not carry a user name or password');
  if (allowPrivate) return;
  const host = hostOf(url);
  if (isIP(host)) {
    if (isPrivateAddress(host)) throw new WebhookUrlError(`must not point to a loopback, private or link-local address: ${ALLOW_HINT}`);
    return;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolveAll(host);
  } catch {
    throw new WebhookUrlError(`the host ${host} does not resolve (on a closed network without public DNS, ${ALLOW_HINT})`);
  }
  if (!addresses.length || addresses.some((a) => isPrivateAddress(a.address))) {
    throw new WebhookUrlError(`must not resolve to a loopback, private or link-local address: ${ALLOW_HINT}`);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that refuses non-public addresses: the check applies to the very
 * address the connection uses, so a name that changes its answer between check and connect
 * cannot slip through. (IP literals skip lookup: `checkWebhookUrl` covers them.)
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      if (!allowPrivate && (!list.length || list.some((a) => isPrivateAddress(a.address)))) {
        const refused: NodeJS.ErrnoException = new Error('the URL resolves to a loopback, private or link-local address');
        refused.code = 'EPRIVATEADDRESS';
        return callback(refused, []);
      }
      if (options.all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}
