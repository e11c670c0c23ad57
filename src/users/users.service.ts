import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { Bearer } from '../access/bearer';
import { EventsService } from '../events/events.service';
import { ApiError, uniqueViolation } from '../jsonapi/errors';
import { toResource } from '../jsonapi/serializer';
import { isUuid } from '../jsonapi/ids';
import { paginate } from '../jsonapi/paginate';
import type { ListQuery } from '../jsonapi/query';
import type { PageResult } from '../jsonapi/serializer';
import { CreateUserDto, UpdateUserDto } from './dto';
import { PasswordHasher } from './passwords';
import { User } from './user.entity';
import { UserSerializer } from './user.serializer';

export const USER_SORT = { created: ['user.created'], email: ['user.email'] };

/** Who may see or change users: admins everything in their account, a user only itself. */
export class UserPolicy {
  static canRead(bearer: Bearer, user: User): boolean {
    return bearer.kind === 'admin' || (bearer.kind === 'user' && bearer.userId === user.id);
  }
  static canManage(bearer: Bearer): boolean {
    return bearer.kind === 'admin';
  }
}

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly events: EventsService,
    private readonly passwords: PasswordHasher,
  ) {}

  /** Creates a user (and its event) in `manager`'s transaction, or in a transaction of its own. */
  async create(accountId: string, dto: CreateUserDto, manager: EntityManager = this.users.manager): Promise<User> {
    const passwordDigest = dto.password ? await this.passwords.hash(dto.password) : null;
    if (!manager.queryRunner?.isTransactionActive) return manager.transaction((tx) => this.insert(accountId, dto, passwordDigest, tx));
    return this.insert(accountId, dto, passwordDigest, manager);
  }

  private async insert(accountId: string, dto: CreateUserDto, passwordDigest: string | null, manager: EntityManager): Promise<User> {
    const user = manager.create(User, {
      accountId,
      email: dto.email.toLowerCase(),
      firstName: dto.firstName ?? null,
      lastName: dto.lastName ?? null,
      role: dto.role ?? 'user',
      passwordDigest,
    });
    try {
      await manager.insert(User, user);
    } catch (error) {
      if (uniqueViolation(error) !== null) throw ApiError.attribute('email', 'TAKEN', 'is already taken');
      throw error;
    }
    const stored = await manager.findOneOrFail(User, { where: { id: user.id, accountId } });
    await this.events.record(manager, accountId, 'user.created', toResource(UserSerializer, stored));
    return stored;
  }

  async list(bearer: Bearer, accountId: string, query: ListQuery): Promise<PageResult<User>> {
    const qb = this.users.createQueryBuilder('user').where('user.account_id = :accountId', { accountId });
    if (bearer.kind === 'user') qb.andWhere('user.id = :self', { self: bearer.userId });
    else if (bearer.kind !== 'admin') throw ApiError.forbidden();
    return paginate(qb, query.page, query.sort, USER_SORT);
  }

  async findVisible(bearer: Bearer, accountId: string, id: string): Promise<User> {
    const user = await this.find(accountId, id);
    if (!user || !UserPolicy.canRead(bearer, user)) throw ApiError.notFound('The user was not found');
    return user;
  }

  find(accountId: string, idOrEmail: string): Promise<User | null> {
    const where = isUuid(idOrEmail) ? { id: idOrEmail.toLowerCase(), accountId } : { email: idOrEmail.toLowerCase(), accountId };
    return this.users.findOne({ where });
  }

  /** Changes `user`, which the caller has found with findVisible (the document is checked against it). */
  async update(bearer: Bearer, accountId: string, user: User, dto: UpdateUserDto): Promise<User> {
    if (!UserPolicy.canManage(bearer)) {
      // a user may change its own profile and password, not its role
      if (dto.role !== undefined && dto.role !== user.role) throw ApiError.forbidden('Only an admin can change a role');
    }
    if (dto.password !== undefined && (bearer.kind === 'admin' || bearer.kind === 'user') && bearer.userId === user.id) {
      // a stolen token alone must not be enough to take the account over
      const stored = await this.findWithPassword(accountId, user.email);
      const valid = typeof dto.currentPassword === 'string' && (await this.passwords.verify(dto.currentPassword, stored?.passwordDigest ?? null, 'known'));
      if (!valid) {
        throw new ApiError(403, 'CURRENT_PASSWORD_INVALID', 'Changing your own password needs your current password (currentPassword)', {
          pointer: '/data/attributes/currentPassword',
        });
      }
    }
    const changes: Partial<User> = {};
    if (dto.email !== undefined) changes.email = dto.email.toLowerCase();
    if (dto.firstName !== undefined) changes.firstName = dto.firstName;
    if (dto.lastName !== undefined) changes.lastName = dto.lastName;
    if (dto.role !== undefined) changes.role = dto.role;
    if (dto.password !== undefined) changes.passwordDigest = dto.password ? await this.passwords.hash(dto.password) : null;
    try {
      if (Object.keys(changes).length) await this.users.update({ id: user.id, accountId }, changes);
    } catch (error) {
      if (uniqueViolation(error) !== null) throw ApiError.attribute('email', 'TAKEN', 'is already taken');
      throw error;
    }
    return this.users.findOneOrFail({ where: { id: user.id, accountId } });
  }

  async remove(bearer: Bearer, accountId: string, id: string): Promise<void> {
    const user = await this.findVisible(bearer, accountId, id);
    if (!UserPolicy.canManage(bearer)) throw ApiError.forbidden();
    await this.users.manager.transaction(async (tx) => {
      const gone = await tx.delete(User, { id: user.id, accountId });
      if (gone.affected) await this.events.record(tx, accountId, 'user.deleted', toResource(UserSerializer, user));
    });
  }

  /** The user with its password digest, for HTTP Basic. */
  findWithPassword(accountId: string, email: string): Promise<User | null> {
    return this.users
      .createQueryBuilder('user')
      .addSelect('user.passwordDigest')
      .where('user.account_id = :accountId AND lower(user.email) = :email', { accountId, email: email.toLowerCase() })
      .getOne();
  }
}
