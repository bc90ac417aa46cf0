/**
 * Role-based access control for the admin API: a fixed set of permissions, seven built-in roles
 * and any custom roles from `identity.roles`. Routes name one permission each; a principal's role
 * either holds it or the request is refused.
 */

/** Every permission an admin route can require, as `<area>:<verb>`. */
export const PERMISSIONS = [
  'keys:read',
  'keys:write',
  'users:read',
  'users:write',
  'roles:read',
  'roles:write',
  'sessions:read',
  'sessions:revoke',
  'secrets:read',
  'secrets:write',
  'audit:read',
  'security:read',
  'alerts:read',
  'alerts:ack',
  'alerts:silence',
  'alerts:write',
  'monitors:read',
  'monitors:write',
  'routes:read',
  'routes:write',
  'config:read',
  'config:write',
  'bans:read',
  'bans:write',
  'usage:read',
  'usage:write',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const BUILTIN_ROLE_NAMES = ['owner', 'admin', 'security-admin', 'operator', 'developer', 'viewer', 'service'] as const;
export type BuiltinRole = (typeof BUILTIN_ROLE_NAMES)[number];

const all = (predicate: (p: Permission) => boolean): Permission[] => PERMISSIONS.filter(predicate);
const reads = (p: Permission): boolean => p.endsWith(':read');

/**
 * The built-in roles. Only `owner` may change roles; `admin` runs everything else. Security
 * administration (keys, users, secrets, bans, audit) is separate from day-to-day operations
 * (monitors, alerts, routes), and `viewer` reads everything except secrets and the audit log.
 */
export const BUILTIN_ROLES: Readonly<Record<BuiltinRole, readonly Permission[]>> = {
  owner: [...PERMISSIONS],
  admin: all((p) => p !== 'roles:write'),
  'security-admin': [
    'keys:read', 'keys:write', 'users:read', 'users:write', 'roles:read', 'sessions:read', 'sessions:revoke',
    'secrets:read', 'secrets:write', 'audit:read', 'security:read', 'bans:read', 'bans:write', 'config:read', 'alerts:read',
  ],
  operator: [
    'monitors:read', 'monitors:write', 'alerts:read', 'alerts:ack', 'alerts:silence', 'alerts:write', 'routes:read',
    'routes:write', 'config:read', 'usage:read', 'bans:read', 'security:read', 'keys:read',
  ],
  developer: ['keys:read', 'keys:write', 'routes:read', 'monitors:read', 'alerts:read', 'usage:read', 'config:read'],
  viewer: all((p) => reads(p) && p !== 'secrets:read' && p !== 'audit:read'),
  service: ['monitors:read', 'usage:read', 'alerts:read'],
};

export interface CustomRoleConfig {
  name: string;
  permissions: readonly Permission[];
  /** A role whose permissions this one adds to. */
  inherits?: string | undefined;
  description?: string | undefined;
}

/** Resolved roles, built-in and custom; the one place that answers "may this role do that?". */
export class RoleTable {
  private readonly roles = new Map<string, ReadonlySet<Permission>>();
  private readonly descriptions = new Map<string, string>();

  constructor(custom: readonly CustomRoleConfig[] = []) {
    for (const name of BUILTIN_ROLE_NAMES) this.roles.set(name, new Set(BUILTIN_ROLES[name]));
    // The schema has checked that every `inherits` names a built-in or an earlier custom role.
    for (const role of custom) {
      const inherited = role.inherits === undefined ? [] : [...(this.roles.get(role.inherits) ?? [])];
      this.roles.set(role.name, new Set([...inherited, ...role.permissions]));
      if (role.description !== undefined) this.descriptions.set(role.name, role.description);
    }
  }

  has(role: string): boolean {
    return this.roles.has(role);
  }

  names(): string[] {
    return [...this.roles.keys()];
  }

  /** Custom roles' configured description; built-in roles are described in docs/identity.md. */
  description(role: string): string | null {
    return this.descriptions.get(role) ?? null;
  }

  builtin(role: string): boolean {
    return (BUILTIN_ROLE_NAMES as readonly string[]).includes(role);
  }

  permissions(role: string): Permission[] {
    return PERMISSIONS.filter((p) => this.roles.get(role)?.has(p) === true);
  }

  /** Unknown roles hold nothing: a user left with a role removed from config is denied, not let in. */
  can(role: string, permission: Permission): boolean {
    return this.roles.get(role)?.has(permission) === true;
  }
}

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}
