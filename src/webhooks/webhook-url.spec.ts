import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { postWebhook } from './webhook-sender';
import { newWebhookSecret, signWebhook } from './webhook-signer';
import { checkWebhookUrl, isPrivateAddress } from './webhook-url';

describe('webhook URLs', () => {
  it.each(['127.0.0.1', '10.0.0.8', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1'])(
    '%s is not public',
    (address) => expect(isPrivateAddress(address)).toBe(true),
  );

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => expect(isPrivateAddress(address)).toBe(false));

  it.each([
    // every spelling of an IPv4-mapped (::ffff:0:0/96) or IPv4-translated (::ffff:0:0:0/96) refused address
    '::ffff:7f00:1', '::FFFF:7F00:0001', '0:0:0:0:0:ffff:7f00:1', '0:0:0:0:0:ffff:127.0.0.1', '::ffff:a00:1', '::ffff:a9fe:a9fe', '::ffff:0:7f00:1',
    // IPv4-compatible (deprecated ::/96)
    '::127.0.0.1', '::7f00:1',
    // 6to4 of a refused IPv4 (127.0.0.1, 10.0.0.1, 192.168.1.1, 169.254.169.254)
    '2002:7f00:1::', '2002:7f00:0001::1', '2002:a00:1::', '2002:c0a8:101::1', '2002:a9fe:a9fe::',
    // NAT64 (well-known and local-use prefixes), whatever the IPv4 it embeds; Teredo
    '64:ff9b::7f00:1', '64:ff9b::127.0.0.1', '64:ff9b::808:808', '64:ff9b:1::a00:1', '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    'not an address',
  ])('%s is not public (IPv4 inside IPv6)', (address) => expect(isPrivateAddress(address)).toBe(true));

  it.each(['2002:808:808::1', '::ffff:808:808', '0:0:0:0:0:ffff:8.8.8.8'])('%s is public (a public IPv4 inside)', (address) => expect(isPrivateAddress(address)).toBe(false));

  it('refuses URLs whose IPv6 literal embeds a refused IPv4', async () => {
    for (const url of ['http://[2002:7f00:1::]/h', 'http://[::ffff:127.0.0.1]/h', 'http://[::ffff:7f00:1]/h', 'http://[64:ff9b::7f00:1]/h', 'http://[::127.0.0.1]/h']) {
      await expect(checkWebhookUrl(url, false)).rejects.toThrow('loopback, private or link-local');
    }
  });

  it('refuses other schemes, credentials in the URL, and hosts that resolve to private addresses', async () => {
    await expect(checkWebhookUrl('ftp://example.com/', false)).rejects.toThrow('http or https');
    await expect(checkWebhookUrl('https://user:pass@example.com/', false)).rejects.toThrow('user name or password');
    await expect(checkWebhookUrl('http://localhost:8080/hook', false)).rejects.toThrow('loopback');
    await expect(checkWebhookUrl('http://[::1]/hook', false)).rejects.toThrow('loopback');
    await expect(checkWebhookUrl('http://localhost:8080/hook', true)).resolves.toBeUndefined();
  });

  it('checks again at delivery time: a private address is never contacted', async () => {
    const result = await postWebhook({ url: 'http://localhost:9/hook', secret: newWebhookSecret(), messageId: 'm1', body: '{}' }, { timeoutMs: 1000, allowPrivate: false });
    expect(result).toMatchObject({ ok: false, statusCode: null });
    expect(result.error).toMatch(/^URL refused/);
  });
});

describe('webhook signatures', () => {
  it('are the Standard Webhooks v1 HMAC-SHA256 of id.timestamp.body, keyed with the decoded secret', () => {
    const secret = newWebhookSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ id: 'evt', event: 'release.created' });
    const signature = signWebhook(secret, 'evt', timestamp, body);
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    expect(signature).toBe(`v1,${createHmac('sha256', key).update(`evt.${timestamp}.${body}`).digest('base64')}`);
    const headers = { 'webhook-id': 'evt', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
    expect(new Webhook(secret).verify(body, headers)).toEqual({ id: 'evt', event: 'release.created' });
  });
});
