/**
 * Metric names the platform produces, by source, with where each list was read. A rule or dashboard may only
 * use names listed here (checked in `test/metricNames.test.ts` with the PromQL parser), so a typo cannot ship.
 * When a component is upgraded, re-read its source and update its list.
 *
 * Histograms are listed by their series names (`_bucket`, `_count`, `_sum` as used).
 */
import { sloRecordedNames } from "./slo";

export interface MetricSource {
    /** Where the names were read (upstream source or docs). */
    readonly source: string;
    readonly names: readonly string[];
}

export const PRODUCED_METRICS: Record<string, MetricSource> = {
    prometheusScrape: {
        source: "Prometheus: synthetic series of every scrape (docs: jobs and instances)",
        names: ["up"],
    },
    prometheusAgent: {
        source: "prometheus/prometheus storage/remote/queue_manager.go, tsdb/agent, config reloading in cmd/prometheus/main.go (v2.42 and v3.x); self-scrape job prometheus-agent",
        names: [
            "prometheus_remote_storage_samples_failed_total",
            "prometheus_remote_storage_samples_dropped_total",
            "prometheus_remote_storage_samples_retried_total",
            "prometheus_remote_storage_samples_pending",
            "prometheus_remote_storage_highest_timestamp_in_seconds",
            "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
            "prometheus_remote_storage_bytes_total",
            "prometheus_config_last_reload_successful",
        ],
    },
    thanosReceive: {
        source: "thanos-io/thanos pkg/receive/{handler,head_series_limiter,config}.go and the per-tenant TSDB (multitsdb.go wraps prometheus_tsdb_* with tenant), v0.42",
        names: [
            "prometheus_tsdb_head_series",
            "prometheus_tsdb_head_samples_appended_total",
            "thanos_receive_replications_total",
            "thanos_receive_replication_factor",
            "thanos_receive_hashring_nodes",
            "thanos_receive_config_last_reload_successful",
            "thanos_receive_head_series_limit",
            "thanos_receive_head_series_limited_requests_total",
            "thanos_receive_write_samples_count",
            "thanos_receive_hashrings_file_errors_total",
            "thanos_receive_limits_config_reload_err_total",
            "thanos_receive_metamonitoring_failed_queries_total",
            "thanos_shipper_upload_failures_total",
            "thanos_shipper_uploads_total",
        ],
    },
    thanosHttp: {
        source: "thanos-io/thanos pkg/extprom/http (every component's HTTP server; handler label: receive, query-frontend, ...)",
        names: ["http_requests_total", "http_request_duration_seconds_bucket", "http_request_duration_seconds_count"],
    },
    grpc: {
        source: "grpc-ecosystem/go-grpc-middleware providers/prometheus (server and client metrics of every Thanos StoreAPI); the names the mixin uses at v0.42.4",
        names: ["grpc_server_handled_total", "grpc_server_started_total", "grpc_client_handled_total", "grpc_client_started_total"],
    },
    thanosQuery: {
        source: "thanos-io/thanos pkg/gate/gate.go (concurrent query gate), pkg/discovery/dns/provider.go (store API lookups, prefix thanos_query_store_apis), v0.42; the mixin's thanos-query group",
        names: [
            "thanos_query_concurrent_gate_queries_max",
            "thanos_query_concurrent_gate_queries_in_flight",
            "thanos_query_store_apis_dns_failures_total",
            "thanos_query_store_apis_dns_lookups_total",
        ],
    },
    thanosObjstore: {
        source: "thanos-io/objstore objstore.go (Receive, Store, Compactor)",
        names: [
            "thanos_objstore_bucket_operations_total",
            "thanos_objstore_bucket_operation_failures_total",
            "thanos_objstore_bucket_last_successful_upload_time",
            "thanos_objstore_bucket_operation_duration_seconds_bucket",
            "thanos_objstore_bucket_operation_duration_seconds_count",
        ],
    },
    thanosCompactor: {
        source: "thanos-io/thanos cmd/thanos/compact.go, pkg/compact/compact.go",
        names: ["thanos_compact_halted", "thanos_compact_group_compactions_total", "thanos_compact_group_compactions_failures_total", "thanos_compact_downsample_total"],
    },
    thanosStore: {
        source: "thanos-io/thanos pkg/store/bucket.go",
        names: ["thanos_bucket_store_series_get_all_duration_seconds_bucket"],
    },
    thanosRuler: {
        source:
            "thanos-io/thanos pkg/alert/alert.go (sender and queue), cmd/thanos/rule.go (loaded rules), and the Prometheus rule manager it embeds (prometheus/prometheus rules/group.go); the same names in the mixin's thanos-rule group at v0.42.4",
        names: [
            "prometheus_rule_evaluations_total",
            "prometheus_rule_evaluation_failures_total",
            "prometheus_rule_group_last_evaluation_timestamp_seconds",
            "prometheus_rule_group_interval_seconds",
            "prometheus_rule_group_last_duration_seconds",
            "thanos_rule_loaded_rules",
            "thanos_alert_sender_alerts_dropped_total",
            "thanos_alert_queue_alerts_dropped_total",
            "thanos_rule_query_apis_dns_failures_total",
            "thanos_rule_query_apis_dns_lookups_total",
            "thanos_rule_alertmanagers_dns_failures_total",
            "thanos_rule_alertmanagers_dns_lookups_total",
        ],
    },
    alertmanager: {
        source: "prometheus/alertmanager notify/notify.go (notifications), cluster/cluster.go (gossip members); job kps-alertmanager (the chart's ServiceMonitor)",
        names: ["alertmanager_notifications_total", "alertmanager_notifications_failed_total", "alertmanager_cluster_members"],
    },
    certificates: {
        source:
            "this program, lib/certificates.ts: each certificate's NotAfter as @pulumi/tls issued it; recorded by the central Prometheus pair (PrometheusRule) for cluster-01's, served by node-exporter's textfile collector on the edges for their client certificates",
        names: ["agent_receiver_certificate_expiry_timestamp_seconds"],
    },
    sloRecordings: {
        source: "this program's recording rules, lib/slo.ts (the central Prometheus pair records them; they reach Thanos by its remote write)",
        names: sloRecordedNames(),
    },
    memcachedExporter: {
        source: "prometheus/memcached_exporter pkg/exporter/exporter.go",
        names: ["memcached_commands_total", "memcached_current_bytes", "memcached_limit_bytes", "memcached_items_evicted_total"],
    },
    kubeStateMetrics: {
        source: "kubernetes/kube-state-metrics docs/metrics/workload/{pod,statefulset}-metrics.md, docs/metrics/storage/persistentvolumeclaim-metrics.md (v2.x)",
        names: [
            "kube_pod_container_status_last_terminated_reason",
            "kube_pod_container_status_restarts_total",
            "kube_pod_container_status_waiting_reason",
            "kube_pod_container_resource_requests",
            "kube_persistentvolumeclaim_info",
            "kube_statefulset_replicas",
            "kube_statefulset_status_replicas_ready",
            "kube_statefulset_status_replicas_updated",
        ],
    },
    cadvisor: {
        source: "google/cadvisor docs/storage/prometheus.md (kubelet /metrics/cadvisor)",
        names: ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes"],
    },
    kubelet: {
        source: "kubernetes pkg/kubelet/metrics/collectors/volume_stats.go (kubelet /metrics)",
        names: ["kubelet_volume_stats_used_bytes", "kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes"],
    },
    fluentBit: {
        source: "fluent/fluent-bit src/flb_metrics_exporter.c, /api/v1/metrics/prometheus",
        names: ["fluentbit_output_errors_total", "fluentbit_output_retries_failed_total", "fluentbit_output_proc_records_total"],
    },
    openSearchExporter: {
        source: "prometheus-community/elasticsearch_exporter v1.11.0 metrics.md, collector/cluster_health.go, collector/nodes.go (job opensearch-exporter)",
        names: [
            "elasticsearch_cluster_health_status",
            "elasticsearch_cluster_health_unassigned_shards",
            "elasticsearch_filesystem_data_available_bytes",
            "elasticsearch_filesystem_data_size_bytes",
            "elasticsearch_jvm_memory_used_bytes",
            "elasticsearch_jvm_memory_max_bytes",
            "elasticsearch_thread_pool_rejected_count",
        ],
    },
};

/** Every produced name. */
export function producedMetricNames(): Set<string> {
    return new Set(Object.values(PRODUCED_METRICS).flatMap((s) => s.names));
}
