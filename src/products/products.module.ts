import { Module } from '@nestjs/common';

// placeholder: filled in by the products work
@Module({})
export class ProductsModule {}
