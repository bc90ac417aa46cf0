import { randomBytes, randomUUID } from 'node:crypto';
import { VigilError } from '../core/errors.js';
import type { User } from '../store/records.js';
import type { UserRepository } from '../store/store.js';
import { checkPasswordPolicy, hashPassword } from './passwords.js';
import type { PasswordPolicy } from './passwords.js';
import type { RoleTable } from './rbac.js';

/** Lower-case so that `Alice` and `alice` cannot be two accounts. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9_.@-]{0,63}$/;
export const BOOTSTRAP_OWNER = 'owner';

/** A user as shown to administrators: everything but the password hash. */
export type PublicUser = Omit<User, 'passwordHash'>;

export function publicUser({ passwordHash: _hash, ...user }: User): PublicUser {
  return user;
}

export function checkUsername(username: string): void {
  if (!USERNAME_PATTERN.test(username)) {
    throw new VigilError('VGL_CONSOLE_BAD_REQUEST', 'a username is 1-64 characters of a-z, 0-9, _ . @ -, starting with a letter or digit');
  }
}

/**
 * A random password of 24 base62-ish characters (about 143 bits), for the bootstrap owner and
 * administrator resets; the user must replace it at the next login.
 */
export function oneTimePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Users: creation with a checked password, role changes, disabling, resets. Sessions end whenever privileges change. */
export class UserService {
  constructor(
    private readonly users: UserRepository,
    /** Sessions and refresh tokens: every credential that must end when a user's privileges change. */
    private readonly credentials: readonly { revokeForUser(userId: string, at: number): Promise<number> }[],
    private readonly roles: RoleTable,
    private readonly policy: PasswordPolicy,
  ) {}

  async create(input: { username: string; role: string; password: string; mustChangePassword?: boolean; now: number }): Promise<User> {
    checkUsername(input.username);
    this.checkRole(input.role);
    await checkPasswordPolicy(input.password, this.policy, [input.username]);
    return this.insert(input);
  }

  private async insert(input: { username: string; role: string; password: string; mustChangePassword?: boolean; now: number }): Promise<User> {
    const user: User = {
      id: randomUUID(),
      username: input.username,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      disabled: false,
      mustChangePassword: input.mustChangePassword ?? false,
      createdAt: input.now,
      updatedAt: input.now,
    };
    await this.users.insert(user);
    return user;
  }

  /**
   * On first start (no users at all) creates the `owner` user with a one-time password, returned
   * once so the caller can show it; undefined when users already exist.
   */
  async bootstrapOwner(now: number): Promise<{ user: User; password: string } | undefined> {
    if ((await this.users.count()) > 0) return undefined;
    const password = oneTimePassword();
    // A generated password needs no strength check (and skips loading the dictionaries at start).
    const user = await this.insert({ username: BOOTSTRAP_OWNER, role: 'owner', password, mustChangePassword: true, now });
    return { user, password };
  }

  async get(username: string): Promise<User> {
    const user = await this.users.byUsername(username);
    if (!user) throw new VigilError('VGL_USER_NOT_FOUND', `no user named '${username}'`);
    return user;
  }

  list(): Promise<User[]> {
    return this.users.list();
  }

  async setRole(username: string, role: string, now: number): Promise<User> {
    this.checkRole(role);
    return this.change(username, now, (user) => ({ ...user, role }));
  }

  async setDisabled(username: string, disabled: boolean, now: number): Promise<User> {
    return this.change(username, now, (user) => ({ ...user, disabled }));
  }

  /** An administrator's reset: a fresh one-time password the user must replace at the next login. */
  async resetPassword(username: string, now: number): Promise<{ user: User; password: string }> {
    const password = oneTimePassword();
    const passwordHash = await hashPassword(password);
    const user = await this.change(username, now, (u) => ({ ...u, passwordHash, mustChangePassword: true }));
    return { user, password };
  }

  /** The user's own change; the caller has verified the current password. */
  async changePassword(username: string, password: string, now: number): Promise<User> {
    await checkPasswordPolicy(password, this.policy, [username]);
    const passwordHash = await hashPassword(password);
    return this.change(username, now, (u) => ({ ...u, passwordHash, mustChangePassword: false }));
  }

  private checkRole(role: string): void {
    if (!this.roles.has(role)) throw new VigilError('VGL_ROLE_UNKNOWN', `no role named '${role}'; known roles: ${this.roles.names().join(', ')}`);
  }

  /** Applies a change and ends every session of the user, so new privileges (or none) apply at once. */
  private async change(username: string, now: number, apply: (user: User) => User): Promise<User> {
    const next = { ...apply(await this.get(username)), updatedAt: now };
    if (!(await this.users.update(next))) throw new VigilError('VGL_USER_NOT_FOUND', `no user named '${username}'`);
    for (const credential of this.credentials) await credential.revokeForUser(next.id, now);
    return next;
  }
}
