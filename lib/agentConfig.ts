/**
 * The whole Prometheus agent configuration, generated here so that what runs is exactly what the tests check
 * with the real `promtool check config --agent` and what the end-to-end test runs.
 */
import { stringify } from "yaml";
import type { RemoteWriteTuning } from "./config";
import { TENANT_NODE_LABEL, nodeLabelMeta } from "./tenancy";
import { CERTIFICATE_EXPIRY_METRIC } from "./certificates";
import { TENANT_LABEL } from "./thanos";

/**
 * Metrics dropped at scrape time, before they reach the WAL (cheaper than dropping at remote write: they cost
 * neither agent memory nor bandwidth). Each list says why. Nothing a shipped dashboard or alert uses may be here;
 * no dashboard or alert ships yet, and the check of these lists against their metric names comes with them.
 */
export const DROP_LISTS = {
    /**
     * cAdvisor series with one series per cgroup/device/state and no dashboard or alert in the platform: the bulk of
     * cAdvisor's cardinality. CPU, memory working set, network bytes and filesystem usage are kept.
     */
    cadvisor: [
        "container_tasks_state",
        "container_memory_failures_total",
        "container_memory_failcnt",
        "container_blkio_device_usage_total",
        "container_file_descriptors",
        "container_sockets",
        "container_threads",
        "container_threads_max",
        "container_ulimits_soft",
        "container_last_seen",
        "container_spec_memory_swap_limit_bytes",
        "container_spec_memory_reservation_limit_bytes",
        "container_fs_inodes_free",
        "container_fs_inodes_total",
        "container_fs_io_current",
        "container_fs_io_time_seconds_total",
        "container_fs_io_time_weighted_seconds_total",
        "container_fs_read_seconds_total",
        "container_fs_write_seconds_total",
        "container_fs_reads_merged_total",
        "container_fs_writes_merged_total",
        "container_fs_sector_reads_total",
        "container_fs_sector_writes_total",
    ],
    /**
     * Kubelet histograms of its own client and runtime latencies: dozens of buckets per operation, used only when
     * debugging the kubelet itself (which is done on the node, not from the central view).
     */
    kubelet: [
        "rest_client_request_duration_seconds_bucket",
        "rest_client_request_size_bytes_bucket",
        "rest_client_response_size_bytes_bucket",
        "rest_client_rate_limiter_duration_seconds_bucket",
        "storage_operation_duration_seconds_bucket",
        "kubelet_runtime_operations_duration_seconds_bucket",
        "kubelet_pod_worker_duration_seconds_bucket",
        "kubelet_http_requests_duration_seconds_bucket",
        "kubelet_cgroup_manager_duration_seconds_bucket",
        "kubelet_pleg_relist_interval_seconds_bucket",
        "apiserver_audit_event_total",
    ],
    /**
     * kube-state-metrics series that describe objects nobody alerts on and that churn with every rollout
     * (ReplicaSets, ConfigMaps, Secrets); Secret and ConfigMap metrics also leak object names across tenants.
     */
    kubeStateMetrics: [
        "kube_replicaset_.+",
        "kube_configmap_.+",
        "kube_secret_.+",
        "kube_pod_tolerations",
        "kube_pod_status_scheduled_time",
        "kube_pod_created",
    ],
} as const;

export type DropListName = keyof typeof DROP_LISTS;

/**
 * What Debian's Prometheus 2.42 (used by the tests and the e2e run here) cannot read, in one place:
 * - `sample_age_limit` is newer than 2.42 (Prometheus 2.50): removed.
 * - `kubernetes_sd_configs`: Debian builds Prometheus without the Kubernetes service discovery. Replaced by a
 *   `file_sd_configs` entry so that the job, its relabel rules and everything else are still checked; the e2e test
 *   writes its local targets into that file.
 * Everything else is checked exactly as generated.
 */
export const DEBIAN_2_42_INCOMPATIBLE = [
    { path: ["remote_write", "*", "queue_config", "sample_age_limit"], reason: "needs Prometheus >= 2.50", action: "remove" },
    { path: ["scrape_configs", "*", "kubernetes_sd_configs"], reason: "Debian builds Prometheus without Kubernetes SD", action: "file_sd" },
] as const;

export interface AgentScope {
    /** Tenant this agent serves; absent on a cluster that is one writer. */
    readonly tenant?: string;
    /** Namespaces whose pods are scraped (`[]` = every namespace, only for a cluster without tenants). */
    readonly namespaces: string[];
    /** kube-state-metrics `host:port` for this scope. */
    readonly kubeStateMetrics: string;
    /** Node-exporter port on each node (hostNetwork). */
    readonly nodeExporterPort?: number;
    /** Nodes of this agent's tenant (its Fluent Bit pods are the ones on these nodes). */
    readonly nodes?: string[];
    /** Namespace of Fluent Bit, whose metrics (delivery errors) this agent also scrapes. */
    readonly logShipperNamespace?: string;
    /**
     * The cluster's other writers (the other tenants): node-exporter on every node publishes every writer's
     * certificate expiry, and each agent keeps only its own writer's series.
     */
    readonly otherWriters?: string[];
}

export interface AgentConfigArgs {
    readonly cluster: string;
    readonly scope: AgentScope;
    readonly scrapeInterval: string;
    readonly remoteWriteUrl: string;
    /** Queue settings, with the fixed shard count in effect (lib/sizing.ts). */
    readonly remoteWrite: RemoteWriteTuning & { readonly shards: number };
    /** Files of the client certificate, key and the CA that signs Receive's certificate. */
    readonly tlsFiles: { ca: string; cert: string; key: string };
    readonly extraDropMetrics?: string[];
    /** Service account files (in-cluster defaults). */
    readonly serviceAccount?: { token: string; ca: string };
}

const SA_DEFAULT = {
    token: "/var/run/secrets/kubernetes.io/serviceaccount/token",
    ca: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
};

type Relabel = Record<string, unknown>;

function dropByName(names: readonly string[]): Relabel[] {
    return names.length === 0 ? [] : [{ source_labels: ["__name__"], regex: `(${names.join("|")})`, action: "drop" }];
}

/**
 * Keep only the nodes of this agent's tenant, by the node label the program sets (`TENANT_NODE_LABEL`, which a
 * kubelet cannot set on its own Node: a node cannot make itself counted as another tenant's).
 */
function tenantNodes(scope: AgentScope): Relabel[] {
    return scope.tenant === undefined ? [] : [{ source_labels: [nodeLabelMeta(TENANT_NODE_LABEL)], regex: scope.tenant, action: "keep" }];
}

/** The series label that carries a node's tenant (`node_tenant`, the same name before and after the label moved). */
const NODE_TENANT_SERIES_LABEL = "node_tenant";

const nodeLabels: Relabel[] = [
    { source_labels: ["__meta_kubernetes_node_name"], target_label: "node" },
    { source_labels: [nodeLabelMeta(TENANT_NODE_LABEL)], regex: "(.+)", target_label: NODE_TENANT_SERIES_LABEL },
];

export function agentConfig(a: AgentConfigArgs): Record<string, unknown> {
    const sa = a.serviceAccount ?? SA_DEFAULT;
    const extra = a.extraDropMetrics ?? [];
    const kubeletAuth = {
        scheme: "https",
        authorization: { credentials_file: sa.token },
        tls_config: { ca_file: sa.ca, insecure_skip_verify: false },
    };
    const nodeSd = [{ role: "node" }];
    const rw = a.remoteWrite;

    const scrapeConfigs: Record<string, unknown>[] = [
        {
            job_name: "kubelet",
            ...kubeletAuth,
            // Kubelet serving certificates are often self-signed per node; the CA check is kept where the cluster
            // signs them (see README, "Kubelet certificates").
            kubernetes_sd_configs: nodeSd,
            relabel_configs: [...tenantNodes(a.scope), ...nodeLabels],
            metric_relabel_configs: dropByName([...DROP_LISTS.kubelet, ...extra]),
        },
        {
            job_name: "cadvisor",
            ...kubeletAuth,
            metrics_path: "/metrics/cadvisor",
            kubernetes_sd_configs: nodeSd,
            relabel_configs: [...tenantNodes(a.scope), ...nodeLabels],
            metric_relabel_configs: dropByName([...DROP_LISTS.cadvisor, ...extra]),
        },
        {
            job_name: "node-exporter",
            kubernetes_sd_configs: nodeSd,
            relabel_configs: [
                ...tenantNodes(a.scope),
                {
                    source_labels: ["__meta_kubernetes_node_address_InternalIP"],
                    target_label: "__address__",
                    replacement: `$1:${a.scope.nodeExporterPort ?? 9100}`,
                },
                ...nodeLabels,
            ],
            metric_relabel_configs: [
                ...dropByName(extra),
                ...((a.scope.otherWriters ?? []).length > 0
                    ? [{ source_labels: ["__name__", "writer"], regex: `${CERTIFICATE_EXPIRY_METRIC};(${a.scope.otherWriters!.join("|")})`, action: "drop" }]
                    : []),
            ],
        },
        {
            job_name: "kube-state-metrics",
            // Honour KSM's own namespace/pod labels: they describe the object, not the exporter.
            honor_labels: true,
            static_configs: [{ targets: [a.scope.kubeStateMetrics] }],
            metric_relabel_configs: dropByName([...DROP_LISTS.kubeStateMetrics, ...extra]),
        },
        {
            job_name: "pods",
            kubernetes_sd_configs: [
                a.scope.namespaces.length > 0 ? { role: "pod", namespaces: { names: [...a.scope.namespaces] } } : { role: "pod" },
            ],
            relabel_configs: [
                { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], regex: "true", action: "keep" },
                { source_labels: ["__meta_kubernetes_pod_phase"], regex: "Pending|Succeeded|Failed", action: "drop" },
                { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_path"], regex: "(.+)", target_label: "__metrics_path__" },
                {
                    source_labels: ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
                    regex: "([^:]+)(?::\\d+)?;(\\d+)",
                    replacement: "$1:$2",
                    target_label: "__address__",
                },
                { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
                { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
                { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "node" },
            ],
            metric_relabel_configs: dropByName(extra),
        },
        { job_name: "prometheus-agent", static_configs: [{ targets: ["localhost:9090"] }] },
    ];
    if (a.scope.logShipperNamespace) {
        scrapeConfigs.push({
            job_name: "fluent-bit",
            metrics_path: "/api/v1/metrics/prometheus",
            kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [a.scope.logShipperNamespace] } }],
            relabel_configs: [
                { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], regex: "fluent-bit", action: "keep" },
                { source_labels: ["__meta_kubernetes_pod_container_port_number"], regex: "2020", action: "keep" },
                // A tenant's agent scrapes the Fluent Bit pods on its own nodes only.
                ...(a.scope.nodes && a.scope.nodes.length > 0
                    ? [{ source_labels: ["__meta_kubernetes_pod_node_name"], regex: a.scope.nodes.map((n) => n.replace(/\./g, "\\.")).join("|"), action: "keep" }]
                    : []),
                { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
                { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "node" },
            ],
            metric_relabel_configs: dropByName(extra),
        });
    }

    return {
        global: {
            scrape_interval: a.scrapeInterval,
            scrape_timeout: "10s",
            // `cluster` on every series. No tenant label here: Receive derives `tenant_id` from the client
            // certificate, and a second label could disagree with it.
            external_labels: { cluster: a.cluster },
        },
        scrape_configs: scrapeConfigs,
        remote_write: [
            {
                name: "central-receive",
                url: a.remoteWriteUrl,
                remote_timeout: "30s",
                tls_config: { ca_file: a.tlsFiles.ca, cert_file: a.tlsFiles.cert, key_file: a.tlsFiles.key },
                queue_config: {
                    capacity: rw.capacity,
                    // Fixed shards: a resharding would drop what the old shards hold once the flush deadline passes.
                    min_shards: rw.shards,
                    max_shards: rw.shards,
                    max_samples_per_send: rw.maxSamplesPerSend,
                    batch_send_deadline: rw.batchSendDeadline,
                    min_backoff: rw.minBackoff,
                    max_backoff: rw.maxBackoff,
                    retry_on_http_429: rw.retryOnHttp429,
                    sample_age_limit: rw.sampleAgeLimit,
                },
                // A scraped target must not be able to pick the tenant: drop any tenant label it exposes.
                write_relabel_configs: [{ action: "labeldrop", regex: TENANT_LABEL }],
                metadata_config: { send: true, send_interval: "1m" },
            },
        ],
    };
}

/** The configuration as YAML, ready for a ConfigMap. */
export function renderAgentConfig(a: AgentConfigArgs): string {
    return stringify(agentConfig(a), { lineWidth: 0 });
}

/**
 * The same configuration as Debian's 2.42 can read (see DEBIAN_2_42_INCOMPATIBLE). `fileSdDir` holds one
 * `<job>.json` target file per job whose Kubernetes SD was replaced.
 */
export function compatAgentConfig(config: Record<string, unknown>, fileSdDir: string): Record<string, unknown> {
    const copy = structuredClone(config);
    for (const rule of DEBIAN_2_42_INCOMPATIBLE) {
        visit(copy, [...rule.path], (parent, key) => {
            if (rule.action === "file_sd") {
                const job = String(parent.job_name);
                parent.file_sd_configs = [{ files: [`${fileSdDir}/${job}.json`] }];
            }
            delete parent[key];
        });
    }
    return copy;
}

/** Call `fn(parent, key)` for every object that has the last path element, following `*` over lists/maps. */
function visit(node: unknown, path: string[], fn: (parent: Record<string, unknown>, key: string) => void): void {
    if (node === null || typeof node !== "object" || path.length === 0) return;
    const [head, ...rest] = path;
    const obj = node as Record<string, unknown>;
    if (head === "*") {
        for (const child of Array.isArray(node) ? node : Object.values(obj)) visit(child, rest, fn);
    } else if (rest.length === 0) {
        if (head in obj) fn(obj, head);
    } else visit(obj[head], rest, fn);
}
