import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ALERT_NAMES, AlertName, runbookPath, singleQuotedStrings } from "../lib/alertRules";
import { ROOT } from "../tools/plan";
import { flag, manifest, one, planStack, yaml } from "./helpers/plan";
import { AlertCases, assertAnnotated, assertCasesComplete, promtoolCheckRules, promtoolTestRules } from "./helpers/ruleTests";

/** Go's url.QueryEscape: what Thanos applies to an expression before it fills the link template. */
function goQueryEscape(s: string): string {
    return [...Buffer.from(s, "utf8")].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : b === 0x20 ? "+" : `%${b.toString(16).toUpperCase().padStart(2, "0")}`)).join("");
}

/** cmd/thanos/rule.go tableLinkForExpression at v0.42.4: the template with {{.Expr}} replaced by the escaped expression. */
function thanosLink(template: string, expr: string): string {
    return template.split("{{.Expr}}").join(goQueryEscape(expr));
}

/** The rule file exactly as the cluster-01 ruler loads it (from the plan's ConfigMap). */
async function rulesText(): Promise<string> {
    return manifest(one(await planStack("cluster-01"), "kubernetes:core/v1:ConfigMap", "-ruler-rules")).data["platform.yaml"];
}

const C = 'cluster="cluster-01"';
const E = 'cluster="cluster-03", tenant_id="cluster-03"';
/** Exporter series as they reach Receive: the exporter's own `cluster` renamed by the PodMonitor, ours added. */
const OS = 'cluster="cluster-01", job="opensearch-exporter", opensearch_cluster="opensearch-cluster"';

/** Series of an edge's kube-state-metrics and kubelet as they reach Receive (cluster-03's agent). */
const EK = `${E}, job="kube-state-metrics", namespace="monitoring"`;
const EV = `${E}, job="kubelet", instance="192.168.103.21:10250", node="node-1", namespace="monitoring", persistentvolumeclaim="wal-prometheus-agent-0"`;
const EPVC = { cluster: "cluster-03", tenant_id: "cluster-03", namespace: "monitoring", persistentvolumeclaim: "wal-prometheus-agent-0" };

/**
 * The Kubernetes essentials on the edges (the agent's StatefulSet, its WAL volume, the scrape targets). The same
 * series from cluster-01 must not fire here: cluster-01 is watched by its own Prometheus pair (test below).
 */
const EDGE_KUBE_CASES = {
    PodCrashLooping: {
        firing: {
            series: [[`kube_pod_container_status_waiting_reason{${EK}, pod="prometheus-agent-0", container="prometheus", reason="CrashLoopBackOff"}`, "1x30"]],
            at: "25m",
            labels: { cluster: "cluster-03", tenant_id: "cluster-03", namespace: "monitoring", pod: "prometheus-agent-0", container: "prometheus" },
        },
        silent: { series: [[`kube_pod_container_status_waiting_reason{${EK}, pod="prometheus-agent-0", container="prometheus", reason="ContainerCreating"}`, "1x30"]], at: "25m" },
    },
    StatefulSetReplicasMismatch: {
        firing: {
            series: [
                [`kube_statefulset_status_replicas_ready{${EK}, statefulset="prometheus-agent"}`, "0x30"],
                [`kube_statefulset_replicas{${EK}, statefulset="prometheus-agent"}`, "1x30"],
                [`kube_statefulset_status_replicas_updated{${EK}, statefulset="prometheus-agent"}`, "1x30"],
            ],
            at: "25m",
            labels: { cluster: "cluster-03", tenant_id: "cluster-03", namespace: "monitoring", statefulset: "prometheus-agent" },
        },
        silent: {
            series: [
                [`kube_statefulset_status_replicas_ready{${EK}, statefulset="prometheus-agent"}`, "1x30"],
                [`kube_statefulset_replicas{${EK}, statefulset="prometheus-agent"}`, "1x30"],
                [`kube_statefulset_status_replicas_updated{${EK}, statefulset="prometheus-agent"}`, "1x30"],
            ],
            at: "25m",
        },
    },
    TargetDown: {
        firing: {
            series: [
                [`up{${E}, job="node-exporter", instance="192.168.103.21:9100"}`, "1x20"],
                [`up{${E}, job="node-exporter", instance="192.168.103.22:9100"}`, "0x20"],
            ],
            at: "15m",
            labels: { cluster: "cluster-03", tenant_id: "cluster-03", job: "node-exporter" },
        },
        silent: {
            series: [
                [`up{${E}, job="node-exporter", instance="192.168.103.21:9100"}`, "1x20"],
                [`up{${E}, job="node-exporter", instance="192.168.103.22:9100"}`, "1x20"],
            ],
            at: "15m",
        },
    },
    VolumeFillingUp: {
        // The WAL grows through an outage: 14 % free, losing 0.01 % a minute (empty within a day); the trend needs two
        // samples, then `for` 1h. Samples every 5 minutes.
        firing: { series: [[`kubelet_volume_stats_available_bytes{${EV}}`, "14-0.05x20"], [`kubelet_volume_stats_capacity_bytes{${EV}}`, "100x20"]], at: "75m", interval: "5m", labels: EPVC },
        silent: { series: [[`kubelet_volume_stats_available_bytes{${EV}}`, "14x20"], [`kubelet_volume_stats_capacity_bytes{${EV}}`, "100x20"]], at: "75m", interval: "5m" },
    },
    VolumeFull: {
        firing: { series: [[`kubelet_volume_stats_available_bytes{${EV}}`, "3x20"], [`kubelet_volume_stats_capacity_bytes{${EV}}`, "100x20"]], at: "10m", labels: EPVC },
        silent: { series: [[`kubelet_volume_stats_available_bytes{${EV}}`, "30x20"], [`kubelet_volume_stats_capacity_bytes{${EV}}`, "100x20"]], at: "10m" },
    },
    VolumeUsageUnknown: {
        firing: { series: [[`kube_persistentvolumeclaim_info{${EK}, persistentvolumeclaim="wal-prometheus-agent-0", storageclass="local-path"}`, "1x100"]], at: "90m", labels: EPVC },
        silent: {
            series: [
                [`kube_persistentvolumeclaim_info{${EK}, persistentvolumeclaim="wal-prometheus-agent-0", storageclass="local-path"}`, "1x100"],
                [`kubelet_volume_stats_capacity_bytes{${EV}}`, "100x100"],
            ],
            at: "90m",
        },
    },
} satisfies Partial<Record<AlertName, AlertCases>>;

/**
 * For every alert: synthetic series that make it fire (with the labels it must carry) and a healthy twin that keeps
 * it silent. Watchdog has no silent case: its silence is itself the alarm.
 */
const CASES: Record<AlertName, AlertCases> = {
    Watchdog: { firing: { series: [], at: "1m", labels: {} } },
    WriterStoppedSending: {
        firing: {
            series: (ws) => ws.map((w) => [`up{tenant_id="${w}", job="node-exporter"}`, w === "cluster-03" ? "1x10" : "1x40"]),
            at: "30m",
            labels: { tenant_id: "cluster-03" },
        },
        silent: { series: (ws) => ws.map((w) => [`up{tenant_id="${w}", job="node-exporter"}`, "1x40"]), at: "30m" },
    },
    AgentRemoteWriteFailing: {
        firing: { series: [[`prometheus_remote_storage_samples_failed_total{${E}}`, "0+10x30"]], at: "20m", labels: { cluster: "cluster-03", tenant_id: "cluster-03" } },
        silent: { series: [[`prometheus_remote_storage_samples_failed_total{${E}}`, "0x30"]], at: "20m" },
    },
    AgentRemoteWriteBehind: {
        firing: {
            series: [
                [`prometheus_remote_storage_queue_highest_timestamp_seconds{${E}, remote_name="r", url="u"}`, "0+60x30"],
                [`prometheus_remote_storage_queue_highest_sent_timestamp_seconds{${E}, remote_name="r", url="u"}`, "0x30"],
            ],
            at: "20m",
            labels: { cluster: "cluster-03", tenant_id: "cluster-03" },
        },
        silent: {
            series: [
                [`prometheus_remote_storage_queue_highest_timestamp_seconds{${E}, remote_name="r", url="u"}`, "0+60x30"],
                [`prometheus_remote_storage_queue_highest_sent_timestamp_seconds{${E}, remote_name="r", url="u"}`, "0+60x30"],
            ],
            at: "20m",
        },
    },
    AgentSamplesDropped: {
        firing: { series: [[`prometheus_remote_storage_samples_dropped_total{${E}}`, "0+5x30"]], at: "20m", labels: { cluster: "cluster-03", tenant_id: "cluster-03" } },
        silent: { series: [[`prometheus_remote_storage_samples_dropped_total{${E}}`, "0x30"]], at: "20m" },
    },
    ReceiveRefusingWrites: {
        firing: {
            series: [[`thanos_receive_write_samples_count{${C}, job="thanos-receive", tenant="cluster-03", code="413"}`, "0+1x30"]],
            at: "20m",
            labels: { cluster: "cluster-01", tenant: "cluster-03", code: "413" },
        },
        silent: { series: [[`thanos_receive_write_samples_count{${C}, job="thanos-receive", tenant="cluster-03", code="200"}`, "0+100x30"]], at: "20m" },
    },
    ReceiveReplicationFailing: {
        firing: {
            series: [
                [`thanos_receive_replications_total{${C}, job="thanos-receive", result="error"}`, "0+9x30"],
                [`thanos_receive_replications_total{${C}, job="thanos-receive", result="success"}`, "0+1x30"],
                [`thanos_receive_replication_factor{${C}, job="thanos-receive"}`, "3x30"],
                [`thanos_receive_hashring_nodes{${C}, job="thanos-receive"}`, "3x30"],
            ],
            at: "20m",
            labels: { cluster: "cluster-01" },
        },
        silent: {
            series: [
                // One replica down: a third of the replications fail, which the quorum (2 of 3) tolerates.
                [`thanos_receive_replications_total{${C}, job="thanos-receive", result="error"}`, "0+3x30"],
                [`thanos_receive_replications_total{${C}, job="thanos-receive", result="success"}`, "0+6x30"],
                [`thanos_receive_replication_factor{${C}, job="thanos-receive"}`, "3x30"],
                [`thanos_receive_hashring_nodes{${C}, job="thanos-receive"}`, "3x30"],
            ],
            at: "20m",
        },
    },
    ReceiveHashringReloadFailing: {
        firing: { series: [[`thanos_receive_config_last_reload_successful{${C}, job="thanos-receive", pod="thanos-receive-1"}`, "0x20"]], at: "10m", labels: { cluster: "cluster-01", pod: "thanos-receive-1" } },
        silent: { series: [[`thanos_receive_config_last_reload_successful{${C}, job="thanos-receive", pod="thanos-receive-1"}`, "1x20"]], at: "10m" },
    },
    ReceiveTenantNearHeadSeriesLimit: {
        // cluster-01's config: 54,000 expected series, limit 81,000 unique (× 1.5, lib/sizing.ts), 243,000 as the
        // receivers' heads count them (RF 3); warn at 80 % (194,400).
        firing: { series: [[`prometheus_tsdb_head_series{${C}, job="thanos-receive", tenant="cluster-03"}`, "200000x30"]], at: "20m", labels: { tenant: "cluster-03" } },
        silent: { series: [[`prometheus_tsdb_head_series{${C}, job="thanos-receive", tenant="cluster-03"}`, "190000x30"]], at: "20m" },
    },
    ReceiveTenantLimited: {
        firing: { series: [[`thanos_receive_head_series_limited_requests_total{${C}, job="thanos-receive", tenant="cluster-03"}`, "0+1x10"]], at: "5m", labels: { cluster: "cluster-01", tenant: "cluster-03" } },
        silent: { series: [[`thanos_receive_head_series_limited_requests_total{${C}, job="thanos-receive", tenant="cluster-03"}`, "0x10"]], at: "5m" },
    },
    CompactorHalted: {
        firing: { series: [[`thanos_compact_halted{${C}, job="thanos-compact"}`, "1x10"]], at: "10m", labels: { cluster: "cluster-01" } },
        silent: { series: [[`thanos_compact_halted{${C}, job="thanos-compact"}`, "0x10"]], at: "10m" },
    },
    BucketOperationsFailing: {
        firing: {
            series: [
                [`thanos_objstore_bucket_operations_total{${C}, job="thanos-store"}`, "0+10x30"],
                [`thanos_objstore_bucket_operation_failures_total{${C}, job="thanos-store"}`, "0+5x30"],
            ],
            at: "25m",
            labels: { cluster: "cluster-01", job: "thanos-store" },
        },
        silent: {
            series: [
                [`thanos_objstore_bucket_operations_total{${C}, job="thanos-store"}`, "0+10x30"],
                [`thanos_objstore_bucket_operation_failures_total{${C}, job="thanos-store"}`, "0x30"],
            ],
            at: "25m",
        },
    },
    ReceiveUploadsFailing: {
        firing: { series: [[`thanos_shipper_upload_failures_total{${C}, job="thanos-receive", pod="thanos-receive-0"}`, "0+1x60"]], at: "45m", labels: { cluster: "cluster-01", pod: "thanos-receive-0" } },
        silent: { series: [[`thanos_shipper_upload_failures_total{${C}, job="thanos-receive", pod="thanos-receive-0"}`, "0x60"]], at: "45m" },
    },
    ReceiveNotUploading: {
        // Samples every 5 minutes.
        firing: {
            series: [
                [`thanos_shipper_uploads_total{${C}, job="thanos-receive", pod="thanos-receive-0"}`, "5x80"],
                [`up{${C}, job="thanos-receive", pod="thanos-receive-0"}`, "1x80"],
            ],
            at: "4h",
            interval: "5m",
            labels: { cluster: "cluster-01", pod: "thanos-receive-0" },
        },
        // A block every 2h, the first one 2h after start: the quiet start does not last the 3h of `for`.
        silent: {
            series: [
                [`thanos_shipper_uploads_total{${C}, job="thanos-receive", pod="thanos-receive-0"}`, "0x23 1x23 2x32"],
                [`up{${C}, job="thanos-receive", pod="thanos-receive-0"}`, "1x80"],
            ],
            at: "4h",
            interval: "5m",
        },
    },
    ReceiveLatencyHigh: {
        firing: {
            series: [
                [`http_request_duration_seconds_bucket{${C}, job="thanos-receive", handler="receive", le="1"}`, "0x30"],
                [`http_request_duration_seconds_bucket{${C}, job="thanos-receive", handler="receive", le="30"}`, "0+10x30"],
                [`http_request_duration_seconds_bucket{${C}, job="thanos-receive", handler="receive", le="+Inf"}`, "0+10x30"],
                [`http_request_duration_seconds_count{${C}, job="thanos-receive", handler="receive"}`, "0+10x30"],
            ],
            at: "25m",
            labels: { cluster: "cluster-01" },
        },
        silent: {
            series: [
                [`http_request_duration_seconds_bucket{${C}, job="thanos-receive", handler="receive", le="1"}`, "0+10x30"],
                [`http_request_duration_seconds_bucket{${C}, job="thanos-receive", handler="receive", le="30"}`, "0+10x30"],
                [`http_request_duration_seconds_bucket{${C}, job="thanos-receive", handler="receive", le="+Inf"}`, "0+10x30"],
                [`http_request_duration_seconds_count{${C}, job="thanos-receive", handler="receive"}`, "0+10x30"],
            ],
            at: "25m",
        },
    },
    ReceiveLimitsReloadFailing: {
        firing: { series: [[`thanos_receive_limits_config_reload_err_total{${C}, job="thanos-receive", pod="thanos-receive-2"}`, "0+1x20"]], at: "15m", labels: { cluster: "cluster-01", pod: "thanos-receive-2" } },
        silent: { series: [[`thanos_receive_limits_config_reload_err_total{${C}, job="thanos-receive", pod="thanos-receive-2"}`, "0x20"]], at: "15m" },
    },
    ReceiveMetaMonitoringFailing: {
        firing: { series: [[`thanos_receive_metamonitoring_failed_queries_total{${C}, job="thanos-receive", pod="thanos-receive-1"}`, "0+1x20"]], at: "15m", labels: { cluster: "cluster-01", pod: "thanos-receive-1" } },
        // One failed query in 5 minutes (of about 20) is no outage.
        silent: { series: [[`thanos_receive_metamonitoring_failed_queries_total{${C}, job="thanos-receive", pod="thanos-receive-1"}`, "0+0.2x20"]], at: "15m" },
    },
    CompactionsFailing: {
        firing: {
            series: [
                [`thanos_compact_group_compactions_total{${C}, job="thanos-compact", resolution="0"}`, "0+10x30"],
                [`thanos_compact_group_compactions_failures_total{${C}, job="thanos-compact", resolution="0"}`, "0+2x30"],
            ],
            at: "25m",
            labels: { cluster: "cluster-01" },
        },
        silent: {
            series: [
                [`thanos_compact_group_compactions_total{${C}, job="thanos-compact", resolution="0"}`, "0+10x30"],
                [`thanos_compact_group_compactions_failures_total{${C}, job="thanos-compact", resolution="0"}`, "0x30"],
            ],
            at: "25m",
        },
    },
    CompactorNotRunning: {
        // The gauge is a Unix time: an upload 25h before promtool's clock starts (at 0) is over 24h old at once.
        firing: { series: [[`thanos_objstore_bucket_last_successful_upload_time{${C}, job="thanos-compact", pod="thanos-compact-0"}`, "-90000x100"]], at: "75m", labels: { cluster: "cluster-01" } },
        // An upload every minute: the gauge follows the clock.
        silent: { series: [[`thanos_objstore_bucket_last_successful_upload_time{${C}, job="thanos-compact", pod="thanos-compact-0"}`, "0+60x100"]], at: "75m" },
    },
    BucketOperationsSlow: {
        firing: {
            series: [
                [`thanos_objstore_bucket_operation_duration_seconds_bucket{${C}, job="thanos-store", operation="get_range", le="1"}`, "0x30"],
                [`thanos_objstore_bucket_operation_duration_seconds_bucket{${C}, job="thanos-store", operation="get_range", le="5"}`, "0+10x30"],
                [`thanos_objstore_bucket_operation_duration_seconds_bucket{${C}, job="thanos-store", operation="get_range", le="+Inf"}`, "0+10x30"],
                [`thanos_objstore_bucket_operation_duration_seconds_count{${C}, job="thanos-store", operation="get_range"}`, "0+10x30"],
            ],
            at: "25m",
            labels: { cluster: "cluster-01", job: "thanos-store" },
        },
        silent: {
            series: [
                [`thanos_objstore_bucket_operation_duration_seconds_bucket{${C}, job="thanos-store", operation="get_range", le="1"}`, "0+10x30"],
                [`thanos_objstore_bucket_operation_duration_seconds_bucket{${C}, job="thanos-store", operation="get_range", le="5"}`, "0+10x30"],
                [`thanos_objstore_bucket_operation_duration_seconds_bucket{${C}, job="thanos-store", operation="get_range", le="+Inf"}`, "0+10x30"],
                [`thanos_objstore_bucket_operation_duration_seconds_count{${C}, job="thanos-store", operation="get_range"}`, "0+10x30"],
            ],
            at: "25m",
        },
    },
    QueryLatencySLO: {
        firing: {
            series: [
                [`http_request_duration_seconds_bucket{${C}, job="thanos-query-frontend", handler="query-frontend", le="1"}`, "0x30"],
                [`http_request_duration_seconds_bucket{${C}, job="thanos-query-frontend", handler="query-frontend", le="30"}`, "0+10x30"],
                [`http_request_duration_seconds_bucket{${C}, job="thanos-query-frontend", handler="query-frontend", le="+Inf"}`, "0+10x30"],
            ],
            at: "25m",
            labels: { cluster: "cluster-01" },
        },
        silent: {
            series: [
                [`http_request_duration_seconds_bucket{${C}, job="thanos-query-frontend", handler="query-frontend", le="1"}`, "0+10x30"],
                [`http_request_duration_seconds_bucket{${C}, job="thanos-query-frontend", handler="query-frontend", le="30"}`, "0+10x30"],
                [`http_request_duration_seconds_bucket{${C}, job="thanos-query-frontend", handler="query-frontend", le="+Inf"}`, "0+10x30"],
            ],
            at: "25m",
        },
    },
    CacheHitRatioLow: {
        firing: {
            series: [
                [`memcached_commands_total{${C}, job="memcached", command="get", status="hit"}`, "0+1x60"],
                [`memcached_commands_total{${C}, job="memcached", command="get", status="miss"}`, "0+9x60"],
            ],
            at: "45m",
            labels: { cluster: "cluster-01" },
        },
        silent: {
            series: [
                [`memcached_commands_total{${C}, job="memcached", command="get", status="hit"}`, "0+9x60"],
                [`memcached_commands_total{${C}, job="memcached", command="get", status="miss"}`, "0+1x60"],
            ],
            at: "45m",
        },
    },
    PlatformContainerOOMKilled: {
        firing: {
            series: [
                [`kube_pod_container_status_last_terminated_reason{${C}, namespace="thanos", pod="thanos-receive-0", container="thanos-receive", reason="OOMKilled"}`, "1x20"],
                [`kube_pod_container_status_restarts_total{${C}, namespace="thanos", pod="thanos-receive-0", container="thanos-receive"}`, "0 0 0 0 0 1x15"],
            ],
            at: "10m",
            labels: { cluster: "cluster-01", namespace: "thanos", pod: "thanos-receive-0", container: "thanos-receive" },
        },
        silent: {
            // An OOM kill long ago: the reason stays on the pod, but it does not restart any more.
            series: [
                [`kube_pod_container_status_last_terminated_reason{${C}, namespace="thanos", pod="thanos-receive-0", container="thanos-receive", reason="OOMKilled"}`, "1x20"],
                [`kube_pod_container_status_restarts_total{${C}, namespace="thanos", pod="thanos-receive-0", container="thanos-receive"}`, "1x20"],
            ],
            at: "10m",
        },
    },
    LogShippingFailing: {
        firing: { series: [[`fluentbit_output_errors_total{cluster="cluster-03", name="opensearch.0"}`, "0+1x30"]], at: "20m", labels: { cluster: "cluster-03" } },
        silent: { series: [[`fluentbit_output_errors_total{cluster="cluster-03", name="opensearch.0"}`, "0x30"]], at: "20m" },
    },
    OpenSearchClusterRed: {
        firing: {
            series: ["green", "yellow", "red"].map((color) => [`elasticsearch_cluster_health_status{${OS}, color="${color}"}`, color === "red" ? "0 0 1x20" : "1 1 0x20"]),
            at: "10m",
            labels: { cluster: "cluster-01" },
        },
        // Yellow (a replica unassigned, e.g. while a node restarts) is not red.
        silent: {
            series: ["green", "yellow", "red"].map((color) => [`elasticsearch_cluster_health_status{${OS}, color="${color}"}`, color === "yellow" ? "1x20" : "0x20"]),
            at: "10m",
        },
    },
    OpenSearchDiskLow: {
        firing: {
            series: [
                [`elasticsearch_filesystem_data_available_bytes{${OS}, name="opensearch-cluster-master-1", mount="/data"}`, "30 20 15x30"],
                [`elasticsearch_filesystem_data_size_bytes{${OS}, name="opensearch-cluster-master-1", mount="/data"}`, "100x32"],
                [`elasticsearch_filesystem_data_available_bytes{${OS}, name="opensearch-cluster-master-0", mount="/data"}`, "60x32"],
                [`elasticsearch_filesystem_data_size_bytes{${OS}, name="opensearch-cluster-master-0", mount="/data"}`, "100x32"],
            ],
            at: "20m",
            labels: { cluster: "cluster-01", name: "opensearch-cluster-master-1" },
        },
        silent: {
            series: [
                [`elasticsearch_filesystem_data_available_bytes{${OS}, name="opensearch-cluster-master-1", mount="/data"}`, "25x32"],
                [`elasticsearch_filesystem_data_size_bytes{${OS}, name="opensearch-cluster-master-1", mount="/data"}`, "100x32"],
            ],
            at: "20m",
        },
    },
    OpenSearchHealthUnknown: {
        // The exporter answers but its health series stop (OpenSearch refuses its user, say).
        firing: {
            series: [
                [`up{${C}, job="opensearch-exporter", prometheus_replica="prometheus-kps-prometheus-0"}`, "1x40"],
                [`elasticsearch_cluster_health_status{${OS}, color="green"}`, "1x5"],
            ],
            at: "30m",
            labels: { cluster: "cluster-01" },
        },
        silent: {
            series: [
                [`up{${C}, job="opensearch-exporter", prometheus_replica="prometheus-kps-prometheus-0"}`, "1x40"],
                [`elasticsearch_cluster_health_status{${OS}, color="green"}`, "1x40"],
            ],
            at: "30m",
        },
    },
    ...EDGE_KUBE_CASES,
    AgentConfigReloadFailing: {
        firing: { series: [[`prometheus_config_last_reload_successful{${E}, job="prometheus-agent", instance="localhost:9090"}`, "1 1 0x30"]], at: "20m", labels: { cluster: "cluster-03", tenant_id: "cluster-03" } },
        silent: { series: [[`prometheus_config_last_reload_successful{${E}, job="prometheus-agent", instance="localhost:9090"}`, "1x30"]], at: "20m" },
    },
    CertificateExpiringSoon: {
        // The edge's node-exporters publish its client certificate's NotAfter: 600000 s is under 7 days after
        // promtool's clock starts (0).
        firing: {
            series: [[`agent_receiver_certificate_expiry_timestamp_seconds{${E}, job="node-exporter", instance="192.168.103.21:9100", certificate="remote-write-client", writer="cluster-03"}`, "600000x10"]],
            at: "5m",
            labels: { cluster: "cluster-03", tenant_id: "cluster-03", certificate: "remote-write-client", writer: "cluster-03" },
        },
        silent: { series: [[`agent_receiver_certificate_expiry_timestamp_seconds{${E}, job="node-exporter", instance="192.168.103.21:9100", certificate="remote-write-client", writer="cluster-03"}`, "5000000x10"]], at: "5m" },
    },
};

describe("Alert rules (Thanos Ruler, global view)", () => {
    let text: string;
    let rules: any;
    let writers: string[];
    before(async () => {
        text = await rulesText();
        rules = yaml(text);
        writers = (await planStack("cluster-01")).outputs.writers as string[];
    });

    it("the rule file the ruler loads passes the real promtool check rules", () => {
        assert.match(promtoolCheckRules(text), new RegExp(`SUCCESS: ${ALERT_NAMES.length} rules found`));
    });

    it("every alert has a severity, summary, description and a runbook link to a path in this repository", () => {
        assertAnnotated(rules.groups[0], ALERT_NAMES, runbookPath);
    });

    it("every alert has a firing case and (except Watchdog) a silent case below", () => {
        assertCasesComplete(ALERT_NAMES, CASES, ["Watchdog"]);
    });

    it("promtool test rules: each alert fires from its synthetic series and stays silent when healthy", () => {
        promtoolTestRules(rules, ALERT_NAMES, CASES, writers);
    });

    it("a broken rule makes promtool test rules fail (the test above can fail)", () => {
        const broken = yaml(text.replace("thanos_compact_halted{", "thanos_compact_halted_typo{"));
        assert.throws(() => promtoolTestRules(broken, ["CompactorHalted"], CASES), /promtool test rules failed/);
    });

    it("the Kubernetes essentials leave cluster-01 to its own Prometheus pair: the same series from there stay silent here", () => {
        const central = (c: (typeof EDGE_KUBE_CASES)[keyof typeof EDGE_KUBE_CASES]) => ({
            firing: c.firing,
            silent: { ...c.firing, series: (c.firing.series as [string, string][]).map(([s, v]) => [s.replace('cluster="cluster-03", tenant_id="cluster-03"', 'cluster="cluster-01", tenant_id="cluster-01"'), v] as [string, string]) },
        });
        const names = Object.keys(EDGE_KUBE_CASES) as (keyof typeof EDGE_KUBE_CASES)[];
        promtoolTestRules(rules, names, Object.fromEntries(names.map((n) => [n, central(EDGE_KUBE_CASES[n])])));
    });

    it("every alert's source link opens its expression in Grafana's Explore, built the way Thanos builds it", async () => {
        const args: string[] = manifest(one(await planStack("cluster-01"), "kubernetes:apps/v1:StatefulSet", "-ruler-statefulset")).spec.template.spec.containers[0].args;
        const queryUrl = flag(args, "alert.query-url")!;
        const template = flag(args, "alert.query-template")!;
        assert.strictEqual(queryUrl, "https://grafana.cluster-01.example.internal");
        for (const r of rules.groups[0].rules) {
            const url: URL = new URL(queryUrl + thanosLink(template, r.expr as string));
            assert.strictEqual(url.pathname, "/explore");
            const pane = JSON.parse(url.searchParams.get("panes")!).alert;
            assert.strictEqual(pane.queries[0].expr, r.expr, r.alert);
            assert.strictEqual(pane.datasource, "thanos");
        }
        // The same link with the expression's strings double-quoted is no JSON: why the file quotes them with '.
        const doubled = new URL(queryUrl + thanosLink(template, 'up{job="thanos-query"}'));
        assert.throws(() => JSON.parse(doubled.searchParams.get("panes")!));
        assert.throws(() => singleQuotedStrings('up{job=~"a\\.b"}'), /cannot travel in an alert link/);
    });

    it("the ruler evaluates this file against Thanos Query and sends to every Alertmanager replica", async () => {
        const sts = manifest(one(await planStack("cluster-01"), "kubernetes:apps/v1:StatefulSet", "-ruler-statefulset"));
        const args: string[] = sts.spec.template.spec.containers[0].args;
        assert.ok(args.includes("--query=thanos-query.thanos.svc.cluster.local:10902"), args.join(" "));
        assert.ok(args.includes("--alertmanagers.url=dns+http://alertmanager-operated.monitoring.svc.cluster.local:9093"));
        assert.ok(args.includes("--alert.label-drop=ruler_replica"), "replicas must send identical alerts");
        assert.strictEqual(sts.spec.replicas, 2);
        assert.ok(args.includes("--rule-file=/etc/thanos/rules/*.yaml"));
    });

    it("runbook links resolve to files in the repository", function () {
        const missing = ALERT_NAMES.map(runbookPath).filter((p) => !fs.existsSync(path.join(ROOT, p)));
        assert.deepStrictEqual(missing, [], "runbooks missing under docs/ko/runbooks/");
    });
});
