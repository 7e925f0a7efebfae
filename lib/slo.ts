/**
 * Service levels, as recording rules and multi-window, multi-burn-rate alerts (Google SRE workbook, "Alerting on
 * SLOs", table 5-8): a page when 2 % of a 30-day error budget burns in an hour or 5 % in six hours, a ticket when 10 %
 * burns in a day or the whole budget is on course to go in 30 days; each long window paired with a short one (a
 * twelfth of it) so the alert resets soon after the burn stops. Evaluated by the central Prometheus pair (its
 * PrometheusRule), like the other self-monitoring rules: the objectives are about Receive and Query, so they must not
 * be evaluated through them.
 *
 * - Remote-write availability, 99.95 %: the share of Receive's write requests that do not fail with a 5xx (4xx are the
 *   writer's: limits, out-of-order samples; they have their own alerts). A Receive that answers nothing at all sends no
 *   errors either: ThanosComponentDown covers that.
 * - Query latency, 99 % of Query Frontend requests within 1 s, for "P99 1.2 s". Thanos' request histogram has buckets
 *   at 0.6, 1 and 3 s (pkg/extprom/http/metrics.go): a ratio SLI must count requests under a bucket boundary. 3 s would
 *   count a 2.9 s request as good and hide a P99 of 2.9 s; 1 s counts a 1.1 s request as slow, so the alert is
 *   stricter than 1.2 s (it may fire with a true P99 between 1 and 1.2 s) but never misses a P99 above 1.2 s.
 * - The Query Frontend's results-cache hit ratio, 70 %: a recording rule for the dashboard; the alert is the Ruler's
 *   CacheHitRatioLow (threshold `central.monitoring.thresholds.cacheHitRatioMin`, default 0.7). A burn rate does not
 *   apply to a 30 % budget: 14.4 times it is more than everything.
 */
import { AlertRule, RuleGroup, alertGroup } from "./alertRules";

export const SLO_ALERT_NAMES = ["RemoteWriteBudgetBurnFast", "RemoteWriteBudgetBurnSlow", "QueryLatencyBudgetBurnFast", "QueryLatencyBudgetBurnSlow"] as const;
export type SloAlertName = (typeof SLO_ALERT_NAMES)[number];

/** Remote-write availability objective. */
export const REMOTE_WRITE_AVAILABILITY = 0.9995;
/** Share of Query Frontend requests that must finish within the latency bucket. */
export const QUERY_LATENCY_OBJECTIVE = 0.99;
/** The bucket the latency SLI counts under (see above: the one at or below the 1.2 s target). */
export const QUERY_LATENCY_BUCKET = "1";
/** The results-cache hit ratio objective (the default of `cacheHitRatioMin`). */
export const CACHE_HIT_RATIO_OBJECTIVE = 0.7;

/** Windows of the SRE workbook's table, with the burn rate each pair alerts on. */
const WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;
type Window = (typeof WINDOWS)[number];
const FAST: [Window, Window, number][] = [
    ["1h", "5m", 14.4],
    ["6h", "30m", 6],
];
const SLOW: [Window, Window, number][] = [
    ["1d", "2h", 3],
    ["3d", "6h", 1],
];

interface Sli {
    /** Recording rule prefix: `slo:<name>:ratio_rate<window>` is the share of bad events over the window. */
    readonly name: string;
    readonly badRatio: (w: Window) => string;
    readonly budget: number;
}

const RECEIVE = 'job="thanos-receive", handler="receive"';
const FRONTEND = 'job="thanos-query-frontend", handler="query-frontend"';

const SLIS: Record<"remoteWrite" | "queryLatency", Sli> = {
    remoteWrite: {
        name: "remote_write_errors",
        badRatio: (w) => `sum(rate(http_requests_total{${RECEIVE}, code=~"5.."}[${w}])) / sum(rate(http_requests_total{${RECEIVE}}[${w}]))`,
        budget: 1 - REMOTE_WRITE_AVAILABILITY,
    },
    queryLatency: {
        name: "query_slow",
        badRatio: (w) =>
            `1 - sum(rate(http_request_duration_seconds_bucket{${FRONTEND}, le="${QUERY_LATENCY_BUCKET}"}[${w}])) / sum(rate(http_request_duration_seconds_count{${FRONTEND}}[${w}]))`,
        budget: 1 - QUERY_LATENCY_OBJECTIVE,
    },
};

export function sloRecord(sli: Sli, w: Window): string {
    return `slo:${sli.name}:ratio_rate${w}`;
}

/** The cache hit ratio the dashboard shows (same series as CacheHitRatioLow reads). */
export const CACHE_HIT_RATIO_RECORD = "slo:query_cache_hits:ratio_rate1h";

/** Every series these rules record (what rules and dashboards may read besides the scraped metrics). */
export function sloRecordedNames(): string[] {
    return [...Object.values(SLIS).flatMap((sli) => WINDOWS.map((w) => sloRecord(sli, w))), CACHE_HIT_RATIO_RECORD];
}

function burn(sli: Sli, pairs: [Window, Window, number][]): string {
    // Thresholds as numbers (14.4 × 0.0005 = 0.0072): promtool and the dashboards read the same figure.
    const t = (rate: number) => Number((rate * sli.budget).toPrecision(6));
    return pairs.map(([long, short, rate]) => `(${sloRecord(sli, long)} > ${t(rate)} and ${sloRecord(sli, short)} > ${t(rate)})`).join(" or ");
}

function sloAlerts(): AlertRule[] {
    const rw = SLIS.remoteWrite;
    const q = SLIS.queryLatency;
    const rules: AlertRule[] = [
        {
            alert: "RemoteWriteBudgetBurnFast",
            expr: burn(rw, FAST),
            for: "2m",
            severity: "critical",
            summary: "Remote write is failing fast enough to spend its error budget (99.95 %) within days.",
            description: "Receive answers 5xx to a share of writes 6 to 14.4 times the budget rate: agents retry and fall behind, and past sampleAgeLimit they drop samples.",
        },
        {
            alert: "RemoteWriteBudgetBurnSlow",
            expr: burn(rw, SLOW),
            for: "15m",
            severity: "warning",
            summary: "Remote write spends its error budget (99.95 %) faster than 30 days allow.",
            description: "A steady trickle of 5xx from Receive: not an outage yet, but the month's budget will not last.",
        },
        {
            alert: "QueryLatencyBudgetBurnFast",
            expr: burn(q, FAST),
            for: "2m",
            severity: "critical",
            summary: "Queries are slower than 1 s often enough to spend the latency budget (99 %) within days.",
            description: "Dashboards are slow for everybody: check the cache hit ratio, Store Gateway and bucket latency, and expensive queries.",
        },
        {
            alert: "QueryLatencyBudgetBurnSlow",
            expr: burn(q, SLOW),
            for: "15m",
            severity: "warning",
            summary: "Queries spend the latency budget (99 % within 1 s) faster than 30 days allow.",
            description: "A steady share of slow queries: not an incident yet, but the objective will not hold this month.",
        },
    ];
    if (rules.map((r) => r.alert).join() !== SLO_ALERT_NAMES.join()) throw new Error("SLO alert list out of sync");
    return rules;
}

/** The recording rules and the burn-rate alerts, as one group (the alerts read the recordings of the same group). */
export function sloRuleGroup(runbookBaseUrl: string): RuleGroup {
    const records = [
        ...Object.values(SLIS).flatMap((sli) => WINDOWS.map((w) => ({ record: sloRecord(sli, w), expr: sli.badRatio(w) }))),
        {
            record: CACHE_HIT_RATIO_RECORD,
            expr: 'sum(rate(memcached_commands_total{job="memcached", command="get", status="hit"}[1h])) / sum(rate(memcached_commands_total{job="memcached", command="get"}[1h]))',
        },
    ];
    const alerts = alertGroup("agent-receiver-slo", sloAlerts(), runbookBaseUrl);
    return { name: "agent-receiver-slo", rules: [...records, ...alerts.rules] };
}
