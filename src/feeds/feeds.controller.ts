import { Controller, Get, Param, Query, Res, Req } from '@nestjs/common';
import type { Response } from 'express';
import type { Bearer } from '../access/bearer';
import { CurrentAccount, CurrentBearer, Public } from '../access/decorators';
import type { AccountRef } from '../access/decorators';
import type { CallerRequest } from '../access/decorators';
import { ApiError } from '../jsonapi/errors';
import type { Query as Q } from '../jsonapi/query';
import { ApiAnswer, ApiQueryParams } from '../openapi/decorators';
import { parseElectronFile, parseFeedQuery, parseTauriQuery, parseVelopackFeed } from './feed-params';
import { AuthService } from '../auth/auth.service';
import { FeedsService } from './feeds.service';
import type { FeedQuery, PlatformGroup } from './feeds.service';
import { FeedsFastPath } from './feeds.fast-path';
import { NOT_WARM } from '../common/not-warm';
import { JSON_UTF8, sendSerialized } from '../jsonapi/json-bytes';

const CREDENTIALS = 'License key (or Authorization: License <key>, or a token)';
const INSTALL_ID = 'Staged rollouts: an installation id (1-64 characters) for callers without a license';

/**
 * Update feeds for the updaters apps embed. Credentials as anywhere (a key in `?key=` is what an
 * app usually puts in its feed URL); what the caller may see decides what the feed offers.
 */
@Controller('v1/accounts/:account')
@Public()
export class FeedsController {
  constructor(
    private readonly fast: FeedsFastPath,
    private readonly feeds: FeedsService,
    private readonly auth: AuthService,
  ) {}

  @ApiAnswer(200, "electron-builder's update info (latest.yml format)", 'text/yaml', { type: 'string' })
  @ApiAnswer(404, 'Nothing visible for this channel and platform')
  @ApiQueryParams({ key: CREDENTIALS, version: 'The version the app runs (for critical and counting)', installId: INSTALL_ID })
  @Get('products/:product/feeds/electron/:file')
  async electron(@Req() req: CallerRequest, @Param('product') product: string, @Param('file') file: string, @Query() query: Q, @Res() res: Response): Promise<void> {
    const { channel, group } = parseElectronFile(file);
    const feed = parseFeedQuery(query, channel);
    const warm = this.fast.electron(req.bearer, req.account!.id, product, group, feed);
    sendYaml(warm !== NOT_WARM ? warm : await this.feeds.electron(req.bearer, req.account!.id, product, group, feed), res);
  }

  @ApiAnswer(200, "The Tauri updater's answer: version, url, signature, notes, pub_date, critical", 'application/json')
  @ApiAnswer(204, 'No newer release')
  @ApiQueryParams({
    'target!': 'linux, windows, darwin (or macos), or <os>-<arch>',
    arch: 'x86_64, aarch64, i686 or armv7 (and aliases)',
    current_version: 'The version the app runs',
    bundle_type: 'How the app was installed (tauri-plugin-updater 2.10+): nsis, msi, deb, rpm, appimage or app; only files of that type are offered',
    channel: 'stable (default), rc, beta, alpha or dev',
    key: CREDENTIALS,
    installId: INSTALL_ID,
  })
  @Get('products/:product/feeds/tauri')
  tauri(@Req() req: CallerRequest, @Param('product') product: string, @Query() query: Q, @Res() res: Response): Promise<void> {
    const { group, query: feed } = parseTauriQuery(query);
    return this.sendTauri(req, product, group, feed, res);
  }

  @ApiAnswer(200, "Tauri's static update JSON: version, notes, pub_date, platforms keyed <os>-<arch>[-<bundle>]", 'application/json')
  @ApiAnswer(404, 'Nothing visible')
  @ApiQueryParams({ channel: 'stable (default), rc, beta, alpha or dev', version: 'The version the app runs (stepping stones, rollbacks, counting)', key: CREDENTIALS, installId: INSTALL_ID })
  @Get('products/:product/feeds/tauri/latest.json')
  async tauriStatic(@Req() req: CallerRequest, @Param('product') product: string, @Query() query: Q, @Res() res: Response): Promise<void> {
    const doc = await this.feeds.tauriStatic(req.bearer, req.account!.id, product, parseFeedQuery(query));
    if (!doc) throw ApiError.notFound('No release is available on this channel');
    res.setHeader('Cache-Control', 'private, no-cache');
    sendSerialized(res, 200, JSON_UTF8, JSON.stringify(doc));
  }

  @ApiAnswer(200, "The Tauri updater's answer (Keygen's route)", 'application/json')
  @ApiAnswer(204, 'No newer release')
  @ApiQueryParams({ 'platform!': 'linux, windows or darwin', arch: 'x86_64, aarch64, i686 or armv7', version: 'The version the app runs', key: CREDENTIALS })
  @Get('engines/tauri/:product')
  keygenTauri(@Req() req: CallerRequest, @Param('product') product: string, @Query() query: Q, @Res() res: Response): Promise<void> {
    const { group, query: feed } = parseTauriQuery(query, { target: 'platform', version: 'version' });
    return this.sendTauri(req, product, group, feed, res);
  }

  /** Tauri's answer (hot: memory answers when it holds the caller and the product). */
  private async sendTauri(req: CallerRequest, product: string, group: PlatformGroup, feed: FeedQuery, res: Response): Promise<void> {
    const warm = this.fast.tauri(req.bearer, req.account!.id, product, group, feed);
    sendTauri(warm !== NOT_WARM ? warm : await this.feeds.tauri(req.bearer, req.account!.id, product, group, feed), res);
  }

  @ApiAnswer(200, "Velopack's release feed: {Assets: [{PackageId, Version, Type, FileName, SHA1, SHA256, Size, NotesMarkdown, NotesHtml}]}", 'application/json')
  @ApiQueryParams({ key: CREDENTIALS, localVersion: 'The version the app runs (Velopack sends it)', id: "The app's package id (Velopack sends it)", stagingId: 'Staged rollouts: the install\'s staging id', os: 'win, osx or linux' })
  @Get('products/:product/feeds/velopack/:file')
  velopack(@Req() req: CallerRequest, @Param('product') product: string, @Param('file') file: string, @Query() query: Q, @Res() res: Response): Promise<void> {
    return this.sendVelopack(req, product, undefined, file, query, res);
  }

  @ApiAnswer(200, "Velopack's release feed, the license key in the path (Velopack replaces the feed URL's query string)", 'application/json')
  @ApiQueryParams({ localVersion: 'The version the app runs (Velopack sends it)', id: "The app's package id", stagingId: 'Staged rollouts: the install\'s staging id' })
  @Get('products/:product/feeds/velopack/k/:key/:file')
  velopackKeyed(@Req() req: CallerRequest, @Param('product') product: string, @Param('key') key: string, @Param('file') file: string, @Query() query: Q, @Res() res: Response): Promise<void> {
    return this.sendVelopack(req, product, key, file, query, res);
  }

  private async sendVelopack(req: CallerRequest, product: string, key: string | undefined, file: string, query: Q, res: Response): Promise<void> {
    const { os, query: feed } = parseVelopackFeed(file, query);
    const bearer = await this.pathCaller(req, key);
    const json = await this.feeds.velopack(bearer, req.account!.id, product, os, feed);
    res.setHeader('Cache-Control', 'private, no-cache');
    sendSerialized(res, 200, JSON_UTF8, json);
  }

  @ApiAnswer(200, "Squirrel.Windows' RELEASES file: one '<SHA1> <URL> <size>' line per package", 'text/plain', { type: 'string' })
  @ApiQueryParams({ key: CREDENTIALS, localVersion: 'The version the app runs (Squirrel sends it)', id: "The app's package id" })
  @Get('products/:product/feeds/squirrel/RELEASES')
  squirrel(@Req() req: CallerRequest, @Param('product') product: string, @Query() query: Q, @Res() res: Response): Promise<void> {
    return this.sendSquirrel(req, product, undefined, query, res);
  }

  @ApiAnswer(200, "Squirrel.Windows' RELEASES file, the license key in the path", 'text/plain', { type: 'string' })
  @ApiQueryParams({ localVersion: 'The version the app runs (Squirrel sends it)', id: "The app's package id" })
  @Get('products/:product/feeds/squirrel/k/:key/RELEASES')
  squirrelKeyed(@Req() req: CallerRequest, @Param('product') product: string, @Param('key') key: string, @Query() query: Q, @Res() res: Response): Promise<void> {
    return this.sendSquirrel(req, product, key, query, res);
  }

  private async sendSquirrel(req: CallerRequest, product: string, key: string | undefined, query: Q, res: Response): Promise<void> {
    const { query: feed } = parseVelopackFeed('releases.win.json', query);
    const bearer = await this.pathCaller(req, key);
    const text = await this.feeds.squirrel(bearer, req.account!.id, product, feed);
    res.setHeader('Cache-Control', 'private, no-cache');
    sendSerialized(res, 200, 'text/plain; charset=utf-8', text);
  }

  /** The caller: the license key in the path when there is one (Velopack and Squirrel replace a feed URL's query string), else as authenticated. */
  private async pathCaller(req: CallerRequest, key: string | undefined): Promise<Bearer> {
    if (key === undefined) return req.bearer;
    return this.auth.authenticateLicense(req.account, key);
  }

  @ApiAnswer(200, 'A Sparkle appcast (RSS 2.0) of the newest macOS releases', 'application/rss+xml', { type: 'string' })
  @ApiQueryParams({ channel: 'stable (default), rc, beta, alpha or dev', version: 'The version the app runs (for counting)', key: CREDENTIALS, installId: INSTALL_ID })
  @Get('products/:product/feeds/sparkle/appcast.xml')
  async sparkle(@CurrentBearer() bearer: Bearer, @CurrentAccount() account: AccountRef, @Param('product') product: string, @Query() query: Q, @Res({ passthrough: true }) res: Response) {
    const text = await this.feeds.sparkle(bearer, account.id, product, parseFeedQuery(query));
    res.setHeader('Content-Type', 'application/rss+xml; charset=utf-8');
    res.setHeader('Cache-Control', 'private, no-cache');
    return text;
  }
}

function sendYaml(yaml: string | null, res: Response): void {
  if (yaml === null) throw ApiError.notFound('No release is available on this channel and platform');
  res.setHeader('Cache-Control', 'private, no-cache');
  sendSerialized(res, 200, 'text/yaml; charset=utf-8', yaml);
}

/** The Tauri answer, or 204 when there is no newer release. */
function sendTauri(json: string | null, res: Response): void {
  res.setHeader('Cache-Control', 'private, no-cache');
  if (json !== null) sendSerialized(res, 200, JSON_UTF8, json);
  else res.status(204).end();
}
