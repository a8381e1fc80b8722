/**
 * Requests this process served — how many, how they ended, how long they took — per municipality,
 * method, route pattern and status, for IT staff's Prometheus (R24). Labels name the route as
 * registered (`/v1/plans/:id`), never the path asked for: no ids, no personal data (S4), and a
 * bounded number of series; a path no route matched is `unmatched`. Requests without a valid token
 * belong to no municipality and are counted apart. On Workers the counts are per isolate (Cloudflare's
 * own analytics see all of them); on Node they are the server's since it started.
 */

/** Upper bounds of the latency buckets, in seconds. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

interface Series {
  method: string;
  route: string;
  status: number;
  count: number;
  seconds: number;
  /** Requests at or below each bucket's bound (cumulative, as Prometheus reads them). */
  buckets: number[];
}

const label = (value: string) => value.replace(/["\\\n]/g, '_');

/** One route's requests for the dashboard: how many, how many refused (4xx) or failed (5xx), and a bound on the slowest twentieth. */
export interface RouteSummary {
  method: string;
  route: string;
  requests: number;
  clientErrors: number;
  serverErrors: number;
  /** The smallest bucket bound that 95 % of the requests finished within, in seconds (null: slower than the largest). */
  p95AtMostSeconds: number | null;
}

export interface HttpMetrics {
  record(tenant: string | undefined, method: string, route: string, status: number, seconds: number): void;
  /** The municipality's routes, busiest first. */
  summary(tenant: string): RouteSummary[];
  /** The caller's municipality's series and the counts of requests without a valid token, as Prometheus text. */
  render(tenant: string): string;
}

export function createHttpMetrics(): HttpMetrics {
  /** Per tenant ('' for requests without one), per `method route status`. */
  const byTenant = new Map<string, Map<string, Series>>();
  return {
    record(tenant, method, route, status, seconds) {
      let series = byTenant.get(tenant ?? '');
      if (!series) byTenant.set(tenant ?? '', (series = new Map()));
      const key = `${method} ${route} ${status}`;
      let one = series.get(key);
      if (!one) series.set(key, (one = { method, route, status, count: 0, seconds: 0, buckets: BUCKETS.map(() => 0) }));
      one.count++;
      one.seconds += seconds;
      for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) one.buckets[i]!++;
    },
    summary(tenant) {
      const byRoute = new Map<string, RouteSummary & { buckets: number[] }>();
      for (const s of byTenant.get(tenant)?.values() ?? []) {
        const key = `${s.method} ${s.route}`;
        let one = byRoute.get(key);
        if (!one) byRoute.set(key, (one = { method: s.method, route: s.route, requests: 0, clientErrors: 0, serverErrors: 0, p95AtMostSeconds: null, buckets: BUCKETS.map(() => 0) }));
        one.requests += s.count;
        if (s.status >= 400 && s.status < 500) one.clientErrors += s.count;
        if (s.status >= 500) one.serverErrors += s.count;
        s.buckets.forEach((n, i) => (one.buckets[i]! += n));
      }
      return [...byRoute.values()]
        .map(({ buckets, ...route }) => {
          const within = buckets.findIndex((n) => n >= 0.95 * route.requests);
          return { ...route, p95AtMostSeconds: within === -1 ? null : BUCKETS[within]! };
        })
        .sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route));
    },
    render(tenant) {
      const lines: string[] = [];
      const mine = [...(byTenant.get(tenant)?.values() ?? [])];
      const labels = (s: Series, extra: Record<string, string> = {}) =>
        Object.entries({ tenant, method: s.method, route: s.route, status: String(s.status), ...extra }).map(([k, v]) => `${k}="${label(v)}"`).join(',');
      lines.push('# HELP enplan_http_requests_total Requests served, by method, route and status', '# TYPE enplan_http_requests_total counter');
      for (const s of mine) lines.push(`enplan_http_requests_total{${labels(s)}} ${s.count}`);
      lines.push('# HELP enplan_http_request_duration_seconds Time from a request arriving to its answer', '# TYPE enplan_http_request_duration_seconds histogram');
      for (const s of mine) {
        BUCKETS.forEach((bound, i) => lines.push(`enplan_http_request_duration_seconds_bucket{${labels(s, { le: String(bound) })}} ${s.buckets[i]}`));
        lines.push(`enplan_http_request_duration_seconds_bucket{${labels(s, { le: '+Inf' })}} ${s.count}`);
        lines.push(`enplan_http_request_duration_seconds_sum{${labels(s)}} ${s.seconds.toFixed(6)}`);
        lines.push(`enplan_http_request_duration_seconds_count{${labels(s)}} ${s.count}`);
      }
      lines.push('# HELP enplan_http_requests_without_tenant_total Requests without a valid token (no municipality), by method, route and status', '# TYPE enplan_http_requests_without_tenant_total counter');
      for (const s of byTenant.get('')?.values() ?? [])
        lines.push(`enplan_http_requests_without_tenant_total{method="${label(s.method)}",route="${label(s.route)}",status="${s.status}"} ${s.count}`);
      return `${lines.join('\n')}\n`;
    },
  };
}
