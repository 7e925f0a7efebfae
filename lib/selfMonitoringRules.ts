/**
 * The central Prometheus pair's own rules: alerts about the metrics pipeline that must not depend on it.
 *
 * Every platform alert in `alertRules.ts` is evaluated by Thanos Ruler through Thanos Query over Receive and the
 * Store Gateway: when Query or Receive fails, those alerts fail with them, silently. These rules are evaluated by the
 * central Prometheus replicas against their own scrapes (a `PrometheusRule` object its rule selector picks up) and
 * sent straight to the same Alertmanager, so they still fire when Query, Receive or the Ruler is down. Thanos' own
 * guide asks for exactly this (docs/components/rule.md, "Must have: essential Ruler alerts": alert on the Ruler from
 * another scraper in the same cluster).
 *
 * What is here: cluster-01's own workloads and volumes, the Thanos components, the Ruler itself, Alertmanager. What
 * only the global view sees (the edges, the writers, the tenants) stays in `alertRules.ts`; an alert that exists in
 * both sets (crash loops, volumes, targets) is split by cluster, so one condition never notifies twice.
 *
 * The local series carry no `cluster` label (Prometheus adds its external labels only to what leaves it: remote
 * write and alerts), so no expression groups by cluster; the alerts reach Alertmanager with `cluster="cluster-01"`.
 * Both replicas evaluate the same rules; the Prometheus Operator drops the replica label from alerts
 * (`alert_relabel_configs: labeldrop prometheus_replica`), so Alertmanager merges the two copies.
 */
import { AlertRule, RuleGroup, alertGroup } from "./alertRules";

/** Names of the self-monitoring alerts, in rule-file order (the tests require a firing and a silent case for each). */
export const SELF_MONITORING_ALERT_NAMES = [
    "SelfMonitoringWatchdog",
    "ThanosComponentDown",
    "PodCrashLooping",
    "ReceiveHttpErrors",
    "RulerNotEvaluating",
    "RulerEvaluationFailing",
    "RulerDroppingAlerts",
    "VolumeFillingUp",
    "VolumeFull",
    "VolumeUsageUnknown",
] as const;
export type SelfMonitoringAlertName = (typeof SELF_MONITORING_ALERT_NAMES)[number];

/**
 * Jobs of the series the rules read, as the central Prometheus names them: the platform's PodMonitors use the pod's
 * `app.kubernetes.io/name`; kube-prometheus-stack's ServiceMonitors give `kubelet` (the kubelet Service's `k8s-app`
 * label) and `kube-state-metrics` (the subchart's `app.kubernetes.io/name`).
 */
export const SELF_MONITORING_JOBS = { ruler: "thanos-ruler", receive: "thanos-receive", kubelet: "kubelet", kubeStateMetrics: "kube-state-metrics" } as const;

/** Free share of a volume below which a volume that is still filling is worth a warning (kube-prometheus: 15 %). */
export const VOLUME_FREE_WARNING = 0.15;
/** Free share below which a volume is full for practical purposes (a TSDB compaction needs room to write a block). */
export const VOLUME_FREE_CRITICAL = 0.05;

export interface SelfMonitoringRuleArgs {
    /** Jobs of the Thanos components the central Prometheus scrapes (one per component). */
    readonly thanosJobs: string[];
    /** cluster-01's namespaces whose pods and volumes the platform owns. */
    readonly namespaces: string[];
    readonly runbookBaseUrl: string;
}

/** One series per name, `label="name"`: the set a component-down rule subtracts the present ones from. */
export function expectedSeries(label: string, values: string[]): string {
    return values.map((v) => `label_replace(vector(1), "${label}", "${v}", "", "")`).join(" or ");
}

/** Volume rules over the kubelet's volume stats and kube-state-metrics' claims, for claims in `selector`. */
export function volumeRules(selector: string, by: string[]): Record<"VolumeFillingUp" | "VolumeFull" | "VolumeUsageUnknown", AlertRule> {
    const k = `job="${SELF_MONITORING_JOBS.kubelet}", ${selector}`;
    const keys = [...by, "namespace", "persistentvolumeclaim"].join(", ");
    const free = `min by (${keys}) (kubelet_volume_stats_available_bytes{${k}} / kubelet_volume_stats_capacity_bytes{${k}})`;
    return {
        VolumeFillingUp: {
            alert: "VolumeFillingUp",
            expr:
                `${free} < ${VOLUME_FREE_WARNING}` +
                ` and on (${keys}) min by (${keys}) (predict_linear(kubelet_volume_stats_available_bytes{${k}}[6h], 4 * 24 * 3600)) < 0`,
            for: "1h",
            severity: "warning",
            summary: "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has {{ $value | humanizePercentage }} free and fills within 4 days.",
            description: "At the current rate the volume is full within 4 days: Receive stops ingesting, the compactor halts, an agent loses its WAL backlog. Grow the volume (runbook) or cut what fills it.",
        },
        VolumeFull: {
            alert: "VolumeFull",
            expr: `${free} < ${VOLUME_FREE_CRITICAL}`,
            for: "5m",
            severity: "critical",
            summary: "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has only {{ $value | humanizePercentage }} free.",
            description: "A TSDB cannot cut or compact a block without free space: writes fail next. Grow the volume now (runbook).",
        },
        VolumeUsageUnknown: {
            alert: "VolumeUsageUnknown",
            // A claim the platform owns, minus those the kubelet reports: the two alerts above cannot fire for it.
            expr:
                `max by (${keys}) (kube_persistentvolumeclaim_info{job="${SELF_MONITORING_JOBS.kubeStateMetrics}", ${selector}})` +
                ` unless on (${keys}) max by (${keys}) (kubelet_volume_stats_capacity_bytes{${k}})`,
            for: "1h",
            severity: "info",
            summary: "No usage figures for volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }}.",
            description:
                "The kubelet reports volume stats only for volume types that measure themselves (CSI, local PVs); a hostPath PV such as local-path's default has none, and the volume alerts are blind to it. Watch the node's disk instead (runbook).",
        },
    };
}

/** The rules, as data. */
export function selfMonitoringRules(a: SelfMonitoringRuleArgs): AlertRule[] {
    const ns = `namespace=~"${a.namespaces.join("|")}"`;
    const ruler = `job="${SELF_MONITORING_JOBS.ruler}"`;
    const volumes = volumeRules(ns, []);
    const rules: AlertRule[] = [
        {
            alert: "SelfMonitoringWatchdog",
            expr: "vector(1)",
            severity: "none",
            summary: "Always firing: proves the central Prometheus → Alertmanager → heartbeat path works.",
            description: "Its own heartbeat service pages when this alert stops arriving; the Ruler's Watchdog has another one.",
        },
        {
            alert: "ThanosComponentDown",
            // One series per component, minus those with at least one target up: none of its pods answers.
            expr: `(${expectedSeries("job", a.thanosJobs)}) unless on (job) max by (job) (up{job=~"${a.thanosJobs.join("|")}"} == 1)`,
            for: "5m",
            severity: "critical",
            summary: "No {{ $labels.job }} pod answers its metrics scrape.",
            description: "Every replica of the component is down or unreachable. Receive: edges buffer and then lose data. Query: no dashboard and no platform alert (the Ruler queries through it). Ruler: no platform alert.",
        },
        {
            alert: "PodCrashLooping",
            expr: `max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{job="${SELF_MONITORING_JOBS.kubeStateMetrics}", ${ns}, reason="CrashLoopBackOff"}[5m])) >= 1`,
            for: "15m",
            severity: "warning",
            summary: "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is crash-looping.",
            description: "The container keeps exiting and Kubernetes backs off restarting it: a bad flag or configuration, a volume it cannot use, or OOM at start.",
        },
        {
            alert: "ReceiveHttpErrors",
            expr:
                `(sum by (job) (rate(http_requests_total{job="${SELF_MONITORING_JOBS.receive}", handler="receive", code=~"5.."}[5m])))` +
                ` / (sum by (job) (rate(http_requests_total{job="${SELF_MONITORING_JOBS.receive}", handler="receive"}[5m]))) > 0.05`,
            for: "5m",
            severity: "critical",
            summary: "Receive fails {{ $value | humanizePercentage }} of write requests.",
            description: "5xx on the write path: quorum not reached (replicas down), TSDB errors, or out of disk.",
        },
        {
            alert: "RulerNotEvaluating",
            // The mixin's two conditions: rules loaded but no evaluation at all, or a group late by 10 intervals.
            expr:
                `(sum by (pod) (rate(prometheus_rule_evaluations_total{${ruler}}[5m])) <= 0 and sum by (pod) (thanos_rule_loaded_rules{${ruler}}) > 0)` +
                ` or (time() - max by (pod) (prometheus_rule_group_last_evaluation_timestamp_seconds{${ruler}}) > 10 * max by (pod) (prometheus_rule_group_interval_seconds{${ruler}}))`,
            for: "5m",
            severity: "critical",
            summary: "Ruler {{ $labels.pod }} does not evaluate its rules.",
            description: "No platform alert can fire from this replica. With both replicas affected, only these self-monitoring alerts are left.",
        },
        {
            alert: "RulerEvaluationFailing",
            expr:
                `(sum by (pod) (rate(prometheus_rule_evaluation_failures_total{${ruler}}[5m])))` +
                ` / (sum by (pod) (rate(prometheus_rule_evaluations_total{${ruler}}[5m]))) > 0.05`,
            for: "5m",
            severity: "critical",
            summary: "Ruler {{ $labels.pod }} fails {{ $value | humanizePercentage }} of its rule evaluations.",
            description: "The Ruler queries Thanos Query: when Query (or the stores behind it) fails, platform alerts are not evaluated and cannot fire.",
        },
        {
            alert: "RulerDroppingAlerts",
            expr:
                `sum by (pod) (rate(thanos_alert_sender_alerts_dropped_total{${ruler}}[5m])) > 0` +
                ` or sum by (pod) (rate(thanos_alert_queue_alerts_dropped_total{${ruler}}[5m])) > 0`,
            for: "5m",
            severity: "critical",
            summary: "Ruler {{ $labels.pod }} drops alerts instead of sending them.",
            description: "Every Alertmanager refused or timed out (sender), or the Ruler's queue overflowed: platform alerts that fire do not notify anybody.",
        },
        volumes.VolumeFillingUp,
        volumes.VolumeFull,
        volumes.VolumeUsageUnknown,
    ];
    const names = rules.map((r) => r.alert);
    if (names.join() !== SELF_MONITORING_ALERT_NAMES.join()) throw new Error(`self-monitoring alert list out of sync: ${names.join()}`);
    return rules;
}

/** The `spec.groups` of the PrometheusRule the central Prometheus loads. */
export function selfMonitoringRuleGroups(a: SelfMonitoringRuleArgs): RuleGroup[] {
    return [alertGroup("agent-receiver-self-monitoring", selfMonitoringRules(a), a.runbookBaseUrl)];
}
