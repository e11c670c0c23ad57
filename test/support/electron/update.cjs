'use strict';
/**
 * electron-updater's update check and download, run for real outside Electron: the provider is
 * made by electron-updater's own providerFactory.createClient from the app's update config (what
 * electron-builder writes into app-update.yml, or what the app passes to setFeedURL), and called
 * the way AppUpdater and NsisUpdater call it:
 *
 *   provider.setRequestHeaders({"x-user-staging-id": <id>, ...requestHeaders})
 *   info  = await provider.getLatestVersion()
 *   file  = findFile(provider.resolveFiles(info), "exe")
 *   executor.download(file.url, dest, {headers: {accept: "*\/*", ...requestHeaders}, sha512: file.info.sha512})
 *
 * The executor is Node's https (what builder-util's NodeHttpExecutor does, with the download method
 * of electron-updater's ElectronHttpExecutor, whose Chromium network stack is not available here);
 * the sha512 of the download is checked by builder-util-runtime's DigestTransform, as in the app.
 *
 * Input (JSON on stdin): {config, platform: "win32" | "darwin" | "linux", requestHeaders?,
 *   currentVersion, extension: "exe", downloadDir, blockmap?: true}
 * Output: one line `@@shipgate-client-result@@ {ok, version, ...}`.
 */
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const zlib = require('node:zlib');
const { createHash, randomUUID } = require('node:crypto');
const { CancellationToken, HttpExecutor, configureRequestOptions, configureRequestUrl } = require('builder-util-runtime');
const { createClient } = require('electron-updater/out/providerFactory');
const { findFile } = require('electron-updater/out/providers/Provider');
const semver = require('semver');

const MARKER = '@@shipgate-client-result@@ ';

class NodeExecutor extends HttpExecutor {
  createRequest(options, callback) {
    return (options.protocol === 'http:' ? http : https).request(options, callback);
  }

  /** electron-updater's ElectronHttpExecutor.download, over Node's https. */
  download(url, destination, options) {
    return options.cancellationToken.createPromise((resolve, reject, onCancel) => {
      const requestOptions = { headers: options.headers || undefined, redirect: 'manual' };
      configureRequestUrl(url, requestOptions);
      configureRequestOptions(requestOptions);
      this.doDownload(
        requestOptions,
        { destination, options, onCancel, callback: (error) => (error == null ? resolve(destination) : reject(error)), responseHandler: null },
        0,
      );
    });
  }
}

const digest = (bytes, encoding) => createHash('sha512').update(bytes).digest(encoding);

async function main() {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  const requestHeaders = input.requestHeaders || null;
  const executor = new NodeExecutor();
  // what AppUpdater hands a provider as `updater`
  const updater = {
    channel: null,
    get isAddNoCacheQuery() {
      if (requestHeaders == null) return true;
      return !Object.keys(requestHeaders).some((h) => ['authorization', 'private-token'].includes(h.toLowerCase()));
    },
  };
  const provider = createClient(input.config, updater, { isUseMultipleRangeRequest: true, platform: input.platform, executor });
  provider.setRequestHeaders(Object.assign({ 'x-user-staging-id': randomUUID() }, requestHeaders));
  const info = await provider.getLatestVersion();
  const result = {
    ok: false,
    provider: input.config.provider,
    version: info.version,
    updateAvailable: semver.gt(info.version, input.currentVersion),
    releaseDate: info.releaseDate,
  };
  const files = provider.resolveFiles(info);
  result.files = files.map((f) => f.url.href);
  const file = findFile(files, input.extension || 'exe');
  result.fileUrl = file.url.href;
  const downloadHeaders = Object.assign({ accept: '*/*' }, requestHeaders);
  fs.mkdirSync(input.downloadDir, { recursive: true });
  const destination = path.join(input.downloadDir, decodeURIComponent(path.posix.basename(file.url.pathname)));
  await executor.download(file.url, destination, { headers: downloadHeaders, sha512: file.info.sha512, cancellationToken: new CancellationToken() });
  const bytes = fs.readFileSync(destination);
  Object.assign(result, { file: destination, bytes: bytes.length, sha512: digest(bytes, 'base64'), sha512Hex: digest(bytes, 'hex'), expectedSha512: file.info.sha512 });
  if (input.blockmap) {
    // the new version's blockmap, fetched as AppUpdater.differentialDownloadInstaller fetches it
    const [, newBlockMapUrl] = await provider.getBlockMapFiles(file.url, input.currentVersion, info.version);
    const data = await executor.downloadToBuffer(newBlockMapUrl, { headers: downloadHeaders, cancellationToken: new CancellationToken() });
    const parsed = JSON.parse(zlib.gunzipSync(data).toString('utf8'));
    result.blockmap = { url: newBlockMapUrl.href, bytes: data.length, sha512Hex: digest(data, 'hex'), version: parsed.version, blocks: parsed.files[0].checksums.length };
  }
  result.ok = true;
  return result;
}

main().then(
  // exit at once: Node's global agent keeps the connections alive, which would hold the process open
  (result) => process.stdout.write(`\n${MARKER}${JSON.stringify(result)}\n`, () => process.exit(0)),
  (e) => {
    process.stdout.write(`\n${MARKER}${JSON.stringify({ ok: false, code: e && e.code, error: String((e && e.stack) || e) })}\n`, () => process.exit(1));
  },
);
