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
