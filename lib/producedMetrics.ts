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
        source: "prometheus/prometheus storage/remote/queue_manager.go, storage/remote/write.go; self-scrape job prometheus-agent (and the central Prometheus)",
        exporter: { project: "prometheus", version: images.prometheus.tag, pin: "lib/versions.ts images.prometheus (the agents); the central Prometheus runs the same version" },
        names: [
            "prometheus_remote_storage_samples_failed_total",
            "prometheus_remote_storage_samples_dropped_total",
            "prometheus_remote_storage_samples_retried_total",
            "prometheus_remote_storage_samples_pending",
            "prometheus_remote_storage_queue_highest_timestamp_seconds",
            "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
            "prometheus_remote_storage_bytes_total",
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
            "thanos_shipper_upload_failures_total",
        ],
    },
    thanosHttp: {
        source: "thanos-io/thanos pkg/extprom/http (every component's HTTP server; handler label: receive, query-frontend, ...)",
        exporter: { project: "thanos", version: images.thanos.tag, pin: "lib/versions.ts images.thanos" },
        names: ["http_requests_total", "http_request_duration_seconds_bucket"],
    },
    thanosObjstore: {
        source: "thanos-io/objstore objstore.go, registered with the thanos_ prefix by Receive, Store and Compactor",
        exporter: { project: "thanos", version: images.thanos.tag, pin: "lib/versions.ts images.thanos (objstore at the version its go.mod requires)" },
        names: [
            "thanos_objstore_bucket_operations_total",
            "thanos_objstore_bucket_operation_failures_total",
            "thanos_objstore_bucket_last_successful_upload_time",
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
    memcachedExporter: {
        source: "prometheus/memcached_exporter pkg/exporter/exporter.go",
        exporter: { project: "memcached-exporter", version: images.memcachedExporter.tag, pin: "lib/versions.ts images.memcachedExporter" },
        names: ["memcached_commands_total", "memcached_current_bytes", "memcached_limit_bytes", "memcached_items_evicted_total"],
    },
    kubeStateMetrics: {
        source: "kubernetes/kube-state-metrics internal/store/pod.go",
        // The chart's appVersion (its image tag is left empty); test/metricNames.test.ts checks it against the chart.
        exporter: { project: "kube-state-metrics", version: "v2.20.0", pin: "the appVersion of the kube-state-metrics chart 8.4.0 (lib/versions.ts charts.kubeStateMetrics; kube-prometheus-stack's subchart)" },
        names: ["kube_pod_container_status_last_terminated_reason", "kube_pod_container_status_restarts_total", "kube_pod_container_resource_requests"],
    },
    cadvisor: {
        source: "google/cadvisor docs/storage/prometheus.md (kubelet /metrics/cadvisor)",
        unpinned: "served by each cluster's own kubelet: the Kubernetes (and cAdvisor) version of the clusters is not pinned by this program",
        names: ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes"],
    },
    kubelet: {
        source: "kubernetes pkg/kubelet/metrics/collectors/volume_stats.go (kubelet /metrics)",
        unpinned: "served by each cluster's own kubelet: the clusters' Kubernetes version is not pinned by this program",
        names: ["kubelet_volume_stats_used_bytes", "kubelet_volume_stats_capacity_bytes"],
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
