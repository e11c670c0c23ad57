import { Module } from '@nestjs/common';

// placeholder: filled in by the v3 work
@Module({})
export class V3Module {}
