/**
 * The filtering benchmark: bytes and samples the edge agent sends per infrastructure job, with the generated
 * metric relabelling (keep-lists, series and label drops) and without any, over one simulated edge cluster.
 *
 * What runs: Debian's Prometheus 2.42 twice in agent mode, the generated cluster-03 configuration in its compatibility
 * rendering (scripts/lib/harness.ts localAgentConfig), at the generated scrape interval; "after" as generated, "before"
 * with every job's metric_relabel_configs removed. Each agent writes over mTLS to one receiver (a Prometheus with the
 * remote-write receiver), through one remote_write entry per job (write relabelling keeps that job only: the
 * generated one, the tenant-label drop, stays first), so that Prometheus' own per-queue counters give each job's bytes.
 *
 * Targets, for `nodes` nodes:
 * - node-exporter: the REAL Debian prometheus-node-exporter of this machine, scraped once per node (its series carry
 *   each node's name), as the agents scrape one node-exporter per node;
 * - cAdvisor: per node, the container, pod-sandbox and pod cgroups of `podsPerNode` pods plus the node's system
 *   cgroups, with every family cAdvisor v0.52.1 defines in the metric sets the kubelet enables
 *   (test/fixtures/upstream/cadvisor-v0.52.1/families.txt) and the labels the kubelet writes (id as a systemd cgroup
 *   path, name as the 64-hex container id, image, container, pod, namespace);
 * - kubelet: per node, the families a kubelet's /metrics serves (KUBELET_FAMILIES below: the names of kubernetes
 *   pkg/kubelet/metrics/metrics.go, the volume manager, storage operations, client-go, component-base, Go runtime),
 *   with the label values and histogram buckets they have;
 * - kube-state-metrics: one instance for the cluster, every default family kube-state-metrics v2.20.0 documents
 *   (test/fixtures/upstream/kube-state-metrics-v2.20.0/families.txt) for the objects of the simulated cluster
 *   (`CLUSTER_OBJECTS`), enumerated label values expanded as kube-state-metrics does (a series per phase, per
 *   condition status), families that only exist in some states (waiting, terminated, deleting) for a tenth of objects;
 * - the agent's own metrics (job prometheus-agent), real. Each agent here has a queue per job, so its per-queue
 *   metrics are larger than a deployed agent's (one queue), before and after alike.
 * Fluent Bit is not run here (no binary): its job is not measured. Tenant applications (the `pods` job) are not
 * filtered and not part of the infrastructure total.
 *
 * Figures: samples per scrape per job, read at the receiver (scrape_samples_post_metric_relabeling summed over the
 * job's targets, plus Prometheus' 5 scrape series per target); bytes per sample per job from the agent's
 * prometheus_remote_storage_bytes_total / prometheus_remote_storage_samples_total of that job's queue over the
 * measurement window; bytes per second = samples per scrape / interval x bytes per sample. Metadata is counted apart
 * by Prometheus and reported beside (the generated configuration sends none).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { parse as parseYaml, stringify } from "yaml";
import { INFRA_JOBS } from "../../lib/agentConfig";
import { durationSeconds } from "../../lib/config";
import { planStack } from "../../tools/plan";
import { upstreamFile, upstreamFolder } from "../../tools/upstream";
import { Harness, agentArgs, freePort, generatedAgentFlags, getJson, localAgentConfig, sleep, waitFor } from "./harness";

export interface FilteringOptions {
    /** Nodes of the simulated edge cluster (kubelet, cAdvisor and node-exporter targets each). */
    readonly nodes?: number;
    readonly podsPerNode?: number;
    /** Measurement window after the warm-up, in scrape intervals. */
    readonly windowIntervals?: number;
}

export interface JobFigures {
    readonly job: string;
    readonly targets: number;
    readonly before: { samplesPerScrape: number; bytesPerSample: number; bytesPerSecond: number; metadataBytesPerMinute: number };
    readonly after: { samplesPerScrape: number; bytesPerSample: number; bytesPerSecond: number; metadataBytesPerMinute: number };
}

export interface FilteringResult {
    readonly scrapeInterval: string;
    readonly jobs: JobFigures[];
    /** Infrastructure total, bytes per second of samples, before and after, and the reduction (0..1). */
    readonly total: { before: number; after: number; reduction: number; metadataBefore: number; metadataAfter: number };
}

/** The design notes' network figure (platform-design-notes.ko.md, "After": 네트워크 8MB/s, -46 %). */
const DESIGN_NOTES_REDUCTION = 0.46;
/** Series Prometheus adds to every scrape (up, scrape_duration_seconds, scrape_samples_scraped, scrape_samples_post_metric_relabeling, scrape_series_added). */
const SCRAPE_SERIES_PER_TARGET = 5;

// ---------------------------------------------------------------------------------------------------------------
// The simulated cluster
// ---------------------------------------------------------------------------------------------------------------

/** Deterministic pseudo-random numbers, so that every run serves the same shapes. */
function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const hex = (r: () => number, n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join("");
const uuid = (r: () => number) => `${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}`;

interface Container {
    readonly name: string;
    readonly image: string;
    readonly id: string;
}
interface Pod {
    readonly namespace: string;
    readonly name: string;
    readonly uid: string;
    readonly node: string;
    readonly owner: { kind: string; name: string };
    readonly qos: "burstable" | "besteffort" | "guaranteed";
    readonly containers: Container[];
    readonly init: Container[];
    readonly sandbox: string;
    readonly pvc?: string;
}

const NAMESPACES = ["shop-frontend", "shop-backend", "payments", "search", "recommendations", "identity", "messaging", "analytics-batch", "kube-system", "monitoring", "logging-node", "ingress"];

/** Objects besides pods, per cluster of `nodes` nodes (a Deployment keeps revisionHistoryLimit old ReplicaSets). */
function clusterObjects(nodes: number, pods: number): Record<string, number> {
    const deployments = Math.round(pods * 0.28);
    return {
        namespace: NAMESPACES.length,
        node: nodes,
        deployment: deployments,
        replicaset: deployments * 4,
        statefulset: Math.round(pods * 0.04),
        daemonset: 6,
        job: 6,
        cronjob: 2,
        service: Math.round(pods * 0.35),
        endpointslice: Math.round(pods * 0.35),
        endpoint: Math.round(pods * 0.35),
        configmap: NAMESPACES.length * 3,
        persistentvolumeclaim: Math.round(pods * 0.06),
        persistentvolume: Math.round(pods * 0.06),
        poddisruptionbudget: 8,
        horizontalpodautoscaler: 4,
        serviceaccount: NAMESPACES.length * 2,
        resourcequota: 4,
        limitrange: 4,
        networkpolicy: NAMESPACES.length * 2,
        lease: nodes + 8,
        storageclass: 1,
        ingressclass: 1,
        mutatingwebhookconfiguration: 2,
        validatingwebhookconfiguration: 3,
        clusterrole: 70,
        clusterrolebinding: 55,
        role: 20,
        rolebinding: 25,
    };
}

function makePods(nodes: number, perNode: number): Pod[] {
    const r = rng(42);
    const pods: Pod[] = [];
    for (let n = 1; n <= nodes; n++) {
        for (let i = 0; i < perNode; i++) {
            const namespace = NAMESPACES[(n * 7 + i) % NAMESPACES.length];
            const app = `${namespace.split("-")[0]}-svc${i % 9}`;
            const stateful = i % 12 === 0;
            const rs = hex(r, 10);
            const name = stateful ? `${app}-db-${n - 1}` : `${app}-${rs}-${hex(r, 5)}`;
            const containers = Array.from({ length: i % 2 === 0 ? 1 : 2 }, (_, k) => ({
                name: k === 0 ? "app" : "sidecar-proxy",
                image: `registry.example.internal/${namespace}/${k === 0 ? app : "envoy"}:1.${i % 7}.${k}`,
                id: hex(r, 64),
            }));
            const init = i % 5 === 0 ? [{ name: "init-schema", image: `registry.example.internal/${namespace}/migrate:2.${i % 3}.0`, id: hex(r, 64) }] : [];
            pods.push({
                namespace,
                name,
                uid: uuid(r),
                node: `edge-node-${n}`,
                owner: stateful ? { kind: "StatefulSet", name: `${app}-db` } : { kind: "ReplicaSet", name: `${app}-${rs}` },
                qos: (["burstable", "besteffort", "guaranteed"] as const)[i % 3],
                containers,
                init,
                sandbox: hex(r, 64),
                pvc: stateful ? `data-${name}` : undefined,
            });
        }
    }
    return pods;
}

type Series = [name: string, labels: Record<string, string>];

function render(series: Series[], r: () => number): string {
    const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
    return (
        series
            .map(([n, l]) => `${n}{${Object.entries(l).filter(([, v]) => v !== "").map(([k, v]) => `${k}="${esc(v)}"`).join(",")}} ${(r() * 1e6).toFixed(3)}`)
            .join("\n") + "\n"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// cAdvisor
// ---------------------------------------------------------------------------------------------------------------

/** The metric sets the kubelet enables for /metrics/cadvisor (kubernetes pkg/kubelet/server/server.go). */
const KUBELET_CADVISOR_SETS = new Set(["always", "spec", "CpuUsageMetrics", "MemoryUsageMetrics", "CpuLoadMetrics", "DiskIOMetrics", "DiskUsageMetrics", "NetworkUsageMetrics", "ProcessMetrics", "OOMMetrics", "machine"]);

interface CadvisorFamily {
    readonly name: string;
    readonly set: string;
    readonly extra: string[];
}

function cadvisorFamilies(): CadvisorFamily[] {
    const dir = upstreamFolder("cadvisor", "v0.52.1", "the benchmark's cAdvisor families (see SOURCE.json)");
    return upstreamFile(dir, "families.txt")
        .split("\n")
        .filter((l) => l.trim() !== "" && !l.startsWith("#"))
        .map((l) => l.split("\t"))
        .map(([name, set, extra]) => ({ name, set, extra: extra === "-" ? [] : extra.split(",") }))
        .filter((f) => KUBELET_CADVISOR_SETS.has(f.set));
}

const EXTRA_VALUES: Record<string, string[]> = {
    cpu: ["total"],
    state: ["sleeping", "running", "stopped", "uninterruptible", "iowaiting"],
    failure_type: ["pgfault", "pgmajfault"],
    scope: ["container", "hierarchy"],
    device: ["/dev/nvme0n1"],
    major: ["259"],
    minor: ["0"],
    operation: ["Read", "Write", "Sync", "Async", "Discard", "Total"],
    interface: ["eth0"],
    ulimit: ["max_open_files"],
    type: ["unified"],
    mode: ["memory_mode"],
};

/** One node's cAdvisor exposition. */
function cadvisorSeries(node: number, pods: Pod[], families: CadvisorFamily[]): Series[] {
    const out: Series[] = [];
    const combos = (extra: string[]): Record<string, string>[] =>
        extra.reduce<Record<string, string>[]>((acc, l) => acc.flatMap((c) => (EXTRA_VALUES[l] ?? ["x"]).map((v) => ({ ...c, [l]: v }))), [{}]);
    const emit = (base: Record<string, string>, kind: "container" | "sandbox" | "pod" | "system") => {
        for (const f of families) {
            if (f.name.startsWith("machine_")) continue;
            // Network statistics belong to the pod's network namespace: cAdvisor reports them on the sandbox.
            if (f.set === "NetworkUsageMetrics" && kind !== "sandbox") continue;
            // Filesystem usage is per container root filesystem.
            if (f.set === "DiskUsageMetrics" && kind !== "container") continue;
            for (const c of combos(f.extra)) out.push([f.name, { ...base, ...c }]);
        }
    };
    for (const slice of ["/", "/system.slice", "/kubepods.slice", "/kubepods.slice/kubepods-burstable.slice", "/kubepods.slice/kubepods-besteffort.slice", "/user.slice"]) {
        emit({ id: slice }, "system");
    }
    for (const svc of ["containerd", "kubelet", "systemd-journald", "systemd-logind", "systemd-resolved", "systemd-networkd", "systemd-udevd", "sshd", "cron", "dbus", "chrony", "rsyslog", "polkit", "multipathd", "snapd", "iscsid", "unattended-upgrades", "ModemManager"]) {
        emit({ id: `/system.slice/${svc}.service` }, "system");
    }
    for (const p of pods.filter((x) => x.node === `edge-node-${node}`)) {
        const podCgroup = `/kubepods.slice/kubepods-${p.qos}.slice/kubepods-${p.qos}-pod${p.uid.replace(/-/g, "_")}.slice`;
        const base = { namespace: p.namespace, pod: p.name };
        emit({ ...base, id: podCgroup }, "pod");
        emit({ ...base, id: `${podCgroup}/cri-containerd-${p.sandbox}.scope`, image: "registry.k8s.io/pause:3.10", name: p.sandbox }, "sandbox");
        for (const c of p.containers) emit({ ...base, container: c.name, id: `${podCgroup}/cri-containerd-${c.id}.scope`, image: c.image, name: c.id }, "container");
    }
    for (const f of families.filter((x) => x.name.startsWith("machine_"))) {
        out.push([f.name, { boot_id: "9d0c3c7a-4a5e-4c5f-8f0e-1c2d3e4f5a6b", machine_id: "4f0e1d2c3b4a59687766554433221100", system_uuid: "ec2a1b2c-3d4e-5f60-7182-93a4b5c6d7e8" }]);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// kubelet
// ---------------------------------------------------------------------------------------------------------------

const DEF_BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"];
const exp = (start: number, factor: number, n: number) => Array.from({ length: n }, (_, i) => String(Number((start * factor ** i).toPrecision(4))));
const REST_BUCKETS = ["0.005", "0.025", "0.1", "0.25", "0.5", "1", "2", "4", "8", "15", "30", "60"];
const SIZE_BUCKETS = exp(64, 4, 8);
const POD_START_BUCKETS = ["0.5", "1", "2", "3", "4", "5", "6", "8", "10", "20", "30", "45", "60", "120", "180", "240", "300", "360", "480", "600", "900", "1200", "1800", "2700", "3600"];
const STORAGE_BUCKETS = ["0.1", "0.25", "0.5", "1", "2.5", "5", "10", "15", "25", "50", "120", "300", "600"];
const RUNTIME_OPS = [
    "container_status", "create_container", "exec_sync", "image_fs_info", "image_status", "list_containers", "list_images", "list_podsandbox", "podsandbox_status", "pull_image", "remove_container",
    "remove_podsandbox", "run_podsandbox", "start_container", "status", "stop_container", "stop_podsandbox", "update_runtime_config", "version", "list_container_stats", "list_podsandbox_stats", "runtime_config",
];
const HOSTS = ["10.96.0.1:443"];
const VERBS = ["GET", "LIST", "PATCH", "POST", "PUT", "WATCH"];
const VOLUME_PLUGINS = ["kubernetes.io/configmap", "kubernetes.io/secret", "kubernetes.io/projected", "kubernetes.io/empty-dir", "kubernetes.io/downward-api", "kubernetes.io/csi:rancher.io/local-path"];

interface KubeletFamily {
    readonly name: string;
    /** Label → values (the product is emitted). */
    readonly labels?: Record<string, string[]>;
    /** Histogram buckets: emits _bucket (with +Inf), _sum and _count. */
    readonly buckets?: string[];
    /** Summary quantiles: emits the quantiles, _sum and _count. */
    readonly quantiles?: string[];
}

/** Feature gates a 1.3x kubelet reports (kubernetes_feature_enabled{name, stage}): some 250; names stand in. */
const FEATURE_GATES = Array.from({ length: 250 }, (_, i) => `SyntheticFeatureGateName${String(i).padStart(3, "0")}`);

/**
 * The families of a kubelet's /metrics (Kubernetes 1.3x), with the label values a node with ~30 pods shows. Names as
 * the kubelet registers them: kubernetes pkg/kubelet/metrics/metrics.go (kubelet_*), pkg/kubelet/volumemanager/metrics
 * (volume_manager_*), pkg/volume/util/metrics.go (storage_operation_*), component-base (kubernetes_*, registered_*,
 * rest_client_* through client-go's adapter), the Go runtime and process collectors.
 */
function kubeletFamilies(podsOnNode: Pod[]): KubeletFamily[] {
    const pvcs = podsOnNode.filter((p) => p.pvc);
    const containers = podsOnNode.flatMap((p) => p.containers.map((c) => ({ p, c })));
    const families: KubeletFamily[] = [
        { name: "kubelet_node_name", labels: { node: ["edge-node-1"] } },
        { name: "kubelet_running_pods" },
        { name: "kubelet_running_containers", labels: { container_state: ["created", "exited", "running", "unknown"] } },
        { name: "kubelet_desired_pods", labels: { static: ["true", "false"] } },
        { name: "kubelet_active_pods", labels: { static: ["true", "false"] } },
        { name: "kubelet_mirror_pods" },
        { name: "kubelet_working_pods", labels: { config: ["desired", "orphan", "runtime_only"], lifecycle: ["sync", "terminating", "terminated"], static: ["true", "false"] } },
        { name: "kubelet_restarted_pods_total", labels: { static: ["true", "false"] } },
        { name: "kubelet_orphaned_runtime_pods_total" },
        { name: "kubelet_started_pods_total" },
        { name: "kubelet_started_pods_errors_total" },
        { name: "kubelet_started_containers_total", labels: { container_type: ["container", "init_container"] } },
        { name: "kubelet_started_containers_errors_total", labels: { code: ["CreateContainerError"], container_type: ["container"] } },
        { name: "kubelet_started_host_process_containers_total", labels: { container_type: ["container"] } },
        { name: "kubelet_managed_ephemeral_containers" },
        { name: "kubelet_containers_per_pod_count", buckets: ["1", "2", "4", "8", "16"] },
        { name: "kubelet_pod_worker_duration_seconds", labels: { operation_type: ["create", "sync", "update"] }, buckets: DEF_BUCKETS },
        { name: "kubelet_pod_start_duration_seconds", buckets: POD_START_BUCKETS },
        { name: "kubelet_pod_start_sli_duration_seconds", buckets: POD_START_BUCKETS },
        { name: "kubelet_pod_start_total_duration_seconds", buckets: POD_START_BUCKETS },
        { name: "kubelet_cgroup_manager_duration_seconds", labels: { operation_type: ["create", "destroy", "update"] }, buckets: DEF_BUCKETS },
        { name: "kubelet_pod_worker_start_duration_seconds", buckets: DEF_BUCKETS },
        { name: "kubelet_pod_status_sync_duration_seconds", buckets: ["0.01", "0.05", "0.1", "0.5", "1", "5", "10", "20", "30", "45", "60"] },
        { name: "kubelet_pleg_relist_duration_seconds", buckets: DEF_BUCKETS },
        { name: "kubelet_pleg_relist_interval_seconds", buckets: DEF_BUCKETS },
        { name: "kubelet_pleg_discard_events" },
        { name: "kubelet_pleg_last_seen_seconds" },
        { name: "kubelet_evented_pleg_connection_error_count" },
        { name: "kubelet_evented_pleg_connection_success_count" },
        { name: "kubelet_evented_pleg_connection_latency_seconds", buckets: DEF_BUCKETS },
        { name: "kubelet_eviction_stats_age_seconds", labels: { eviction_signal: ["allocatableMemory.available", "imagefs.available", "imagefs.inodesFree", "memory.available", "nodefs.available", "nodefs.inodesFree", "pid.available"] }, buckets: DEF_BUCKETS },
        { name: "kubelet_runtime_operations_total", labels: { operation_type: RUNTIME_OPS } },
        { name: "kubelet_runtime_operations_errors_total", labels: { operation_type: RUNTIME_OPS.slice(0, 6) } },
        { name: "kubelet_runtime_operations_duration_seconds", labels: { operation_type: RUNTIME_OPS }, buckets: exp(0.005, 2.5, 14) },
        { name: "kubelet_run_podsandbox_duration_seconds", labels: { runtime_handler: [""] }, buckets: DEF_BUCKETS },
        { name: "kubelet_image_pull_duration_seconds", labels: { image_size_in_bytes: ["0-10MB", "10MB-100MB", "100MB-500MB"] }, buckets: ["1", "5", "10", "20", "30", "60", "120", "180", "240", "300", "360", "480", "600", "900", "1200", "1800", "2700", "3600"] },
        { name: "kubelet_image_garbage_collected_total", labels: { reason: ["age", "space"] } },
        { name: "kubelet_http_requests_total", labels: { long_running: ["false"], method: ["GET"], path: ["metrics", "metrics/cadvisor", "metrics/probes", "pods", "stats", "containerLogs"], server_type: ["readwrite"] } },
        { name: "kubelet_http_requests_duration_seconds", labels: { long_running: ["false"], method: ["GET"], path: ["metrics", "metrics/cadvisor", "metrics/probes", "pods", "stats", "containerLogs"], server_type: ["readwrite"] }, buckets: DEF_BUCKETS },
        { name: "kubelet_http_inflight_requests", labels: { long_running: ["false"], method: ["GET"], path: ["metrics", "metrics/cadvisor"], server_type: ["readwrite"] } },
        { name: "kubelet_certificate_manager_client_ttl_seconds" },
        { name: "kubelet_certificate_manager_client_expiration_renew_errors" },
        { name: "kubelet_certificate_manager_server_ttl_seconds" },
        { name: "kubelet_server_expiration_renew_errors" },
        { name: "kubelet_node_startup_duration_seconds" },
        { name: "kubelet_node_startup_pre_kubelet_duration_seconds" },
        { name: "kubelet_node_startup_pre_registration_duration_seconds" },
        { name: "kubelet_node_startup_registration_duration_seconds" },
        { name: "kubelet_node_startup_post_registration_duration_seconds" },
        { name: "kubelet_cpu_manager_pinning_requests_total" },
        { name: "kubelet_cpu_manager_pinning_errors_total" },
        { name: "kubelet_memory_manager_pinning_requests_total" },
        { name: "kubelet_memory_manager_pinning_errors_total" },
        { name: "kubelet_topology_manager_admission_requests_total" },
        { name: "kubelet_topology_manager_admission_errors_total" },
        { name: "kubelet_topology_manager_admission_duration_ms", buckets: ["0.05", "0.1", "0.2", "0.4", "0.8", "1.6", "3.2", "6.4", "12.8", "25.6", "51.2", "102.4", "204.8", "409.6", "819.2"] },
        { name: "kubelet_orphan_pod_cleaned_volumes" },
        { name: "kubelet_orphan_pod_cleaned_volumes_errors" },
        { name: "kubelet_pod_resources_endpoint_requests_total", labels: { server_api_version: ["v1"] } },
        { name: "kubelet_lifecycle_handler_http_fallbacks_total" },
        { name: "kubelet_graceful_shutdown_start_time_seconds" },
        { name: "kubelet_graceful_shutdown_end_time_seconds" },
        { name: "kubelet_admission_rejections_total", labels: { reason: ["OutOfcpu"] } },
        { name: "kubelet_container_log_filesystem_used_bytes", labels: { _: ["per-container"] } },
        { name: "kubelet_volume_stats_capacity_bytes", labels: { _: ["per-pvc"] } },
        { name: "kubelet_volume_stats_available_bytes", labels: { _: ["per-pvc"] } },
        { name: "kubelet_volume_stats_used_bytes", labels: { _: ["per-pvc"] } },
        { name: "kubelet_volume_stats_inodes", labels: { _: ["per-pvc"] } },
        { name: "kubelet_volume_stats_inodes_free", labels: { _: ["per-pvc"] } },
        { name: "kubelet_volume_stats_inodes_used", labels: { _: ["per-pvc"] } },
        { name: "kubelet_volume_stats_health_status_abnormal", labels: { _: ["per-pvc"] } },
        { name: "volume_manager_total_volumes", labels: { plugin_name: VOLUME_PLUGINS, state: ["actual_state_of_world", "desired_state_of_world"] } },
        { name: "volume_manager_selinux_volume_context_mismatch_warnings_total", labels: { volume_plugin: [""] } },
        { name: "storage_operation_duration_seconds", labels: { migrated: ["false"], operation_name: ["volume_mount", "volume_unmount", "unmount_device", "verify_controller_attached_volume"], status: ["success"], volume_plugin: VOLUME_PLUGINS }, buckets: STORAGE_BUCKETS },
        { name: "csi_operations_seconds", labels: { driver_name: ["rancher.io/local-path"], grpc_status_code: ["OK"], method_name: ["/csi.v1.Node/NodeGetCapabilities", "/csi.v1.Node/NodeGetVolumeStats"], migrated: ["false"] }, buckets: ["0.1", "0.25", "0.5", "1", "2.5", "5", "10", "15", "25", "50", "120", "300", "600"] },
        { name: "rest_client_requests_total", labels: { code: ["200", "201", "404", "409"], host: HOSTS, method: ["GET", "PATCH", "POST", "PUT"] } },
        { name: "rest_client_request_duration_seconds", labels: { host: HOSTS, verb: VERBS }, buckets: REST_BUCKETS },
        { name: "rest_client_rate_limiter_duration_seconds", labels: { host: HOSTS, verb: VERBS }, buckets: REST_BUCKETS },
        { name: "rest_client_request_size_bytes", labels: { host: HOSTS, verb: VERBS }, buckets: SIZE_BUCKETS },
        { name: "rest_client_response_size_bytes", labels: { host: HOSTS, verb: VERBS }, buckets: SIZE_BUCKETS },
        { name: "rest_client_transport_cache_entries" },
        { name: "rest_client_transport_create_calls_total", labels: { result: ["hit", "miss", "uncacheable"] } },
        { name: "rest_client_exec_plugin_certificate_rotation_age", buckets: exp(600, 2, 12) },
        { name: "apiserver_audit_event_total" },
        { name: "apiserver_audit_requests_rejected_total" },
        { name: "apiserver_client_certificate_expiration_seconds", buckets: ["0", "1800", "3600", "7200", "21600", "43200", "86400", "172800", "345600", "604800", "2.592e+06", "7.776e+06", "1.5552e+07", "3.1104e+07"] },
        { name: "apiserver_delegated_authn_request_total", labels: { code: ["201"] } },
        { name: "apiserver_delegated_authn_request_duration_seconds", labels: { code: ["201"] }, buckets: ["0.25", "0.5", "0.7", "1", "1.5", "3", "5", "10"] },
        { name: "apiserver_delegated_authz_request_total", labels: { code: ["201"] } },
        { name: "apiserver_delegated_authz_request_duration_seconds", labels: { code: ["201"] }, buckets: ["0.25", "0.5", "0.7", "1", "1.5", "3", "5", "10"] },
        { name: "authentication_token_cache_request_total", labels: { status: ["hit", "miss"] } },
        { name: "authentication_token_cache_active_fetch_count", labels: { status: ["blocked", "in_flight"] } },
        { name: "authentication_token_cache_fetch_total", labels: { status: ["ok"] } },
        { name: "authentication_token_cache_request_duration_seconds", labels: { status: ["hit", "miss"] }, buckets: ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"] },
        { name: "get_token_count" },
        { name: "get_token_fail_count" },
        { name: "kubernetes_build_info", labels: { build_date: ["2025-11-11T19:08:52Z"], compiler: ["gc"], git_commit: ["a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"], git_tree_state: ["clean"], git_version: ["v1.34.2"], go_version: ["go1.24.9"], major: ["1"], minor: ["34"], platform: ["linux/amd64"] } },
        { name: "kubernetes_feature_enabled", labels: { name: FEATURE_GATES, stage: ["BETA"] } },
        { name: "registered_metrics_total", labels: { deprecated_version: [""], stability_level: ["ALPHA", "BETA", "STABLE"] } },
        { name: "disabled_metrics_total" },
        { name: "hidden_metrics_total" },
        { name: "go_gc_duration_seconds", quantiles: ["0", "0.25", "0.5", "0.75", "1"] },
        ...["go_goroutines", "go_threads", "go_gc_gogc_percent", "go_gc_gomemlimit_bytes", "go_sched_gomaxprocs_threads"].map((name) => ({ name })),
        { name: "go_info", labels: { version: ["go1.24.9"] } },
        ...[
            "alloc_bytes", "alloc_bytes_total", "buck_hash_sys_bytes", "frees_total", "gc_sys_bytes", "heap_alloc_bytes", "heap_idle_bytes", "heap_inuse_bytes", "heap_objects", "heap_released_bytes", "heap_sys_bytes",
            "last_gc_time_seconds", "mallocs_total", "mcache_inuse_bytes", "mcache_sys_bytes", "mspan_inuse_bytes", "mspan_sys_bytes", "next_gc_bytes", "other_sys_bytes", "stack_inuse_bytes", "stack_sys_bytes", "sys_bytes",
        ].map((m) => ({ name: `go_memstats_${m}` })),
        ...["cpu_seconds_total", "max_fds", "open_fds", "resident_memory_bytes", "start_time_seconds", "virtual_memory_bytes", "virtual_memory_max_bytes", "network_receive_bytes_total", "network_transmit_bytes_total"].map((m) => ({ name: `process_${m}` })),
    ];
    return families.map((f) => {
        // Per-object families: one series per container, per claim.
        if (f.labels?._?.[0] === "per-container") return { ...f, labels: { __per: containers.map(({ p, c }) => JSON.stringify({ container: c.name, namespace: p.namespace, pod: p.name, uid: p.uid })) } };
        if (f.labels?._?.[0] === "per-pvc") return { ...f, labels: { __per: pvcs.map((p) => JSON.stringify({ namespace: p.namespace, persistentvolumeclaim: p.pvc! })) } };
        return f;
    });
}

function kubeletSeries(node: number, pods: Pod[]): Series[] {
    const out: Series[] = [];
    for (const f of kubeletFamilies(pods.filter((p) => p.node === `edge-node-${node}`))) {
        const combos = Object.entries(f.labels ?? {}).reduce<Record<string, string>[]>(
            (acc, [l, vs]) => acc.flatMap((c) => vs.map((v) => (l === "__per" ? { ...c, ...JSON.parse(v) } : { ...c, [l]: v }))),
            [{}],
        );
        for (const c of combos) {
            if (f.buckets) {
                for (const le of [...f.buckets, "+Inf"]) out.push([`${f.name}_bucket`, { ...c, le }]);
                out.push([`${f.name}_sum`, c], [`${f.name}_count`, c]);
            } else if (f.quantiles) {
                for (const quantile of f.quantiles) out.push([f.name, { ...c, quantile }]);
                out.push([`${f.name}_sum`, c], [`${f.name}_count`, c]);
            } else out.push([f.name, c]);
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// kube-state-metrics
// ---------------------------------------------------------------------------------------------------------------

interface KsmFamily {
    readonly name: string;
    readonly kind: string;
    readonly labels: { name: string; values?: string[] }[];
    readonly optIn: boolean;
}

function ksmFamilies(): KsmFamily[] {
    const dir = upstreamFolder("kube-state-metrics", "v2.20.0", "the benchmark's kube-state-metrics families (see SOURCE.json)");
    return upstreamFile(dir, "families.txt")
        .split("\n")
        .filter((l) => l.trim() !== "" && !l.startsWith("#"))
        .map((l) => l.split("\t"))
        .map(([name, kind, , labels, , optIn]) => ({
            name,
            kind,
            labels: labels === "-" ? [] : labels.split(",").map((l) => (l.includes("=") ? { name: l.split("=")[0], values: l.split("=")[1].split("|") } : { name: l })),
            optIn: optIn === "opt-in",
        }));
}

/** Families that exist only in some states of their object (waiting, terminated, deleting, ...). */
const CONDITIONAL = /deletion_timestamp|completion_time|_terminated|_waiting|last_terminated|overhead|runtimeclass|resourceclaim|unschedul|disruption_reason|persistentvolumeclaims|_failed|status_reason$|spec_taint/;

function ksmSeries(pods: Pod[], objects: Record<string, number>, families: KsmFamily[]): Series[] {
    const out: Series[] = [];
    const r = rng(7);
    const value = (label: string, objName: string, ns: string, i: number): string => {
        switch (label) {
            case "namespace":
                return ns;
            case "uid":
                return uuid(r);
            case "node":
                return `edge-node-${(i % 3) + 1}`;
            case "host_ip":
            case "internal_ip":
                return `10.20.0.${(i % 200) + 10}`;
            case "pod_ip":
            case "ip":
            case "address":
                return `10.244.${i % 3}.${(i * 7) % 250}`;
            case "image":
            case "image_spec":
                return `registry.example.internal/${ns}/app:1.${i % 9}.0`;
            case "image_id":
                return `registry.example.internal/${ns}/app@sha256:${hex(r, 64)}`;
            case "container_id":
                return `containerd://${hex(r, 64)}`;
            case "created_by_kind":
            case "owner_kind":
                return "ReplicaSet";
            case "created_by_name":
            case "owner_name":
                return `${objName.split("-").slice(0, 2).join("-")}-${hex(r, 10)}`;
            case "resource":
                return "cpu";
            case "unit":
                return "core";
            default:
                return `${label.replace(/_/g, "-")}-${i % 5}`;
        }
    };
    const emit = (f: KsmFamily, objName: string, ns: string, i: number, extra: Record<string, string>) => {
        const combos = f.labels.reduce<Record<string, string>[]>(
            (acc, l) =>
                acc.flatMap((c) => {
                    if (l.name in extra) return [{ ...c, [l.name]: extra[l.name] }];
                    if (l.values) return l.values.map((v) => ({ ...c, [l.name]: v }));
                    if (/^(annotation|label|nodeselector)_/.test(l.name)) return [c]; // allowlisted only: none here
                    if (l.name === f.kind) return [{ ...c, [l.name]: objName }];
                    return [{ ...c, [l.name]: value(l.name, objName, ns, i) }];
                }),
            [{}],
        );
        // Requests and limits per resource: cpu and memory.
        const perResource = f.labels.some((l) => l.name === "resource") ? combos.flatMap((c) => [c, { ...c, resource: "memory", unit: "byte" }]) : combos;
        for (const c of perResource) out.push([f.name, c]);
    };
    for (const f of families) {
        if (f.optIn || CONDITIONAL.test(f.name)) continue;
        if (f.kind === "pod") {
            pods.forEach((p, i) => {
                const base = { pod: p.name, namespace: p.namespace, uid: p.uid, node: p.node };
                const perContainer = f.labels.some((l) => l.name === "container");
                const list = f.name.startsWith("kube_pod_init_container") ? p.init : perContainer ? p.containers : [undefined];
                for (const c of list) emit(f, p.name, p.namespace, i, c ? { ...base, container: c.name, image: c.image } : base);
            });
            continue;
        }
        const n = objects[f.kind] ?? 0;
        for (let i = 0; i < n; i++) {
            const ns = NAMESPACES[i % NAMESPACES.length];
            emit(f, `${f.kind}-${NAMESPACES[i % NAMESPACES.length].split("-")[0]}-${i}`, ns, i, {});
        }
    }
    // The conditional families, for a tenth of their objects (a terminating pod, a waiting container, ...).
    for (const f of families.filter((x) => !x.optIn && CONDITIONAL.test(x.name))) {
        const n = f.kind === "pod" ? pods.length : (objects[f.kind] ?? 0);
        for (let i = 0; i < n; i += 10) {
            const p = pods[i % pods.length];
            emit(f, f.kind === "pod" ? p.name : `${f.kind}-${i}`, p.namespace, i, f.kind === "pod" ? { pod: p.name, namespace: p.namespace, uid: p.uid, container: p.containers[0].name } : {});
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------------------------

/** Per-queue counters of an agent's /metrics: queue name → value. */
function perQueue(port: number, metric: string): Map<string, number> {
    const text = execFileSync("curl", ["-sf", "--max-time", "10", `http://127.0.0.1:${port}/metrics`]).toString();
    const out = new Map<string, number>();
    for (const line of text.split("\n")) {
        if (!line.startsWith(`${metric}{`)) continue;
        const q = /remote_name="([^"]+)"/.exec(line)?.[1];
        if (q) out.set(q, (out.get(q) ?? 0) + Number(line.split(" ").pop()));
    }
    return out;
}

const queueOf = (job: string) => `job-${job}`;

/**
 * Runs the benchmark and prints a per-job table, the infrastructure total and the design notes' figure. Starts and
 * stops its own processes (a Harness of its own); needs Debian's prometheus and prometheus-node-exporter.
 */
export async function benchFiltering(o: FilteringOptions = {}): Promise<FilteringResult> {
    const nodes = o.nodes ?? 3;
    const podsPerNode = o.podsPerNode ?? 30;
    const windowIntervals = o.windowIntervals ?? 4;
    const h = new Harness("bench-filtering");
    const plan = await planStack("cluster-03");
    const generated = (plan.outputs.agentConfigs as Record<string, string>)["cluster-03"];
    const interval = String(parseYaml(generated).global.scrape_interval);
    const intervalS = durationSeconds(interval);
    const flags = generatedAgentFlags(plan);
    const certs = h.certificates("cluster-03");
    const p = { exporter: await freePort(), node: await freePort(), receiver: await freePort(), before: await freePort(), after: await freePort() };

    // Targets.
    const pods = makePods(nodes, podsPerNode);
    const cadvisor = cadvisorFamilies();
    const ksm = ksmFamilies();
    const r = rng(1);
    const bodies = new Map<string, () => string>();
    for (let n = 1; n <= nodes; n++) {
        const cSeries = cadvisorSeries(n, pods, cadvisor);
        const kSeries = kubeletSeries(n, pods);
        bodies.set(`/cadvisor?node=${n}`, () => render(cSeries, r));
        bodies.set(`/kubelet?node=${n}`, () => render(kSeries, r));
    }
    const ksmAll = ksmSeries(pods, clusterObjects(nodes, pods.length), ksm);
    bodies.set("/ksm", () => render(ksmAll, r));
    const server = http.createServer((req, res) => {
        const body = bodies.get(req.url ?? "");
        res.writeHead(body ? 200 : 404, { "Content-Type": "text/plain; version=0.0.4" });
        res.end(body ? body() : "\n");
    });
    server.listen(p.exporter, "127.0.0.1");
    h.onCleanup(() => server.close());
    const count = (path: string) => bodies.get(path)!().split("\n").length - 1;
    console.log(
        `  load: ${nodes} nodes x ${podsPerNode} pods; series per target before filtering: cAdvisor ${count("/cadvisor?node=1")}, kubelet ${count("/kubelet?node=1")}, ` +
            `kube-state-metrics ${count("/ksm")} (one for the cluster), node-exporter: the real one, scrape interval ${interval} (generated)`,
    );
    h.start("node-exporter", [`--web.listen-address=127.0.0.1:${p.node}`], "prometheus-node-exporter");

    // The two agents: the generated configuration, and the same without any metric relabelling.
    const base = { exporter: `127.0.0.1:${p.exporter}`, nodeExporter: `127.0.0.1:${p.node}`, receiverPort: p.receiver, certs, scrapeInterval: interval, scrapeTimeout: String(parseYaml(generated).global.scrape_timeout) };
    const after = localAgentConfig(h, generated, { ...base, agentPort: p.after });
    const before = localAgentConfig(h, generated, { ...base, agentPort: p.before });
    before.global.external_labels = { cluster: "cluster-03-before" };
    for (const job of before.scrape_configs) job.metric_relabel_configs = [];
    // Every node's kubelet, cAdvisor and node-exporter (the real one, once per node name).
    const sd = (job: string, targets: { target: string; labels: Record<string, string> }[]) =>
        fs.writeFileSync(h.file(`sd/${job}.json`), JSON.stringify(targets.map((t) => ({ targets: [t.target], labels: t.labels }))));
    const perNode = (labels: (n: number) => Record<string, string>, target = `127.0.0.1:${p.exporter}`) => Array.from({ length: nodes }, (_, i) => ({ target, labels: labels(i + 1) }));
    sd("kubelet", perNode((n) => ({ __meta_kubernetes_node_name: `edge-node-${n}`, __param_node: String(n) })));
    sd("cadvisor", perNode((n) => ({ __meta_kubernetes_node_name: `edge-node-${n}`, __param_node: String(n) })));
    sd("node-exporter", perNode((n) => ({ __meta_kubernetes_node_address_InternalIP: "127.0.0.1", __meta_kubernetes_node_name: `edge-node-${n}` }), `127.0.0.1:${p.node}`));
    const measured = INFRA_JOBS.filter((j) => j !== "fluent-bit");
    for (const cfg of [after, before]) {
        for (const job of cfg.scrape_configs) {
            if (job.job_name === "kubelet" || job.job_name === "cadvisor") job.metrics_path = `/${job.job_name}`;
        }
        const rw = cfg.remote_write[0];
        cfg.remote_write = measured.map((job) => ({
            ...structuredClone(rw),
            name: queueOf(job),
            write_relabel_configs: [...rw.write_relabel_configs, { source_labels: ["job"], regex: job, action: "keep" }],
        }));
    }
    fs.writeFileSync(h.file("after.yml"), stringify(after));
    fs.writeFileSync(h.file("before.yml"), stringify(before));

    h.start("receiver", h.receiverArgs(p.receiver, certs));
    h.start("after", agentArgs(h, "after", p.after, flags));
    h.start("before", agentArgs(h, "before", p.before, flags));
    const tls = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
    const query = (q: string) => getJson(`https://127.0.0.1:${p.receiver}/api/v1/query?query=${encodeURIComponent(q)}`, tls).data.result as { metric: Record<string, string>; value: [number, string] }[];
    const byJob = (q: string) => new Map(query(q).map((s) => [`${s.metric.cluster}/${s.metric.job}`, Number(s.value[1])]));
    const clusters = { before: "cluster-03-before", after: "cluster-03" };
    try {
        await waitFor("every job of both agents at the receiver", 120, () => byJob("count by (cluster, job) (up)").size >= 2 * measured.length);
        // One more interval so that every target has been scraped and sent at least twice.
        h.log(`warm-up ${intervalS}s, then ${windowIntervals} intervals (${windowIntervals * intervalS}s) measured ...`);
        await sleep(intervalS * 1000);
        const snap = (port: number) => ({ bytes: perQueue(port, "prometheus_remote_storage_bytes_total"), samples: perQueue(port, "prometheus_remote_storage_samples_total"), meta: perQueue(port, "prometheus_remote_storage_metadata_bytes_total"), t: Date.now() });
        const s0 = { before: snap(p.before), after: snap(p.after) };
        await sleep(windowIntervals * intervalS * 1000);
        const s1 = { before: snap(p.before), after: snap(p.after) };
        const postRelabel = byJob("sum by (cluster, job) (scrape_samples_post_metric_relabeling)");
        const targets = byJob("count by (cluster, job) (up)");

        const figures = (side: "before" | "after", job: string) => {
            const q = queueOf(job);
            const dt = (s1[side].t - s0[side].t) / 1000;
            const dBytes = (s1[side].bytes.get(q) ?? 0) - (s0[side].bytes.get(q) ?? 0);
            const dSamples = (s1[side].samples.get(q) ?? 0) - (s0[side].samples.get(q) ?? 0);
            const key = `${clusters[side]}/${job}`;
            const samplesPerScrape = (postRelabel.get(key) ?? 0) + SCRAPE_SERIES_PER_TARGET * (targets.get(key) ?? 0);
            const bytesPerSample = dSamples > 0 ? dBytes / dSamples : 0;
            return { samplesPerScrape, bytesPerSample, bytesPerSecond: (samplesPerScrape / intervalS) * bytesPerSample, metadataBytesPerMinute: (((s1[side].meta.get(q) ?? 0) - (s0[side].meta.get(q) ?? 0)) / dt) * 60 };
        };
        const jobs: JobFigures[] = measured.map((job) => ({ job, targets: targets.get(`${clusters.after}/${job}`) ?? 0, before: figures("before", job), after: figures("after", job) }));
        const sum = (f: (j: JobFigures) => number) => jobs.reduce((a, j) => a + f(j), 0);
        const total = {
            before: sum((j) => j.before.bytesPerSecond),
            after: sum((j) => j.after.bytesPerSecond),
            reduction: 0,
            metadataBefore: sum((j) => j.before.metadataBytesPerMinute),
            metadataAfter: sum((j) => j.after.metadataBytesPerMinute),
        };
        total.reduction = 1 - total.after / total.before;

        const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB/s`;
        const pct = (a: number, b: number) => (b > 0 ? `${(100 * (1 - a / b)).toFixed(0)} %` : "-");
        const row = (cols: string[]) => console.log(`  ${cols[0].padEnd(20)}${cols.slice(1).map((c) => c.padStart(15)).join("")}`);
        row(["job (targets)", "samples/scrape", "after", "bytes/s before", "after", "bytes -", "B/sample b/a"]);
        for (const j of jobs) {
            row([
                `${j.job} (${j.targets})`,
                String(j.before.samplesPerScrape),
                String(j.after.samplesPerScrape),
                kib(j.before.bytesPerSecond),
                kib(j.after.bytesPerSecond),
                pct(j.after.bytesPerSecond, j.before.bytesPerSecond),
                `${j.before.bytesPerSample.toFixed(1)}/${j.after.bytesPerSample.toFixed(1)}`,
            ]);
        }
        row(["infrastructure", String(sum((j) => j.before.samplesPerScrape)), String(sum((j) => j.after.samplesPerScrape)), kib(total.before), kib(total.after), pct(total.after, total.before), ""]);
        console.log(
            `  reduction of the infrastructure jobs' bytes: ${(100 * total.reduction).toFixed(1)} % (design notes: -${DESIGN_NOTES_REDUCTION * 100} % network: ` +
                `${total.reduction >= DESIGN_NOTES_REDUCTION ? "reached" : "NOT reached"}); metadata ${(total.metadataBefore / 1024).toFixed(1)} -> ${(total.metadataAfter / 1024).toFixed(1)} KiB/min ` +
                "(the generated agents send none: Thanos Receive ignores it)",
        );
        console.log("  (samples per scrape read at the receiver; bytes per sample from each job's queue over the window; Prometheus 2.42 agents, remote write 1.0)");
        return { scrapeInterval: interval, jobs, total };
    } finally {
        h.cleanup();
    }
}
