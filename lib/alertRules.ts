/**
 * The platform's alert rules, evaluated by Thanos Ruler on the global view (every cluster's series through Thanos
 * Query). Edge agents evaluate nothing. The rule file the ruler loads is `renderAlertRules(...)`; the tests run the
 * same text through the real `promtool check rules` and `promtool test rules`.
 *
 * These alerts depend on Query and Receive. What must still fire when those fail (the query path, the Ruler itself,
 * the components being down) is evaluated by the central Prometheus pair instead: `selfMonitoringRules.ts`.
 *
 * Label conventions the expressions rely on:
 * - `cluster`: external label of every Prometheus (agents and the central pair).
 * - `tenant_id`: the writer id Receive takes from the client certificate (`cluster-02-a`, `cluster-03`).
 * - `tenant`: the tenant label of Receive's own per-tenant TSDB and write metrics.
 * - `job`: the central PodMonitors use the pod's `app.kubernetes.io/name` (`thanos-receive`, `memcached`, ...); the
 *   agents' self-scrape job is `prometheus-agent`.
 * - `prometheus_replica` / `replica` differ between HA copies: every expression aggregates them away, so two
 *   replicas never raise two alerts.
 */
import { stringify } from "yaml";
import { certificateExpiryRule } from "./certificates";
import { kubeWorkloadRules, targetDownRule } from "./kubeRules";

export type Severity = "critical" | "warning" | "info" | "none";

export interface AlertRule {
    readonly alert: string;
    readonly expr: string;
    readonly for?: string;
    readonly severity: Severity;
    readonly summary: string;
    readonly description: string;
}

export interface AlertRuleArgs {
    /** Every writer id the central config lists; a writer that goes quiet raises WriterStoppedSending. */
    readonly writers: string[];
    /**
     * Head-series limit per writer as Thanos counts it (every replica's copy, like the sum of prometheus_tsdb_head_series
     * over the receivers the rule divides); 0 = unlimited: no "near the limit" alert for it.
     */
    readonly headSeriesLimits: Record<string, number>;
    readonly thresholds: {
        readonly queryP99Seconds: number;
        readonly cacheHitRatioMin: number;
        readonly remoteWriteLagSeconds: number;
        readonly headSeriesLimitRatio: number;
        readonly writerSilentFor: string;
        readonly logDiskFreeRatioMin: number;
    };
    /** Namespaces whose containers the platform runs (OOM alerts). */
    readonly platformNamespaces: string[];
    /**
     * The central cluster: its workloads, volumes and targets are watched by its own Prometheus pair
     * (`selfMonitoringRules.ts`), so the Kubernetes alerts here leave it out and one condition notifies once.
     */
    readonly centralCluster: string;
    /** Prefix of runbook links; the rest is the runbook's path in this repository. */
    readonly runbookBaseUrl: string;
}

/** Repository path of an alert's runbook: the contract between the rules and `docs/ko/runbooks/`. */
export function runbookPath(alert: string): string {
    return `docs/ko/runbooks/${alert.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()}.md`;
}

/**
 * How long a receiver may go without shipping a block before it is "not uploading": blocks are cut every 2h, the first
 * about 3h after start. ReceiveNotUploading's window, and what `npm run verify` allows since the last upload.
 */
export const RECEIVE_UPLOAD_WINDOW = "3h";

/** Names of the alerts, in rule-file order (the tests require a firing and a silent case for each). */
export const ALERT_NAMES = [
    "Watchdog",
    "WriterStoppedSending",
    "AgentRemoteWriteFailing",
    "AgentRemoteWriteBehind",
    "AgentSamplesDropped",
    "ReceiveRefusingWrites",
    "ReceiveReplicationFailing",
    "ReceiveHashringReloadFailing",
    "ReceiveTenantNearHeadSeriesLimit",
    "ReceiveTenantLimited",
    "CompactorHalted",
    "BucketOperationsFailing",
    "ReceiveUploadsFailing",
    "ReceiveNotUploading",
    "ReceiveLatencyHigh",
    "ReceiveLimitsReloadFailing",
    "ReceiveMetaMonitoringFailing",
    "CompactionsFailing",
    "CompactorNotRunning",
    "BucketOperationsSlow",
    "QueryLatencySLO",
    "CacheHitRatioLow",
    "PlatformContainerOOMKilled",
    "LogShippingFailing",
    "OpenSearchClusterRed",
    "OpenSearchDiskLow",
    "OpenSearchHealthUnknown",
    "PodCrashLooping",
    "StatefulSetReplicasMismatch",
    "TargetDown",
    "VolumeFillingUp",
    "VolumeFull",
    "VolumeUsageUnknown",
    "AgentConfigReloadFailing",
    "CertificateExpiringSoon",
] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

/**
 * One series per name, `label="name"`: the set an absence rule subtracts the present ones from (writers that stopped
 * sending, Thanos components with no pod up).
 */
export function expectedSeries(label: string, values: string[]): string {
    return values.map((v) => `label_replace(vector(1), "${label}", "${v}", "", "")`).join(" or ");
}

function ratio(num: string, den: string): string {
    return `(${num}) / (${den})`;
}

/** The rules, as data. */
export function alertRules(a: AlertRuleArgs): AlertRule[] {
    const t = a.thresholds;
    const expected = expectedSeries("tenant_id", a.writers);
    const limited = a.writers
        .filter((w) => (a.headSeriesLimits[w] ?? 0) > 0)
        .map((w) => `sum by (tenant) (prometheus_tsdb_head_series{job="thanos-receive", tenant="${w}"}) / ${a.headSeriesLimits[w]}`);
    const platformNs = a.platformNamespaces.join("|");
    const edges = `cluster!="${a.centralCluster}"`;
    const kube = kubeWorkloadRules(`${edges}, namespace=~"${platformNs}"`, ["cluster", "tenant_id"]);

    const rules: AlertRule[] = [
        {
            alert: "Watchdog",
            expr: "vector(1)",
            severity: "none",
            summary: "Always firing: proves the alerting path (Ruler → Alertmanager → heartbeat) works.",
            description: "The heartbeat service pages when this alert stops arriving.",
        },
        {
            alert: "WriterStoppedSending",
            // One series per expected writer, minus those with any sample in the window.
            expr: `(${expected}) unless on (tenant_id) count by (tenant_id) (count_over_time(up[${t.writerSilentFor}]))`,
            for: "2m",
            severity: "critical",
            summary: "Writer {{ $labels.tenant_id }} has sent nothing for " + t.writerSilentFor + ".",
            description: "No series from {{ $labels.tenant_id }} reached Receive: its agent is down, cannot reach the endpoint, or its certificate is refused.",
        },
        {
            alert: "AgentRemoteWriteFailing",
            expr: `sum by (cluster, tenant_id) (rate(prometheus_remote_storage_samples_failed_total[5m])) > 0`,
            for: "10m",
            severity: "critical",
            summary: "Agent of {{ $labels.tenant_id }} fails to send samples ({{ $value | humanize }}/s).",
            description: "Remote write returns non-retryable errors (4xx such as 400/409/413): those samples are lost.",
        },
        {
            alert: "AgentRemoteWriteBehind",
            // Per queue: the newest sample enqueued minus the newest sent (both per remote_name/url, Prometheus >= 3.7;
            // the global prometheus_remote_storage_highest_timestamp_in_seconds is deprecated at the pinned v3.14).
            expr:
                `max by (cluster, tenant_id) (prometheus_remote_storage_queue_highest_timestamp_seconds` +
                ` - prometheus_remote_storage_queue_highest_sent_timestamp_seconds) > ${t.remoteWriteLagSeconds}`,
            for: "10m",
            severity: "warning",
            summary: "Agent of {{ $labels.tenant_id }} is {{ $value | humanizeDuration }} behind.",
            description: "The WAL backlog grows: the link to Receive is slow, Receive answers slowly or 429s, or max_shards is too low.",
        },
        {
            alert: "AgentSamplesDropped",
            expr: `sum by (cluster, tenant_id) (rate(prometheus_remote_storage_samples_dropped_total[5m])) > 0`,
            for: "5m",
            severity: "warning",
            summary: "Agent of {{ $labels.tenant_id }} drops samples before sending ({{ $value | humanize }}/s).",
            description: "Samples older than sample_age_limit are dropped after a long outage, or a relabel rule drops them.",
        },
        {
            alert: "ReceiveRefusingWrites",
            expr: `sum by (cluster, tenant, code) (rate(thanos_receive_write_samples_count{job="thanos-receive", code=~"4.."}[5m])) > 0`,
            for: "10m",
            severity: "critical",
            summary: "Receive refuses writes of {{ $labels.tenant }} with HTTP {{ $labels.code }}.",
            description: "413 (request over the limits) is never retried: data is lost. 409 means samples out of order or too old. 429 is retried but the backlog grows.",
        },
        {
            alert: "ReceiveReplicationFailing",
            expr:
                `${ratio(
                    `sum by (cluster) (rate(thanos_receive_replications_total{job="thanos-receive", result="error"}[5m]))`,
                    `sum by (cluster) (rate(thanos_receive_replications_total{job="thanos-receive"}[5m]))`,
                )}` +
                ` > ${ratio(
                    `max by (cluster) (floor((thanos_receive_replication_factor{job="thanos-receive"} + 1) / 2))`,
                    `max by (cluster) (thanos_receive_hashring_nodes{job="thanos-receive"})`,
                )}`,
            for: "5m",
            severity: "warning",
            summary: "Receive fails to replicate {{ $value | humanizePercentage }} of requests.",
            description: "More replication errors than the quorum tolerates: a replica is down or the hashring lists an endpoint that does not answer.",
        },
        {
            alert: "ReceiveHashringReloadFailing",
            // The last reload failed, or refreshing the watched file keeps failing (the mixin's two alerts).
            expr:
                `min by (cluster, pod) (thanos_receive_config_last_reload_successful{job="thanos-receive"}) == 0` +
                ` or sum by (cluster, pod) (increase(thanos_receive_hashrings_file_errors_total{job="thanos-receive"}[5m])) > 0`,
            for: "5m",
            severity: "warning",
            summary: "{{ $labels.pod }} cannot load the hashring file.",
            description: "The replica keeps its previous ring; after a scaling change the replicas disagree on the ring.",
        },
        {
            alert: "ReceiveTenantNearHeadSeriesLimit",
            expr: limited.length > 0 ? `(${limited.join(" or ")}) > ${t.headSeriesLimitRatio}` : "vector(0) > 1",
            for: "15m",
            severity: "warning",
            summary: "Tenant {{ $labels.tenant }} uses {{ $value | humanizePercentage }} of its head-series limit.",
            description: "Past the limit Receive answers 429 and the agent's backlog grows; raise the limit or cut cardinality.",
        },
        {
            alert: "ReceiveTenantLimited",
            expr: `sum by (cluster, tenant) (increase(thanos_receive_head_series_limited_requests_total{job="thanos-receive"}[5m])) > 0`,
            severity: "critical",
            summary: "Receive refuses writes of {{ $labels.tenant }}: head-series limit reached.",
            description: "Requests are answered 429; the agent retries and falls behind until series drop or the limit rises.",
        },
        {
            alert: "CompactorHalted",
            expr: `max by (cluster) (thanos_compact_halted{job="thanos-compact"}) == 1`,
            for: "5m",
            severity: "critical",
            summary: "The compactor has halted.",
            description: "No compaction, downsampling or retention until it is fixed: the bucket grows and long queries slow down. Usually overlapping blocks.",
        },
        {
            alert: "BucketOperationsFailing",
            expr: `${ratio(
                `sum by (cluster, job) (rate(thanos_objstore_bucket_operation_failures_total[5m]))`,
                `sum by (cluster, job) (rate(thanos_objstore_bucket_operations_total[5m]))`,
            )} > 0.05`,
            for: "15m",
            severity: "critical",
            summary: "{{ $labels.job }} fails {{ $value | humanizePercentage }} of bucket operations.",
            description: "MinIO is unreachable, out of space, or the credentials or policy changed.",
        },
        {
            alert: "ReceiveUploadsFailing",
            expr: `sum by (cluster, pod) (increase(thanos_shipper_upload_failures_total{job="thanos-receive"}[30m])) > 0`,
            for: "30m",
            severity: "critical",
            summary: "{{ $labels.pod }} cannot upload blocks to the bucket.",
            description: "Blocks stay on the local disk only: past local retention they are lost, and the disk fills.",
        },
        {
            alert: "ReceiveNotUploading",
            // Uploads stopped, not failed: a receiver that is up but shipped no block in 3h (blocks are cut every 2h;
            // the first one about 3h after start). ReceiveUploadsFailing only sees attempts that fail.
            expr:
                `sum by (cluster, pod) (increase(thanos_shipper_uploads_total{job="thanos-receive"}[${RECEIVE_UPLOAD_WINDOW}])) == 0` +
                ` and on (cluster, pod) max by (cluster, pod) (up{job="thanos-receive"}) == 1`,
            for: "3h",
            severity: "critical",
            summary: "{{ $labels.pod }} has uploaded no block for 3 hours.",
            description: "Its blocks stay on the local disk only: past localRetention they are deleted without ever reaching the bucket, and the disk fills.",
        },
        {
            alert: "ReceiveLatencyHigh",
            expr:
                `histogram_quantile(0.99, sum by (cluster, le) (rate(http_request_duration_seconds_bucket{job="thanos-receive", handler="receive"}[5m]))) > 10` +
                ` and on (cluster) sum by (cluster) (rate(http_request_duration_seconds_count{job="thanos-receive", handler="receive"}[5m])) > 0`,
            for: "10m",
            severity: "critical",
            summary: "99th percentile of remote-write requests takes {{ $value | humanizeDuration }}.",
            description: "Agents send slower than they scrape and fall behind: replication waits on a slow or overloaded replica, the TSDB is slow (disk), or the head is too large.",
        },
        {
            alert: "ReceiveLimitsReloadFailing",
            expr: `sum by (cluster, pod) (increase(thanos_receive_limits_config_reload_err_total{job="thanos-receive"}[5m])) > 0`,
            for: "5m",
            severity: "warning",
            summary: "{{ $labels.pod }} cannot reload the tenant limits file.",
            description: "The replica keeps its previous limits: a limit raised for a tenant under pressure does not apply there.",
        },
        {
            alert: "ReceiveMetaMonitoringFailing",
            // The limiter asks Query for every tenant's head series every 15 s (20 times in 5m): over 4 failures is
            // the mixin's 20 %.
            expr: `sum by (cluster, pod) (increase(thanos_receive_metamonitoring_failed_queries_total{job="thanos-receive"}[5m])) > 4`,
            for: "5m",
            severity: "warning",
            summary: "{{ $labels.pod }} cannot read tenants' head series from Thanos Query.",
            description: "The head-series limit works from the last answer it got: a tenant can grow past its limit unchecked, or stay limited after its series dropped.",
        },
        {
            alert: "CompactionsFailing",
            expr: `${ratio(
                `sum by (cluster) (rate(thanos_compact_group_compactions_failures_total{job="thanos-compact"}[5m]))`,
                `sum by (cluster) (rate(thanos_compact_group_compactions_total{job="thanos-compact"}[5m]))`,
            )} > 0.05`,
            for: "15m",
            severity: "warning",
            summary: "The compactor fails {{ $value | humanizePercentage }} of its compactions.",
            description: "Blocks stay small and overlapping (queries over long ranges slow down); repeated failures end in CompactorHalted.",
        },
        {
            alert: "CompactorNotRunning",
            // The mixin's ThanosCompactHasNotRun: nothing uploaded for a day. Also fires on a new bucket until the
            // first compaction (8h of 2h blocks) is uploaded.
            expr: `(time() - max by (cluster) (max_over_time(thanos_objstore_bucket_last_successful_upload_time{job="thanos-compact"}[24h]))) / 3600 > 24`,
            for: "1h",
            severity: "warning",
            summary: "The compactor has uploaded nothing for {{ $value | humanize }} hours.",
            description: "No compaction, downsampling or retention ran: the compactor is stuck, waiting on a lock or a bucket error, or not running at all.",
        },
        {
            alert: "BucketOperationsSlow",
            // Store Gateway only (as the mixin): Receive and the compactor upload whole blocks, which take longer.
            expr:
                `histogram_quantile(0.99, sum by (cluster, job, le) (rate(thanos_objstore_bucket_operation_duration_seconds_bucket{job="thanos-store"}[5m]))) > 2` +
                ` and on (cluster, job) sum by (cluster, job) (rate(thanos_objstore_bucket_operation_duration_seconds_count{job="thanos-store"}[5m])) > 0`,
            for: "10m",
            severity: "warning",
            summary: "99th percentile of the Store Gateway's bucket operations takes {{ $value | humanizeDuration }}.",
            description: "MinIO answers slowly (disk, network, or load): queries over the bucket's range slow down with it.",
        },
        {
            alert: "QueryLatencySLO",
            expr:
                `histogram_quantile(0.99, sum by (cluster, le) (rate(http_request_duration_seconds_bucket{job="thanos-query-frontend", handler="query-frontend"}[5m])))` +
                ` > ${t.queryP99Seconds}`,
            for: "15m",
            severity: "warning",
            summary: "99th percentile of queries is {{ $value | humanizeDuration }} (SLO " + t.queryP99Seconds + "s).",
            description: "Slow dashboards: check the cache hit ratio, Store Gateway latency, and queries over raw data.",
        },
        {
            alert: "CacheHitRatioLow",
            expr: `${ratio(
                `sum by (cluster) (rate(memcached_commands_total{job="memcached", command="get", status="hit"}[15m]))`,
                `sum by (cluster) (rate(memcached_commands_total{job="memcached", command="get"}[15m]))`,
            )} < ${t.cacheHitRatioMin}`,
            for: "30m",
            severity: "warning",
            summary: "Results cache hit ratio is {{ $value | humanizePercentage }}.",
            description: "Memcached evicts too early (memory), items are larger than max_item_size, or queries are not aligned.",
        },
        {
            alert: "PlatformContainerOOMKilled",
            expr:
                `max by (cluster, namespace, pod, container) (kube_pod_container_status_last_terminated_reason{namespace=~"${platformNs}", reason="OOMKilled"}) == 1` +
                ` and on (cluster, namespace, pod, container) max by (cluster, namespace, pod, container) (increase(kube_pod_container_status_restarts_total{namespace=~"${platformNs}"}[15m])) > 0`,
            severity: "warning",
            summary: "{{ $labels.container }} in {{ $labels.cluster }}/{{ $labels.pod }} was OOM-killed.",
            description: "A Receive replica that is OOM-killed replays its WAL on start and leaves the quorum meanwhile; an agent loses its cache.",
        },
        {
            alert: "LogShippingFailing",
            expr: `sum by (cluster) (rate(fluentbit_output_errors_total[5m])) > 0`,
            for: "15m",
            severity: "warning",
            summary: "Fluent Bit in {{ $labels.cluster }} fails to deliver logs to OpenSearch.",
            description: "Retries are buffered on disk until the buffer limit; then logs are lost.",
        },
        {
            alert: "OpenSearchClusterRed",
            expr: `max by (cluster) (elasticsearch_cluster_health_status{job="opensearch-exporter", color="red"}) == 1`,
            for: "5m",
            severity: "critical",
            summary: "OpenSearch in {{ $labels.cluster }} is red: a primary shard is unassigned.",
            description: "Writes to the affected indices fail, so Fluent Bit of every cluster buffers and retries; searches miss data.",
        },
        {
            alert: "OpenSearchDiskLow",
            expr:
                `min by (cluster, name) (elasticsearch_filesystem_data_available_bytes{job="opensearch-exporter"}` +
                ` / elasticsearch_filesystem_data_size_bytes{job="opensearch-exporter"}) < ${t.logDiskFreeRatioMin}`,
            for: "15m",
            severity: "warning",
            summary: "OpenSearch node {{ $labels.name }} has {{ $value | humanizePercentage }} of its disk free.",
            description: "At 95 % used OpenSearch makes indices read-only and log shipping stops: shorten retention or grow the volume.",
        },
        {
            alert: "OpenSearchHealthUnknown",
            // A series per scraping replica whose exporter target exists, minus those with a health reading: covers
            // the exporter down (up == 0) and OpenSearch not answering it (no health series).
            expr:
                `max by (cluster) (up{job="opensearch-exporter"})` +
                ` unless on (cluster) max by (cluster) (elasticsearch_cluster_health_status{job="opensearch-exporter"})`,
            for: "15m",
            severity: "warning",
            summary: "OpenSearch health in {{ $labels.cluster }} is unknown.",
            description: "The exporter is down or cannot query OpenSearch (TLS, its user, or OpenSearch itself): red and disk alerts cannot fire meanwhile.",
        },
        // The edges' workloads, volumes (the agents' WAL) and targets; cluster-01's are self-monitored.
        kube.PodCrashLooping,
        kube.StatefulSetReplicasMismatch,
        targetDownRule(edges, ["cluster", "tenant_id"]),
        kube.VolumeFillingUp,
        kube.VolumeFull,
        kube.VolumeUsageUnknown,
        {
            alert: "AgentConfigReloadFailing",
            expr: `max by (cluster, tenant_id) (max_over_time(prometheus_config_last_reload_successful{job="prometheus-agent"}[5m])) == 0`,
            for: "10m",
            severity: "warning",
            summary: "Agent of {{ $labels.tenant_id }} cannot load its new configuration.",
            description: "It keeps running the previous configuration: a changed scrape job, drop list or remote-write setting does not apply until the configuration loads.",
        },
        // The client certificates the edges mount, as their node-exporters publish them; cluster-01's own are
        // recorded and alerted on by its Prometheus pair.
        certificateExpiryRule(edges, ["cluster", "tenant_id"]),
    ];
    const names = rules.map((r) => r.alert);
    if (names.join() !== ALERT_NAMES.join()) throw new Error(`alert list out of sync: ${names.join()}`);
    return rules;
}

/** One rule group as Prometheus (and Thanos Ruler, and a PrometheusRule's `spec.groups`) reads it. */
export interface RuleGroup {
    readonly name: string;
    readonly interval?: string;
    readonly rules: Record<string, unknown>[];
}

/** The alerts as a rule group: severity as a label, summary, description and the runbook link as annotations. */
export function alertGroup(name: string, rules: AlertRule[], runbookBaseUrl: string, interval?: string): RuleGroup {
    return {
        name,
        ...(interval ? { interval } : {}),
        rules: rules.map((r) => ({
            alert: r.alert,
            expr: r.expr,
            ...(r.for ? { for: r.for } : {}),
            labels: { severity: r.severity },
            annotations: {
                summary: r.summary,
                description: r.description,
                runbook_url: `${runbookBaseUrl}${runbookPath(r.alert)}`,
            },
        })),
    };
}

/**
 * The expression with its string literals in single quotes (PromQL reads `'x'` as `"x"`): the Ruler's alert links put
 * the expression, URL-escaped only, inside a JSON string (Grafana Explore's URL state), where a `"` would end it.
 * Fails on a string that holds `'` or a backslash, or on a line break, which the link could not carry either.
 */
export function singleQuotedStrings(expr: string): string {
    const out = expr.replace(/"([^"\\'\n]*)"/g, "'$1'");
    if (/["\\\n]/.test(out)) throw new Error(`expression cannot travel in an alert link (a string holds a quote or a backslash, or a line break): ${expr}`);
    return out;
}

/** The Prometheus rule file (one group) the ruler loads; strings single-quoted for the alert links. */
export function renderAlertRules(a: AlertRuleArgs, interval: string): string {
    const rules = alertRules(a).map((r) => ({ ...r, expr: singleQuotedStrings(r.expr) }));
    return stringify({ groups: [alertGroup("agent-receiver-platform", rules, a.runbookBaseUrl, interval)] }, { lineWidth: 0 });
}
