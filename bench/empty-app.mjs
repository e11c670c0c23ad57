// The baseline of `npm run bench`: an empty NestJS (express) application that answers the hot
// routes' paths with canned answers of the same shape (status, headers, JSON body) that Shipgate
// gave for them, so that the ratio measures what Shipgate's own work costs on top of the framework.
//
//   BENCH_CANNED=<file.json> PORT=<port> node bench/empty-app.mjs
//   file: {"<route name>": {"path": "<express path>", "status": 200, "headers": {...}, "body": <json>}}
import 'reflect-metadata';
import fs from 'node:fs';
import { Controller, Get, Module, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

const canned = JSON.parse(fs.readFileSync(process.env.BENCH_CANNED, 'utf8'));

class EmptyController {}
for (const [name, answer] of Object.entries(canned)) {
  EmptyController.prototype[name] = function (res) {
    res.status(answer.status);
    for (const [k, v] of Object.entries(answer.headers ?? {})) res.setHeader(k, v);
    return answer.body;
  };
  const descriptor = Object.getOwnPropertyDescriptor(EmptyController.prototype, name);
  Get(answer.path)(EmptyController.prototype, name, descriptor);
  Res({ passthrough: true })(EmptyController.prototype, name, 0);
}
Controller()(EmptyController);

class HealthController {
  ready() {
    return { status: 'ok' };
  }
}
Get('health/ready')(HealthController.prototype, 'ready', Object.getOwnPropertyDescriptor(HealthController.prototype, 'ready'));
Controller()(HealthController);

class EmptyModule {}
Module({ controllers: [HealthController, EmptyController] })(EmptyModule);

const app = await NestFactory.create(EmptyModule, { logger: ['error'] });
app.disable('x-powered-by');
app.set('etag', false);
await app.listen(Number(process.env.PORT), '127.0.0.1');
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => app.close().then(() => process.exit(0)));
