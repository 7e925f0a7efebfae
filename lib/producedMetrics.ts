/**
 * Metric names the platform produces, by source, with the exporter version that defines them and where. A rule,
 * dashboard or runbook may only use names listed here (checked in `test/metricNames.test.ts` and
 * `test/docs.test.ts` with the PromQL parser), so a typo cannot ship; and every name listed is checked against the
 * definitions kept for that exporter at that version (`test/fixtures/upstream/<project>-<version>/metrics.txt`,
 * each line naming the upstream file:line), so a name the pinned exporter does not define cannot ship either. When
 * a component is upgraded, its pin moves, the check asks for the new version's list: re-read the source.
 *
 * Histograms are listed by their series names (`_bucket`, `_count`, `_sum` as used).
 */
import { sloRecordedNames } from "./slo";
import { images } from "./versions";

export interface MetricSource {
    /** Where the names were read (upstream source or docs). */
    readonly source: string;
    readonly names: readonly string[];
    /**
     * The exporter and the version this platform runs, whose definitions the names are checked against (the fixture
     * folder `<project>-<version>`); `pin` says where that version comes from.
     */
    readonly exporter?: { readonly project: string; readonly version: string; readonly pin: string };
    /** Why a source has no exporter version to check against. */
    readonly unpinned?: string;
}

export const PRODUCED_METRICS: Record<string, MetricSource> = {
    prometheusScrape: {
        source: "Prometheus: synthetic series of every scrape (docs: jobs and instances)",
        names: ["up"],
        exporter: { project: "prometheus", version: images.prometheus.tag, pin: "lib/versions.ts images.prometheus (the agents); the central Prometheus runs the same version" },
    },
    prometheusAgent: {
        source: "prometheus/prometheus storage/remote/queue_manager.go, storage/remote/write.go, config reloading in cmd/prometheus/main.go; self-scrape job prometheus-agent (and the central Prometheus)",
        exporter: { project: "prometheus", version: images.prometheus.tag, pin: "lib/versions.ts images.prometheus (the agents); the central Prometheus runs the same version" },
        names: [
            "prometheus_remote_storage_samples_failed_total",
            "prometheus_remote_storage_samples_dropped_total",
            "prometheus_remote_storage_samples_retried_total",
            "prometheus_remote_storage_samples_pending",
            "prometheus_remote_storage_queue_highest_timestamp_seconds",
            "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
            "prometheus_remote_storage_bytes_total",
            "prometheus_config_last_reload_successful",
        ],
    },
    thanosReceive: {
        source: "thanos-io/thanos pkg/receive/{handler,head_series_limiter,config}.go, pkg/shipper, and the per-tenant TSDB (multitsdb.go wraps prometheus/prometheus tsdb's prometheus_tsdb_* with tenant)",
        exporter: { project: "thanos", version: images.thanos.tag, pin: "lib/versions.ts images.thanos" },
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
        exporter: { project: "thanos", version: images.thanos.tag, pin: "lib/versions.ts images.thanos" },
        names: ["http_requests_total", "http_request_duration_seconds_bucket", "http_request_duration_seconds_count"],
    },
    grpc: {
        source: "grpc-ecosystem/go-grpc-middleware providers/prometheus (server and client metrics of every Thanos StoreAPI), at the version Thanos' go.mod requires; the names the mixin uses at v0.42.4",
        exporter: { project: "thanos", version: images.thanos.tag, pin: "lib/versions.ts images.thanos (go-grpc-middleware/providers/prometheus at the version its go.mod requires)" },
        names: ["grpc_server_handled_total", "grpc_server_started_total", "grpc_client_handled_total", "grpc_client_started_total"],
    },
    thanosQuery: {
        source: "thanos-io/thanos pkg/gate/gate.go (concurrent query gate, prefix thanos_query_concurrent_ in cmd/thanos/query.go), pkg/discovery/dns/provider.go (endpoint lookups, prefix thanos_query_endpoints_ in cmd/thanos/endpointset.go; the mixin's thanos_query_store_apis_ is not defined at v0.42.4)",
        exporter: { project: "thanos", version: images.thanos.tag, pin: "lib/versions.ts images.thanos" },
        names: [
            "thanos_query_concurrent_gate_queries_max",
            "thanos_query_concurrent_gate_queries_in_flight",
            "thanos_query_endpoints_dns_failures_total",
            "thanos_query_endpoints_dns_lookups_total",
        ],
    },
    thanosObjstore: {
        source: "thanos-io/objstore objstore.go, registered with the thanos_ prefix by Receive, Store and Compactor",
        exporter: { project: "thanos", version: images.thanos.tag, pin: "lib/versions.ts images.thanos (objstore at the version its go.mod requires)" },
        names: [
            "thanos_objstore_bucket_operations_total",
            "thanos_objstore_bucket_operation_failures_total",
            "thanos_objstore_bucket_last_successful_upload_time",
            "thanos_objstore_bucket_operation_duration_seconds_bucket",
            "thanos_objstore_bucket_operation_duration_seconds_count",
        ],
    },
    thanosCompactor: {
        source: "thanos-io/thanos cmd/thanos/compact.go, cmd/thanos/downsample.go, pkg/compact/compact.go",
        exporter: { project: "thanos", version: images.thanos.tag, pin: "lib/versions.ts images.thanos" },
        names: ["thanos_compact_halted", "thanos_compact_group_compactions_total", "thanos_compact_group_compactions_failures_total", "thanos_compact_downsample_total"],
    },
    thanosStore: {
        source: "thanos-io/thanos pkg/store/bucket.go",
        exporter: { project: "thanos", version: images.thanos.tag, pin: "lib/versions.ts images.thanos" },
        names: ["thanos_bucket_store_series_get_all_duration_seconds_bucket"],
    },
    thanosRuler: {
        source:
            "thanos-io/thanos pkg/alert/alert.go (sender and queue), cmd/thanos/rule.go (loaded rules), pkg/discovery/dns/provider.go (prefixes in cmd/thanos/rule.go), and the Prometheus rule manager it embeds (prometheus/prometheus rules/group.go at the version Thanos' go.mod requires); the same names in the mixin's thanos-rule group at v0.42.4",
        exporter: { project: "thanos", version: images.thanos.tag, pin: "lib/versions.ts images.thanos (the Prometheus rule manager at the version its go.mod requires)" },
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
        source: "prometheus/alertmanager notify/metrics.go (notifications), cluster/delegate.go (gossip members); job kps-alertmanager (the chart's ServiceMonitor)",
        exporter: {
            project: "alertmanager",
            version: "v0.34.0",
            pin: "the Alertmanager image kube-prometheus-stack 88.5.3 deploys (its values.yaml alertmanager.alertmanagerSpec.image.tag); the program sets no image of its own",
        },
        names: ["alertmanager_notifications_total", "alertmanager_notifications_failed_total", "alertmanager_cluster_members"],
    },
    certificates: {
        source:
            "this program, lib/certificates.ts: each certificate's NotAfter as @pulumi/tls issued it; recorded by the central Prometheus pair (PrometheusRule) for cluster-01's, served by node-exporter's textfile collector on the edges for their client certificates",
        unpinned: "written by this program itself (lib/certificates.ts CERTIFICATE_EXPIRY_METRIC), not by an upstream exporter: there is no exporter version to check against",
        names: ["agent_receiver_certificate_expiry_timestamp_seconds"],
    },
    sloRecordings: {
        source: "this program's recording rules, lib/slo.ts (the central Prometheus pair records them; they reach Thanos by its remote write)",
        unpinned: "recorded by this program's own rules (lib/slo.ts sloRecordedNames), not by an upstream exporter: there is no exporter version to check against",
        names: sloRecordedNames(),
    },
    memcachedExporter: {
        source: "prometheus/memcached_exporter pkg/exporter/exporter.go",
        exporter: { project: "memcached-exporter", version: images.memcachedExporter.tag, pin: "lib/versions.ts images.memcachedExporter" },
        names: ["memcached_commands_total", "memcached_current_bytes", "memcached_limit_bytes", "memcached_items_evicted_total"],
    },
    kubeStateMetrics: {
        source: "kubernetes/kube-state-metrics internal/store/{pod,statefulset,persistentvolumeclaim}.go",
        // The chart's appVersion (its image tag is left empty); test/metricNames.test.ts checks it against the chart.
        exporter: { project: "kube-state-metrics", version: "v2.20.0", pin: "the appVersion of the kube-state-metrics chart 8.4.0 (lib/versions.ts charts.kubeStateMetrics; kube-prometheus-stack's subchart)" },
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
        unpinned: "served by each cluster's own kubelet: the Kubernetes (and cAdvisor) version of the clusters is not pinned by this program",
        names: ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes"],
    },
    kubelet: {
        source: "kubernetes pkg/kubelet/metrics/collectors/volume_stats.go (kubelet /metrics)",
        unpinned: "served by each cluster's own kubelet: the clusters' Kubernetes version is not pinned by this program",
        names: ["kubelet_volume_stats_used_bytes", "kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes"],
    },
    fluentBit: {
        source: "fluent/fluent-bit src/flb_output.c (old metrics API) as /api/v1/metrics/prometheus writes them",
        // The chart's appVersion (its image tag is left empty); test/metricNames.test.ts checks it against the chart.
        exporter: { project: "fluent-bit", version: "v5.1.1", pin: "the appVersion of the fluent-bit chart 0.58.1 (lib/versions.ts charts.fluentBit)" },
        names: ["fluentbit_output_errors_total", "fluentbit_output_retries_failed_total", "fluentbit_output_proc_records_total"],
    },
    openSearchExporter: {
        source: "prometheus-community/elasticsearch_exporter collector/cluster_health.go, collector/nodes.go (job opensearch-exporter)",
        exporter: { project: "elasticsearch-exporter", version: images.openSearchExporter.tag, pin: "lib/versions.ts images.openSearchExporter" },
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
