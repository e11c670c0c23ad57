import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { Notification, QueryResult } from 'pg';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config';
import { CountersService, COUNTERS_CHANNEL, parseCounters } from '../counters/counters.service';
import { CommittedChanges } from '../database/settle.interceptor';
import { CatalogueService } from './catalogue.service';

export const CATALOGUE_CHANNEL = 'shipgate_catalogue';

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;
/** A write waits at most this long for its own changes to reach the catalogue. */
const SETTLE_TIMEOUT_MS = 2000;
const LISTENER_NAME = 'shipgate-catalogue';
/** Sends the sync and counts the listeners of this database (every instance's, this one's included). */
const SETTLE_SQL = `SELECT pg_notify($1, $2),
  (SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $3 AND datname = current_database()) AS listeners`;

/** A write waiting for every instance to acknowledge its sync. */
interface Settling {
  acks: number;
  /** Listeners counted when the sync was sent (Infinity until known). */
  expected: number;
  done(): void;
}

/**
 * One dedicated PostgreSQL connection that LISTENs for the catalogue's change notifications (sent
 * by triggers on commit, from any instance or any SQL session) and for flushed counters, and
 * applies them to the CatalogueService. When the connection is lost the catalogue stops serving
 * (requests use SQL) until it is back and the catalogue has been emptied.
 */
@Injectable()
export class CatalogueListener implements CommittedChanges, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Catalogue');
  private client: Client | null = null;
  private stopped = false;
  private retryMs = RECONNECT_MIN_MS;
  private reconnecting = false;
  private readonly settling = new Map<string, Settling>();
  private sending: Promise<unknown> = Promise.resolve();
  /** Notifications not applied yet, in the order they arrived (commit order); applied one at a time. */
  private readonly pending: Notification[] = [];
  private draining = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly catalogue: CatalogueService,
    private readonly counters: CountersService,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.catalogue.enabled || !this.config.databaseUrl) return;
    await this.connect();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = null;
    this.catalogue.setListening(false);
    for (const token of [...this.settling.keys()]) this.release(token);
    await client?.end().catch(() => undefined);
  }

  /**
   * Resolves once every change committed before the call has been applied to the catalogue of
   * every instance on this database: a NOTIFY sent now is delivered after all notifications of
   * earlier commits, and each instance's listener acknowledges it once it gets there (at most
   * SETTLE_TIMEOUT_MS). Writes call it before answering, so a client that reads right after its
   * write sees it, on whichever instance a load balancer sends the read to.
   */
  async settle(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const token = randomUUID();
    const wait: Settling = { acks: 0, expected: Infinity, done: () => undefined };
    const applied = new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.release(token), SETTLE_TIMEOUT_MS);
      timer.unref();
      wait.done = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.settling.set(token, wait);
    try {
      const [row] = (await this.query(client, SETTLE_SQL, [CATALOGUE_CHANNEL, `sync:${token}`, LISTENER_NAME])).rows as Array<{ listeners: number }>;
      wait.expected = Math.max(1, row.listeners);
      if (wait.acks >= wait.expected) this.release(token);
    } catch {
      this.release(token);
    }
    await applied;
  }

  /** One query at a time on the listening connection (syncs and acks may overlap): in order. */
  private query(client: Client, sql: string, params: unknown[]): Promise<QueryResult> {
    const result = this.sending.then(() => client.query(sql, params));
    this.sending = result.catch(() => undefined);
    return result;
  }

  private release(token: string): void {
    const wait = this.settling.get(token);
    this.settling.delete(token);
    wait?.done();
  }

  /** One instance (this one or another) has applied every change committed before `token`'s sync. */
  private acknowledged(token: string): void {
    const wait = this.settling.get(token);
    if (wait && ++wait.acks >= wait.expected) this.release(token);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: LISTENER_NAME });
    client.on('notification', (message) => this.onNotification(message));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CATALOGUE_CHANNEL}`);
      await client.query(`LISTEN ${COUNTERS_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      this.lost(client, error as Error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = RECONNECT_MIN_MS;
    this.catalogue.setListening(true);
  }

  private lost(client: Client, error?: Error): void {
    if (this.client === client) {
      this.client = null;
      this.catalogue.setListening(false);
      for (const token of [...this.settling.keys()]) this.release(token);
      this.logger.warn(`change notifications interrupted${error ? ` (${error.message})` : ''}: serving from the database until reconnected`);
    } else if (this.client) {
      return; // an older connection ending
    }
    if (this.stopped || this.reconnecting) return;
    this.reconnecting = true;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
    setTimeout(() => {
      this.reconnecting = false;
      if (!this.stopped && !this.client) void this.connect();
    }, delay).unref();
  }

  /**
   * Queues a notification. The drain starts in a microtask, once the client has emitted every
   * notification of the chunk it is parsing: one commit's notifications (an upload's artifact and
   * release) arrive together, and are then read and applied as one run (namedRows), not one by one.
   */
  private onNotification(message: Notification): void {
    this.pending.push(message);
    if (this.draining) return;
    this.draining = true;
    queueMicrotask(() => void this.drain());
  }

  /** Applies what has arrived, in order, until nothing is pending. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length) {
        const rows = this.namedRows();
        try {
          if (rows) await this.catalogue.applyRows(rows);
          else await this.apply(this.pending.shift()!);
        } catch (error) {
          // a change that could not be applied: nothing held may be trusted any more
          this.logger.warn(`applying a change notification failed (${(error as Error)?.message}): clearing the catalogue`);
          this.catalogue.clear();
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * The changed rows named by the run of `R` and `X` notifications at the head of the queue (taken
   * from it), or null when the head is another kind. A run is read in one go: each of them reads
   * its rows as they are now, so reading them together after the last one arrived is what applying
   * them one by one would end with (an upload's commit sends both: its artifact and its release).
   */
  private namedRows(): string[] | null {
    let n = 0;
    while (n < this.pending.length && this.pending[n].channel === CATALOGUE_CHANNEL && /^[RX]:/.test(this.pending[n].payload ?? '')) n++;
    if (n < 2) return null;
    return this.pending.splice(0, n).map((m) => m.payload!);
  }

  /** One notification, after every earlier one has been applied. */
  private async apply(message: Notification): Promise<void> {
    const payload = message.payload ?? '';
    if (message.channel === COUNTERS_CHANNEL) {
      this.counters.applyTotals(parseCounters(payload));
    } else if (payload.startsWith('sync:')) {
      // every earlier notification has been applied here (they arrive in commit order): say so
      const token = payload.slice(5);
      if (this.settling.has(token)) this.acknowledged(token);
      else if (this.client) this.query(this.client, 'SELECT pg_notify($1, $2)', [CATALOGUE_CHANNEL, `ack:${token}`]).catch(() => undefined);
    } else if (payload.startsWith('ack:')) {
      this.acknowledged(payload.slice(4));
    } else {
      await this.catalogue.applyChange(payload);
    }
  }
}
