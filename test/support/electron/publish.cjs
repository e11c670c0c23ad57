'use strict';
/**
 * electron-builder's publishing step, run for real: electron-publish's KeygenPublisher is created
 * and called the way `electron-builder --publish always` does it (app-builder-lib's PublishManager):
 *
 *   new KeygenPublisher(context, publishConfig, appVersion)        one publisher per publish config
 *   publisher.upload({file, arch})                                 one task per artifact, run in parallel
 *   publisher.upload({file, fileContent, arch: null})              the channel file (<channel>.yml)
 *
 * with context = {cancellationToken, progress: null} (progress is null when stdout is not a TTY,
 * as in CI) and KEYGEN_TOKEN in the environment. `publishConfig` is what electron-builder resolves
 * from the `publish` option: {provider: "keygen", host, account, product, channel} plus the
 * `platform` it adds itself (the packager's platform name: "windows", "mac" or "linux").
 *
 * Input (JSON on stdin): {config, version, uploads: [{file, arch: "x64" | null, asContent?: true}],
 *   order?: "parallel" | "channel-file-last"}. "parallel" (default) starts every upload at once;
 *   "channel-file-last" uploads the `asContent` files after the others, as electron-builder does
 *   (it writes the channel file once the installers are done).
 * Output: one line `@@shipgate-client-result@@ {ok, uploads: [{file, ok, error?, statusCode?}]}`.
 */
const fs = require('node:fs');
const { KeygenPublisher } = require('electron-publish');
const { CancellationToken } = require('builder-util-runtime');
const { Arch } = require('builder-util');

const MARKER = '@@shipgate-client-result@@ ';

async function main() {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  const context = { cancellationToken: new CancellationToken(), progress: null };
  const publisher = new KeygenPublisher(context, input.config, input.version);
  const task = (u) => {
    const t = { file: u.file, arch: u.arch == null ? null : Arch[u.arch] };
    if (u.asContent) t.fileContent = fs.readFileSync(u.file);
    return t;
  };
  const run = (uploads) =>
    Promise.allSettled(uploads.map((u) => publisher.upload(task(u)))).then((settled) =>
      settled.map((s, i) =>
        s.status === 'fulfilled'
          ? { file: uploads[i].file, ok: true }
          : { file: uploads[i].file, ok: false, statusCode: s.reason && s.reason.statusCode, error: String((s.reason && s.reason.message) || s.reason) },
      ),
    );
  let results;
  if (input.order === 'channel-file-last') {
    results = [...(await run(input.uploads.filter((u) => !u.asContent))), ...(await run(input.uploads.filter((u) => u.asContent)))];
  } else {
    results = await run(input.uploads);
  }
  return { ok: results.every((r) => r.ok), publisher: publisher.toString(), uploads: results };
}

main().then(
  // exit at once: Node's global agent keeps the connections alive, which would hold the process open
  (result) => process.stdout.write(`\n${MARKER}${JSON.stringify(result)}\n`, () => process.exit(result.ok ? 0 : 1)),
  (e) => {
    process.stdout.write(`\n${MARKER}${JSON.stringify({ ok: false, error: String((e && e.stack) || e), uploads: [] })}\n`, () => process.exit(1));
  },
);
