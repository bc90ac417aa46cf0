import type { RouteNodeConfig, VigilConfig } from '../config/schema.js';
import type { Matcher } from './matchers.js';
import { matchesAll, parseMatcher } from './matchers.js';

/** A route with every inherited setting filled in. */
export interface Route {
  /** Position in the tree, like `0.2.1`: stable for one configuration, part of each group key. */
  id: string;
  matchers: Matcher[];
  receiver: string;
  continue: boolean;
  groupBy: string[];
  groupWait: number;
  groupInterval: number;
  repeatInterval: number;
  escalation: { after: number; receiver: string }[];
  routes: Route[];
}

type Inherited = Omit<Route, 'id' | 'matchers' | 'continue' | 'routes'>;

function compile(node: RouteNodeConfig, parent: Inherited, id: string): Route {
  const own: Inherited = {
    receiver: node.receiver ?? parent.receiver,
    groupBy: node.groupBy ?? parent.groupBy,
    groupWait: node.groupWait ?? parent.groupWait,
    groupInterval: node.groupInterval ?? parent.groupInterval,
    repeatInterval: node.repeatInterval ?? parent.repeatInterval,
    escalation: node.escalation ?? parent.escalation,
  };
  return {
    id,
    ...own,
    matchers: node.matchers.map(parseMatcher),
    continue: node.continue,
    routes: (node.routes ?? []).map((child, i) => compile(child, own, `${id}.${i}`)),
  };
}

/**
 * The routing tree of a configuration. Without `alerting.route`, each rule's own `receivers` are
 * notified at once: one child route per rule and receiver, one group per alert, no wait.
 */
export function routeTree(alerting: VigilConfig['alerting']): Route | undefined {
  if (alerting.route) {
    const { receiver, groupBy, groupWait, groupInterval, repeatInterval } = alerting.route;
    return compile(alerting.route, { receiver, groupBy, groupWait, groupInterval, repeatInterval, escalation: alerting.route.escalation ?? [] }, '0');
  }
  const children: RouteNodeConfig[] = [];
  for (const rule of alerting.rules as { name: string; receivers?: string[] }[]) {
    for (const receiver of rule.receivers ?? []) children.push({ matchers: [`rule=${JSON.stringify(rule.name)}`], receiver, continue: true });
  }
  if (children.length === 0) return undefined;
  const defaults: Inherited = { receiver: '', groupBy: ['...'], groupWait: 0, groupInterval: 0, repeatInterval: 4 * 3_600_000, escalation: [] };
  return { ...compile({ matchers: [], continue: false, routes: children }, defaults, '0'), receiver: '' };
}

/**
 * The routes that take an alert with these labels: the deepest matching route on each path, siblings
 * tried in order until one matches without `continue`. The root takes what no child takes.
 * A route without a receiver (the implicit root) takes nothing.
 */
export function matchRoutes(root: Route, labels: Readonly<Record<string, string>>): Route[] {
  const visit = (route: Route): Route[] => {
    if (!matchesAll(route.matchers, labels)) return [];
    const taken: Route[] = [];
    for (const child of route.routes) {
      const found = visit(child);
      taken.push(...found);
      if (found.length > 0 && !child.continue) break;
    }
    if (taken.length > 0) return taken;
    return route.receiver === '' ? [] : [route];
  };
  return visit(root);
}

/** The labels a route groups an alert by; `...` means every label. */
export function groupLabels(route: Route, labels: Readonly<Record<string, string>>): Record<string, string> {
  if (route.groupBy.includes('...')) return { ...labels };
  const out: Record<string, string> = {};
  for (const name of route.groupBy) if (labels[name] !== undefined) out[name] = labels[name];
  return out;
}

export function groupKey(route: Route, labels: Record<string, string>): string {
  const sorted = Object.keys(labels).sort().map((k) => [k, labels[k]]);
  return `${route.id}:${route.receiver}:${JSON.stringify(sorted)}`;
}
