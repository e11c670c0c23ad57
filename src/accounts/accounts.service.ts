import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError, uniqueViolation } from '../jsonapi/errors';
import type { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { Account } from './account.entity';
import { CreateAccountDto, UpdateAccountDto } from './dto';

@Injectable()
export class AccountsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly users: UsersService,
  ) {}

  /** The account and its first admin, in one transaction. */
  async create(dto: CreateAccountDto): Promise<{ account: Account; admin: User }> {
    try {
      return await this.db.transaction(async (manager) => {
        const account = manager.create(Account, { name: dto.name, slug: dto.slug });
        await manager.insert(Account, account);
        const admin = await this.users.create(account.id, { ...dto.admins[0], role: 'admin' }, manager);
        return { account: await manager.findOneOrFail(Account, { where: { id: account.id } }), admin };
      });
    } catch (error) {
      if (uniqueViolation(error) === 'accounts_slug_unique') throw ApiError.attribute('slug', 'TAKEN', 'is already taken');
      throw error;
    }
  }

  async update(account: Account, dto: Partial<UpdateAccountDto>): Promise<Account> {
    try {
      await this.db.getRepository(Account).update({ id: account.id }, dto);
    } catch (error) {
      if (uniqueViolation(error) === 'accounts_slug_unique') throw ApiError.attribute('slug', 'TAKEN', 'is already taken');
      throw error;
    }
    return this.db.getRepository(Account).findOneOrFail({ where: { id: account.id } });
  }
}
