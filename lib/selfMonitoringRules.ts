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
 * What is here: cluster-01's own workloads and volumes, the Thanos components being down, the write errors of Receive,
 * the query path (Query, its stores, DNS, gRPC) and the Ruler itself: everything whose failure would silence the
 * Ruler's alerts. The rest (Receive's limits and uploads, the compactor, the bucket, the writers, the edges, the
 * tenants) stays in `alertRules.ts`; an alert that exists in both sets (crash loops, volumes, targets) is split by
 * cluster, so one condition never notifies twice.
 *
 * The local series carry no `cluster` label (Prometheus adds its external labels only to what leaves it: remote
 * write and alerts), so no expression groups by cluster; the alerts reach Alertmanager with `cluster="cluster-01"`.
 * Both replicas evaluate the same rules; the Prometheus Operator drops the replica label from alerts
 * (`alert_relabel_configs: labeldrop prometheus_replica`), so Alertmanager merges the two copies.
 */
import { AlertRule, RuleGroup, alertGroup, expectedSeries } from "./alertRules";
import { CertificateExpiry, certificateExpiryRule, certificateRecordingGroup } from "./certificates";
import { sloRuleGroup } from "./slo";
import { KSM_JOB, KUBELET_JOB, kubeWorkloadRules, targetDownRule } from "./kubeRules";

/** Names of the self-monitoring alerts, in rule-file order (the tests require a firing and a silent case for each). */
export const SELF_MONITORING_ALERT_NAMES = [
    "SelfMonitoringWatchdog",
    "ThanosComponentDown",
    "PodCrashLooping",
    "StatefulSetReplicasMismatch",
    "TargetDown",
    "ReceiveHttpErrors",
    "RulerNotEvaluating",
    "RulerEvaluationFailing",
    "RulerDroppingAlerts",
    "RulerEvaluationSlow",
    "QueryErrors",
    "QueryStoreRequestsFailing",
    "QueryOverloaded",
    "ThanosGrpcErrors",
    "ThanosDnsLookupsFailing",
    "VolumeFillingUp",
    "VolumeFull",
    "VolumeUsageUnknown",
    "AlertmanagerNotificationsFailing",
    "AlertmanagerClusterDegraded",
    "CertificateExpiringSoon",
] as const;
export type SelfMonitoringAlertName = (typeof SELF_MONITORING_ALERT_NAMES)[number];

/**
 * Jobs of the series the rules read, as the central Prometheus names them: the platform's PodMonitors use the pod's
 * `app.kubernetes.io/name`; kube-prometheus-stack's ServiceMonitors give `kubelet` (the kubelet Service's `k8s-app`
 * label) and `kube-state-metrics` (the subchart's `app.kubernetes.io/name`).
 */
export const SELF_MONITORING_JOBS = {
    ruler: "thanos-ruler",
    receive: "thanos-receive",
    query: "thanos-query",
    store: "thanos-store",
    kubelet: KUBELET_JOB,
    kubeStateMetrics: KSM_JOB,
} as const;

/** gRPC codes that mean the server failed (the mixin's list: not the client's mistakes, not cancellations). */
const GRPC_SERVER_ERRORS = "Unknown|ResourceExhausted|Internal|Unavailable|DataLoss|DeadlineExceeded";

export interface SelfMonitoringRuleArgs {
    /** Jobs of the Thanos components the central Prometheus scrapes (one per component). */
    readonly thanosJobs: string[];
    /** cluster-01's namespaces whose pods and volumes the platform owns. */
    readonly namespaces: string[];
    /** The chart's Alertmanager: its ServiceMonitor's job (`<fullname>-alertmanager`) and the replicas it declares. */
    readonly alertmanager: { job: string; replicas: number };
    readonly runbookBaseUrl: string;
}

/** The rules, as data. */
export function selfMonitoringRules(a: SelfMonitoringRuleArgs): AlertRule[] {
    const ns = `namespace=~"${a.namespaces.join("|")}"`;
    const ruler = `job="${SELF_MONITORING_JOBS.ruler}"`;
    const kube = kubeWorkloadRules(ns, []);
    const am = `job="${a.alertmanager.job}"`;
    const query = `job="${SELF_MONITORING_JOBS.query}"`;
    const grpcServers = `job=~"${[SELF_MONITORING_JOBS.query, SELF_MONITORING_JOBS.store, SELF_MONITORING_JOBS.ruler].join("|")}"`;
    const dnsFailures: [string, string][] = [
        [SELF_MONITORING_JOBS.query, "thanos_query_endpoints"],
        [SELF_MONITORING_JOBS.ruler, "thanos_rule_query_apis"],
        [SELF_MONITORING_JOBS.ruler, "thanos_rule_alertmanagers"],
    ];
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
        kube.PodCrashLooping,
        kube.StatefulSetReplicasMismatch,
        // Every target of cluster-01 is the platform's or the cluster's own (kubelet, API server, CoreDNS).
        targetDownRule("", ["namespace"]),
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
        {
            alert: "RulerEvaluationSlow",
            expr:
                `sum by (pod, rule_group) (prometheus_rule_group_last_duration_seconds{${ruler}})` +
                ` > sum by (pod, rule_group) (prometheus_rule_group_interval_seconds{${ruler}})`,
            for: "5m",
            severity: "warning",
            summary: "Ruler {{ $labels.pod }} takes longer than its interval to evaluate {{ $labels.rule_group }}.",
            description: "Evaluations are skipped: alerts fire late or not at all. Queries through Query are slow (see QueryLatencySLO) or a rule reads too much.",
        },
        {
            alert: "QueryErrors",
            expr:
                `(sum by (job, handler) (rate(http_requests_total{${query}, handler=~"query|query_range", code=~"5.."}[5m])))` +
                ` / (sum by (job, handler) (rate(http_requests_total{${query}, handler=~"query|query_range"}[5m]))) > 0.05`,
            for: "5m",
            severity: "critical",
            summary: "Thanos Query fails {{ $value | humanizePercentage }} of its {{ $labels.handler }} requests.",
            description: "Dashboards show errors and the Ruler's evaluations fail with them: platform alerts cannot fire.",
        },
        {
            alert: "QueryStoreRequestsFailing",
            expr:
                `(sum by (job) (rate(grpc_client_handled_total{${query}, grpc_code!="OK"}[5m])))` +
                ` / (sum by (job) (rate(grpc_client_started_total{${query}}[5m]))) > 0.05`,
            for: "5m",
            severity: "warning",
            summary: "Thanos Query's calls to its stores fail ({{ $value | humanizePercentage }}).",
            description: "Receive or the Store Gateway does not answer Query: results are partial (Query answers with warnings), so dashboards and alerts miss data.",
        },
        {
            alert: "QueryOverloaded",
            // Fewer than one free slot of the concurrent-query gate, on average over 5 minutes.
            expr:
                `min by (pod) (max_over_time(thanos_query_concurrent_gate_queries_max{${query}}[5m])` +
                ` - avg_over_time(thanos_query_concurrent_gate_queries_in_flight{${query}}[5m])) < 1`,
            for: "15m",
            severity: "warning",
            summary: "Thanos Query {{ $labels.pod }} runs at its concurrent-query limit.",
            description: "New queries queue behind running ones: dashboards and the Ruler's evaluations wait. Look for expensive queries before adding replicas.",
        },
        {
            alert: "ThanosGrpcErrors",
            expr:
                `(sum by (job) (rate(grpc_server_handled_total{${grpcServers}, grpc_code=~"${GRPC_SERVER_ERRORS}"}[5m])))` +
                ` / (sum by (job) (rate(grpc_server_started_total{${grpcServers}}[5m]))) > 0.05`,
            for: "5m",
            severity: "warning",
            summary: "{{ $labels.job }} fails {{ $value | humanizePercentage }} of its gRPC requests.",
            description: "The StoreAPI of the component returns server errors: queries that reach it get partial or no data.",
        },
        {
            alert: "ThanosDnsLookupsFailing",
            // Query resolving its stores (dnssrv+), the Ruler resolving Query and Alertmanager (dns+).
            expr: dnsFailures
                .map(([job, prefix]) => `(sum by (job) (rate(${prefix}_dns_failures_total{job="${job}"}[5m])) / sum by (job) (rate(${prefix}_dns_lookups_total{job="${job}"}[5m]))) > 0.01`)
                .join(" or "),
            for: "15m",
            severity: "warning",
            summary: "{{ $labels.job }} fails {{ $value | humanizePercentage }} of its DNS lookups.",
            description: "Service discovery goes stale: Query loses stores (Receive replicas, Store Gateways), the Ruler loses Query or Alertmanager.",
        },
        kube.VolumeFillingUp,
        kube.VolumeFull,
        kube.VolumeUsageUnknown,
        {
            alert: "AlertmanagerNotificationsFailing",
            expr:
                `(sum by (integration) (rate(alertmanager_notifications_failed_total{${am}}[5m])))` +
                ` / (sum by (integration) (rate(alertmanager_notifications_total{${am}}[5m]))) > 0.01`,
            for: "5m",
            severity: "critical",
            summary: "Alertmanager fails {{ $value | humanizePercentage }} of its {{ $labels.integration }} notifications.",
            description: "Alerts fire but do not reach the receivers: this one only arrives through a receiver that still works. The heartbeats page when the heartbeat path itself fails.",
        },
        {
            alert: "AlertmanagerClusterDegraded",
            // Each replica should see all the declared replicas as gossip members.
            expr: `min by (pod) (max_over_time(alertmanager_cluster_members{${am}}[5m])) < ${a.alertmanager.replicas}`,
            for: "15m",
            severity: "warning",
            summary: `Alertmanager {{ $labels.pod }} sees {{ $value }} of ${a.alertmanager.replicas} cluster members.`,
            description: "Replicas that do not gossip do not share silences and notification state: the same alert is sent once per replica, and a silence set on one does not hold on the other.",
        },
        // cluster-01's certificates, from the recording rules below.
        certificateExpiryRule("", []),
    ];
    const names = rules.map((r) => r.alert);
    if (names.join() !== SELF_MONITORING_ALERT_NAMES.join()) throw new Error(`self-monitoring alert list out of sync: ${names.join()}`);
    return rules;
}

/**
 * The `spec.groups` of the PrometheusRule the central Prometheus loads: the alerts, one constant series per
 * certificate cluster-01 mounts (`expiries`, as issued by the `pulumi up` that writes them), and the service levels
 * (`slo.ts`).
 */
export function selfMonitoringRuleGroups(a: SelfMonitoringRuleArgs, expiries: CertificateExpiry[]): RuleGroup[] {
    return [alertGroup("agent-receiver-self-monitoring", selfMonitoringRules(a), a.runbookBaseUrl), certificateRecordingGroup(expiries), sloRuleGroup(a.runbookBaseUrl)];
}
