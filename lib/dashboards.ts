/**
 * Grafana dashboards provisioned by the program (one ConfigMap that the Grafana chart mounts for its file provider; no
 * sidecar). Every query below is parsed by the tests and its metric names checked against the platform's
 * produced-metrics list; the agents' keep-lists keep every name they read (usedMetrics.ts).
 *
 * The variables `$cluster` and `$tenant` filter by the `cluster` external label and Receive's `tenant_id`.
 */

import { CACHE_HIT_RATIO_OBJECTIVE, CACHE_HIT_RATIO_RECORD, QUERY_LATENCY_BUCKET, QUERY_LATENCY_OBJECTIVE, REMOTE_WRITE_AVAILABILITY } from "./slo";

export interface Panel {
    readonly title: string;
    /** PromQL, one per series group; `$__rate_interval` is Grafana's rate window. */
    readonly exprs: { expr: string; legend: string }[];
    readonly unit: string;
    readonly description?: string;
}

export interface Dashboard {
    readonly uid: string;
    readonly title: string;
    readonly panels: Panel[];
}

const W = "$__rate_interval";
const SEL = `cluster=~"$cluster", tenant_id=~"$tenant"`;

/** The dashboards, as data (the Grafana JSON is `dashboardJson`). `platformNamespaces` scope the cost view. */
export function dashboards(platformNamespaces: string[]): Dashboard[] {
    const ns = `namespace=~"${platformNamespaces.join("|")}"`;
    return [
        {
            uid: "ar-overview",
            title: "Agent-receiver / Multi-cluster overview",
            panels: [
                {
                    title: "Samples ingested per writer",
                    exprs: [{ expr: `sum by (tenant) (rate(prometheus_tsdb_head_samples_appended_total{job="thanos-receive", tenant=~"$tenant"}[${W}]))`, legend: "{{tenant}}" }],
                    unit: "short",
                },
                {
                    title: "Head series per writer",
                    exprs: [{ expr: `sum by (tenant) (prometheus_tsdb_head_series{job="thanos-receive", tenant=~"$tenant"})`, legend: "{{tenant}}" }],
                    unit: "short",
                },
                {
                    title: "Agents up",
                    exprs: [{ expr: `max by (cluster, tenant_id) (up{job="prometheus-agent", ${SEL}})`, legend: "{{tenant_id}}" }],
                    unit: "none",
                },
                {
                    title: "Remote-write lag",
                    exprs: [
                        {
                            expr:
                                `max by (cluster, tenant_id) (prometheus_remote_storage_queue_highest_timestamp_seconds{${SEL}}` +
                                ` - prometheus_remote_storage_queue_highest_sent_timestamp_seconds{${SEL}})`,
                            legend: "{{tenant_id}}",
                        },
                    ],
                    unit: "s",
                },
                {
                    title: "Remote-write failed and dropped samples",
                    exprs: [
                        { expr: `sum by (tenant_id) (rate(prometheus_remote_storage_samples_failed_total{${SEL}}[${W}]))`, legend: "failed {{tenant_id}}" },
                        { expr: `sum by (tenant_id) (rate(prometheus_remote_storage_samples_dropped_total{${SEL}}[${W}]))`, legend: "dropped {{tenant_id}}" },
                        { expr: `sum by (tenant_id) (rate(prometheus_remote_storage_samples_retried_total{${SEL}}[${W}]))`, legend: "retried {{tenant_id}}" },
                    ],
                    unit: "short",
                },
                {
                    title: "Samples pending in agents",
                    exprs: [{ expr: `sum by (tenant_id) (prometheus_remote_storage_samples_pending{${SEL}})`, legend: "{{tenant_id}}" }],
                    unit: "short",
                },
            ],
        },
        {
            uid: "ar-receive",
            title: "Agent-receiver / Thanos Receive",
            panels: [
                {
                    title: "Write requests by code",
                    exprs: [{ expr: `sum by (code) (rate(http_requests_total{job="thanos-receive", handler="receive"}[${W}]))`, legend: "{{code}}" }],
                    unit: "reqps",
                },
                {
                    title: "Write latency p99",
                    exprs: [{ expr: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="thanos-receive", handler="receive"}[${W}])))`, legend: "p99" }],
                    unit: "s",
                },
                {
                    title: "Refused writes by tenant and code",
                    exprs: [{ expr: `sum by (tenant, code) (rate(thanos_receive_write_samples_count{job="thanos-receive", code!~"2.."}[${W}]))`, legend: "{{tenant}} {{code}}" }],
                    unit: "reqps",
                },
                {
                    title: "Replication errors and hashring size",
                    exprs: [
                        { expr: `sum (rate(thanos_receive_replications_total{job="thanos-receive", result="error"}[${W}]))`, legend: "replication errors" },
                        { expr: `max (thanos_receive_hashring_nodes{job="thanos-receive"})`, legend: "hashring nodes" },
                        { expr: `max (thanos_receive_replication_factor{job="thanos-receive"})`, legend: "replication factor" },
                    ],
                    unit: "short",
                },
                {
                    title: "Head series vs limit",
                    exprs: [
                        { expr: `sum by (tenant) (prometheus_tsdb_head_series{job="thanos-receive"})`, legend: "{{tenant}}" },
                        { expr: `max by (tenant) (thanos_receive_head_series_limit{job="thanos-receive"})`, legend: "limit {{tenant}}" },
                    ],
                    unit: "short",
                },
                {
                    title: "Block uploads failed",
                    exprs: [{ expr: `sum by (pod) (increase(thanos_shipper_upload_failures_total{job="thanos-receive"}[1h]))`, legend: "{{pod}}" }],
                    unit: "short",
                },
            ],
        },
        {
            uid: "ar-query",
            title: "Agent-receiver / Query and cache",
            panels: [
                {
                    title: "Query Frontend latency p50/p99",
                    exprs: [0.5, 0.99].map((q) => ({
                        expr: `histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket{job="thanos-query-frontend", handler="query-frontend"}[${W}])))`,
                        legend: `p${q * 100}`,
                    })),
                    unit: "s",
                },
                {
                    title: "Query rate by code",
                    exprs: [{ expr: `sum by (code) (rate(http_requests_total{job="thanos-query-frontend", handler="query-frontend"}[${W}]))`, legend: "{{code}}" }],
                    unit: "reqps",
                },
                {
                    title: "Results cache hit ratio",
                    exprs: [
                        {
                            expr:
                                `sum (rate(memcached_commands_total{job="memcached", command="get", status="hit"}[${W}]))` +
                                ` / sum (rate(memcached_commands_total{job="memcached", command="get"}[${W}]))`,
                            legend: "hit ratio",
                        },
                    ],
                    unit: "percentunit",
                },
                {
                    title: "Memcached memory and evictions",
                    exprs: [
                        { expr: `sum (memcached_current_bytes{job="memcached"}) / sum (memcached_limit_bytes{job="memcached"})`, legend: "memory used" },
                        { expr: `sum (rate(memcached_items_evicted_total{job="memcached"}[${W}]))`, legend: "evictions/s" },
                    ],
                    unit: "short",
                },
                {
                    title: "Store Gateway series fetch p99",
                    exprs: [{ expr: `histogram_quantile(0.99, sum by (le) (rate(thanos_bucket_store_series_get_all_duration_seconds_bucket{job="thanos-store"}[${W}])))`, legend: "p99" }],
                    unit: "s",
                },
            ],
        },
        {
            uid: "ar-compactor",
            title: "Agent-receiver / Compactor and bucket",
            panels: [
                {
                    title: "Compactor halted",
                    exprs: [{ expr: `max (thanos_compact_halted{job="thanos-compact"})`, legend: "halted" }],
                    unit: "none",
                },
                {
                    title: "Compactions and downsamplings",
                    exprs: [
                        { expr: `sum (increase(thanos_compact_group_compactions_total{job="thanos-compact"}[1h]))`, legend: "compactions" },
                        { expr: `sum (increase(thanos_compact_downsample_total{job="thanos-compact"}[1h]))`, legend: "downsamplings" },
                        { expr: `sum (increase(thanos_compact_group_compactions_failures_total{job="thanos-compact"}[1h]))`, legend: "failures" },
                    ],
                    unit: "short",
                },
                {
                    title: "Bucket operations and failures by component",
                    exprs: [
                        { expr: `sum by (job) (rate(thanos_objstore_bucket_operations_total[${W}]))`, legend: "{{job}}" },
                        { expr: `sum by (job) (rate(thanos_objstore_bucket_operation_failures_total[${W}]))`, legend: "failed {{job}}" },
                    ],
                    unit: "ops",
                },
                {
                    title: "Time since last successful upload",
                    exprs: [{ expr: `time() - max by (job) (thanos_objstore_bucket_last_successful_upload_time)`, legend: "{{job}}" }],
                    unit: "s",
                },
            ],
        },
        {
            uid: "ar-cost",
            title: "Agent-receiver / Cost and right-sizing",
            panels: [
                {
                    title: "CPU used vs requested (platform containers)",
                    exprs: [
                        { expr: `sum by (cluster, namespace, container) (rate(container_cpu_usage_seconds_total{${ns}, container!=""}[${W}]))`, legend: "used {{cluster}} {{container}}" },
                        { expr: `sum by (cluster, namespace, container) (kube_pod_container_resource_requests{${ns}, resource="cpu"})`, legend: "requested {{cluster}} {{container}}" },
                    ],
                    unit: "short",
                },
                {
                    title: "Memory working set vs requested",
                    exprs: [
                        { expr: `sum by (cluster, namespace, container) (container_memory_working_set_bytes{${ns}, container!=""})`, legend: "used {{cluster}} {{container}}" },
                        { expr: `sum by (cluster, namespace, container) (kube_pod_container_resource_requests{${ns}, resource="memory"})`, legend: "requested {{cluster}} {{container}}" },
                    ],
                    unit: "bytes",
                },
                {
                    title: "Bytes sent per agent",
                    exprs: [{ expr: `sum by (tenant_id) (rate(prometheus_remote_storage_bytes_total{${SEL}}[${W}]))`, legend: "{{tenant_id}}" }],
                    unit: "Bps",
                },
                {
                    title: "Volume usage",
                    exprs: [
                        {
                            expr: `max by (cluster, namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{${ns}} / kubelet_volume_stats_capacity_bytes{${ns}})`,
                            legend: "{{cluster}} {{persistentvolumeclaim}}",
                        },
                    ],
                    unit: "percentunit",
                },
            ],
        },
        {
            uid: "ar-logs",
            title: "Agent-receiver / Logs",
            panels: [
                {
                    title: "Log records shipped per cluster",
                    exprs: [{ expr: `sum by (cluster) (rate(fluentbit_output_proc_records_total{cluster=~"$cluster"}[${W}]))`, legend: "{{cluster}}" }],
                    unit: "short",
                },
                {
                    title: "Delivery errors and abandoned retries",
                    exprs: [
                        { expr: `sum by (cluster) (rate(fluentbit_output_errors_total{cluster=~"$cluster"}[${W}]))`, legend: "errors {{cluster}}" },
                        { expr: `sum by (cluster) (rate(fluentbit_output_retries_failed_total{cluster=~"$cluster"}[${W}]))`, legend: "abandoned {{cluster}}" },
                    ],
                    unit: "short",
                    description: "An abandoned retry is a chunk of logs that never reached OpenSearch.",
                },
                {
                    title: "OpenSearch health (0 green, 1 yellow, 2 red) and unassigned shards",
                    exprs: [
                        {
                            expr: `max(elasticsearch_cluster_health_status{job="opensearch-exporter", color="yellow"}) + 2 * max(elasticsearch_cluster_health_status{job="opensearch-exporter", color="red"})`,
                            legend: "status",
                        },
                        { expr: `max(elasticsearch_cluster_health_unassigned_shards{job="opensearch-exporter"})`, legend: "unassigned shards" },
                    ],
                    unit: "none",
                },
                {
                    title: "OpenSearch disk free per node",
                    exprs: [
                        {
                            expr: `min by (name) (elasticsearch_filesystem_data_available_bytes{job="opensearch-exporter"} / elasticsearch_filesystem_data_size_bytes{job="opensearch-exporter"})`,
                            legend: "{{name}}",
                        },
                    ],
                    unit: "percentunit",
                },
                {
                    title: "OpenSearch heap used per node",
                    exprs: [
                        {
                            expr: `max by (name) (elasticsearch_jvm_memory_used_bytes{job="opensearch-exporter", area="heap"} / on (name) group_left max by (name) (elasticsearch_jvm_memory_max_bytes{job="opensearch-exporter", area="heap"}))`,
                            legend: "{{name}}",
                        },
                    ],
                    unit: "percentunit",
                },
                {
                    title: "Rejected writes (bulk queue full)",
                    exprs: [{ expr: `sum by (name) (rate(elasticsearch_thread_pool_rejected_count{job="opensearch-exporter", type="write"}[${W}]))`, legend: "{{name}}" }],
                    unit: "short",
                },
            ],
        },
        sloDashboard(),
    ];
}

/**
 * The service levels (lib/slo.ts): each SLI against its objective, the burn rate of its error budget (1 = the budget
 * lasts exactly 30 days; the fast alert pages at 14.4 and 6, the slow one tickets at 3 and 1) and what is left of the
 * budget over 30 days. The series are the central Prometheus pair's recordings (max() merges the two replicas).
 */
function sloDashboard(): Dashboard {
    // Two panels per objective: the SLI against it, then the burn rate of its budget and what is left of 30 days.
    const objective = (title: string, budgetTitle: string, record: string, target: number, description: string): Panel[] => {
        const bad = (w: string) => `max(slo:${record}:ratio_rate${w})`;
        const budget = Number((1 - target).toPrecision(6));
        return [
            {
                title,
                exprs: [
                    { expr: `1 - ${bad("1h")}`, legend: "last hour" },
                    { expr: `1 - ${bad("3d")}`, legend: "last 3 days" },
                    { expr: `vector(${target})`, legend: "objective" },
                ],
                unit: "percentunit",
                description,
            },
            {
                title: budgetTitle,
                exprs: [
                    { expr: `${bad("1h")} / ${budget}`, legend: "burn rate, 1h" },
                    { expr: `${bad("6h")} / ${budget}`, legend: "burn rate, 6h" },
                    { expr: `1 - avg_over_time(${bad("1h")}[30d:1h]) / ${budget}`, legend: "budget left (30 days)" },
                ],
                unit: "short",
            },
        ];
    };
    return {
        uid: "ar-slo",
        title: "Agent-receiver / Service levels",
        panels: [
            ...objective(
                `Remote-write availability (objective ${REMOTE_WRITE_AVAILABILITY * 100} %)`,
                "Remote-write error budget: burn rate and what is left of 30 days",
                "remote_write_errors",
                REMOTE_WRITE_AVAILABILITY,
                "Share of Receive's write requests not answered 5xx.",
            ),
            ...objective(
                `Query latency: share within ${QUERY_LATENCY_BUCKET} s (objective ${QUERY_LATENCY_OBJECTIVE * 100} %, for P99 1.2 s)`,
                "Query latency budget: burn rate and what is left of 30 days",
                "query_slow",
                QUERY_LATENCY_OBJECTIVE,
                "Thanos' histogram has buckets at 0.6, 1 and 3 s: requests under 1 s count as fast (stricter than 1.2 s, never laxer).",
            ),
            {
                title: `Results cache hit ratio (objective ${CACHE_HIT_RATIO_OBJECTIVE * 100} %)`,
                exprs: [
                    { expr: `max(${CACHE_HIT_RATIO_RECORD})`, legend: "hit ratio, 1h" },
                    { expr: `vector(${CACHE_HIT_RATIO_OBJECTIVE})`, legend: "objective" },
                ],
                unit: "percentunit",
            },
        ],
    };
}

/** Grafana's JSON model of a dashboard: time series panels in a two-column grid, cluster and tenant variables. */
export function dashboardJson(d: Dashboard, datasourceUid: string): string {
    const ds = { type: "prometheus", uid: datasourceUid };
    const variable = (name: string, query: string) => ({
        name,
        type: "query",
        datasource: ds,
        query: { query, refId: name },
        definition: query,
        includeAll: true,
        multi: true,
        allValue: ".*",
        current: { text: "All", value: "$__all" },
        refresh: 2,
    });
    return JSON.stringify(
        {
            uid: d.uid,
            title: d.title,
            tags: ["agent-receiver"],
            schemaVersion: 39,
            editable: false,
            time: { from: "now-6h", to: "now" },
            refresh: "1m",
            templating: { list: [variable("cluster", "label_values(up, cluster)"), variable("tenant", "label_values(up, tenant_id)")] },
            panels: d.panels.map((p, i) => ({
                id: i + 1,
                type: "timeseries",
                title: p.title,
                description: p.description,
                datasource: ds,
                gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
                fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
                targets: p.exprs.map((e, j) => ({ refId: String.fromCharCode(65 + j), datasource: ds, expr: e.expr, legendFormat: e.legend })),
            })),
        },
        null,
        2,
    );
}
