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
import type { InfraJob } from "./agentConfig";
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
    /** The edge agents' infrastructure jobs that scrape these names (none: the central cluster's own). */
    readonly scrapedBy?: readonly InfraJob[];
}

export const PRODUCED_METRICS: Record<string, MetricSource> = {
    prometheusScrape: {
        source: "Prometheus: synthetic series of every scrape (docs: jobs and instances)",
        // scrape_samples_*: what a target exposed and what metric relabelling kept of it (docs/ko/metric-filtering.md).
        names: ["up", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling"],
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
            // Read by the Prometheus mixin's dashboards (Prometheus / Overview, Prometheus / Remote Write), whose
            // inputs the agents keep; the server-only ones (engine, head, TSDB WAL) are simply absent from an agent.
            "prometheus_build_info",
            "prometheus_remote_storage_samples_total",
            "prometheus_engine_query_duration_seconds",
            "prometheus_engine_query_duration_seconds_count",
            "prometheus_remote_storage_enqueue_retries_total",
            "prometheus_remote_storage_samples_in_total",
            "prometheus_remote_storage_shard_capacity",
            "prometheus_remote_storage_shards",
            "prometheus_remote_storage_shards_desired",
            "prometheus_remote_storage_shards_max",
            "prometheus_remote_storage_shards_min",
            "prometheus_sd_discovered_targets",
            "prometheus_target_interval_length_seconds_count",
            "prometheus_target_interval_length_seconds_sum",
            "prometheus_target_scrapes_exceeded_body_size_limit_total",
            "prometheus_target_scrapes_exceeded_sample_limit_total",
            "prometheus_target_scrapes_sample_duplicate_timestamp_total",
            "prometheus_target_scrapes_sample_out_of_bounds_total",
            "prometheus_target_scrapes_sample_out_of_order_total",
            "prometheus_target_sync_length_seconds_sum",
            "prometheus_tsdb_head_chunks",
            "prometheus_tsdb_head_series",
            "prometheus_tsdb_head_samples_appended_total",
            "prometheus_tsdb_wal_segment_current",
            "prometheus_wal_watcher_current_segment",
        ],
        scrapedBy: ["prometheus-agent"],
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
        scrapedBy: ["node-exporter"],
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
        source: "kubernetes/kube-state-metrics internal/store/{pod,statefulset,persistentvolumeclaim,job,namespace,node,replicaset,resourcequota}.go",
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
            // Read by the kubernetes mixin's dashboards and recording rules, whose inputs the edges keep.
            "kube_job_owner",
            "kube_namespace_status_phase",
            "kube_node_info",
            "kube_node_status_allocatable",
            "kube_node_status_capacity",
            "kube_pod_container_resource_limits",
            "kube_pod_info",
            "kube_pod_owner",
            "kube_pod_status_phase",
            "kube_replicaset_owner",
            "kube_resourcequota",
        ],
        scrapedBy: ["kube-state-metrics"],
    },
    nodeExporter: {
        source: "prometheus/node_exporter collector/*.go (the node-exporter mixin's dashboards and recording rules read them)",
        // The chart's appVersion (its image tag is left empty); test/metricNames.test.ts checks it against the chart.
        exporter: { project: "node-exporter", version: "v1.12.1", pin: "the appVersion of the prometheus-node-exporter chart 4.56.1 (lib/versions.ts charts.nodeExporter)" },
        names: [
            "node_cpu_seconds_total",
            "node_disk_io_time_seconds_total",
            "node_disk_io_time_weighted_seconds_total",
            "node_disk_read_bytes_total",
            "node_disk_written_bytes_total",
            "node_exporter_build_info",
            "node_filesystem_avail_bytes",
            "node_filesystem_size_bytes",
            "node_load1",
            "node_load5",
            "node_load15",
            "node_memory_Buffers_bytes",
            "node_memory_Cached_bytes",
            "node_memory_MemAvailable_bytes",
            "node_memory_MemFree_bytes",
            "node_memory_MemTotal_bytes",
            "node_memory_Slab_bytes",
            "node_netstat_TcpExt_TCPSynRetrans",
            "node_netstat_Tcp_OutSegs",
            "node_netstat_Tcp_RetransSegs",
            "node_network_receive_bytes_total",
            "node_network_receive_drop_total",
            "node_network_transmit_bytes_total",
            "node_network_transmit_drop_total",
            "node_time_seconds",
            "node_uname_info",
            "node_vmstat_pgmajfault",
        ],
        scrapedBy: ["node-exporter"],
    },
    cadvisor: {
        source: "google/cadvisor metrics/prometheus.go, docs/storage/prometheus.md (kubelet /metrics/cadvisor); the platform's alerts and the kubernetes mixin read them",
        unpinned: "served by each cluster's own kubelet: the Kubernetes (and cAdvisor) version of the clusters is not pinned by this program",
        names: [
            "container_cpu_usage_seconds_total",
            "container_memory_working_set_bytes",
            "container_cpu_cfs_periods_total",
            "container_cpu_cfs_throttled_periods_total",
            "container_fs_reads_bytes_total",
            "container_fs_reads_total",
            "container_fs_writes_bytes_total",
            "container_fs_writes_total",
            "container_memory_cache",
            "container_memory_rss",
            "container_memory_swap",
            "container_network_receive_bytes_total",
            "container_network_receive_packets_dropped_total",
            "container_network_receive_packets_total",
            "container_network_transmit_bytes_total",
            "container_network_transmit_packets_dropped_total",
            "container_network_transmit_packets_total",
        ],
        scrapedBy: ["cadvisor"],
    },
    kubelet: {
        source:
            "kubernetes pkg/kubelet/metrics/metrics.go and collectors/volume_stats.go, pkg/kubelet/volumemanager/metrics (volume_manager_total_volumes), pkg/volume/util/metrics.go (storage_operation_duration_seconds), component-base's client-go adapter (rest_client_*) (kubelet /metrics); the platform's alerts and the kubernetes mixin read them",
        unpinned: "served by each cluster's own kubelet: the clusters' Kubernetes version is not pinned by this program",
        names: [
            "kubelet_volume_stats_used_bytes",
            "kubelet_volume_stats_available_bytes",
            "kubelet_volume_stats_capacity_bytes",
            "kubelet_volume_stats_inodes",
            "kubelet_volume_stats_inodes_used",
            "kubelet_cgroup_manager_duration_seconds_bucket",
            "kubelet_cgroup_manager_duration_seconds_count",
            "kubelet_node_name",
            "kubelet_pleg_relist_duration_seconds_bucket",
            "kubelet_pleg_relist_duration_seconds_count",
            "kubelet_pleg_relist_interval_seconds_bucket",
            "kubelet_pod_start_duration_seconds_bucket",
            "kubelet_pod_start_duration_seconds_count",
            "kubelet_pod_worker_duration_seconds_bucket",
            "kubelet_pod_worker_duration_seconds_count",
            "kubelet_running_containers",
            "kubelet_running_pods",
            "kubelet_runtime_operations_duration_seconds_bucket",
            "kubelet_runtime_operations_errors_total",
            "kubelet_runtime_operations_total",
            "rest_client_request_duration_seconds_bucket",
            "rest_client_requests_total",
            "storage_operation_duration_seconds_bucket",
            "storage_operation_duration_seconds_count",
            "volume_manager_total_volumes",
        ],
        scrapedBy: ["kubelet"],
    },
    goCollectors: {
        source: "prometheus/client_golang prometheus/process_collector.go and go_collector.go, registered by every Go exporter the edges scrape (node-exporter, the kubelet, Prometheus)",
        unpinned: "client_golang's standard collectors, at the version each exporter's go.mod requires; their names have not changed in client_golang 1.x",
        names: ["go_goroutines", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds"],
        scrapedBy: ["node-exporter", "kubelet", "prometheus-agent"],
    },
    fluentBit: {
        source: "fluent/fluent-bit src/flb_output.c (old metrics API) as /api/v1/metrics/prometheus writes them",
        // The chart's appVersion (its image tag is left empty); test/metricNames.test.ts checks it against the chart.
        exporter: { project: "fluent-bit", version: "v5.1.1", pin: "the appVersion of the fluent-bit chart 0.58.1 (lib/versions.ts charts.fluentBit)" },
        names: ["fluentbit_output_errors_total", "fluentbit_output_retries_failed_total", "fluentbit_output_proc_records_total"],
        scrapedBy: ["fluent-bit"],
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
