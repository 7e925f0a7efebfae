/**
 * The whole Prometheus agent configuration, generated here so that what runs is exactly what the tests check
 * with the real `promtool check config --agent` and what the end-to-end test runs.
 */
import { stringify } from "yaml";
import type { RemoteWriteTuning } from "./config";
import { TENANT_NODE_LABEL, nodeLabelMeta } from "./tenancy";
import { CERTIFICATE_EXPIRY_METRIC } from "./certificates";
import type { Dashboard } from "./dashboards";
import { TENANT_LABEL } from "./thanos";
import { usedMetrics } from "./usedMetrics";

/**
 * The infrastructure jobs of an edge agent and the prefixes their exporters name their metrics with. Each job keeps,
 * at scrape time (before the WAL: dropped series cost neither agent memory nor bandwidth), only the used metric
 * names (lib/usedMetrics.ts) of its own families, plus used names that belong to no family listed here (the
 * `process_*`/`go_*` metrics every Go exporter has): `infraKeepLists`. Everything else those exporters expose is
 * dropped. The `pods` job (tenant applications) is not filtered this way.
 */
export const INFRA_JOB_FAMILIES = {
    // The edges' certificate expiry comes from node-exporter's textfile collector (lib/certificates.ts).
    "node-exporter": ["node_", CERTIFICATE_EXPIRY_METRIC],
    cadvisor: ["container_", "machine_"],
    kubelet: ["kubelet_", "volume_manager_", "storage_operation_", "rest_client_", "csi_operations_", "prober_probe_"],
    "kube-state-metrics": ["kube_"],
    "prometheus-agent": ["prometheus_", "net_conntrack_"],
    "fluent-bit": ["fluentbit_"],
} as const;
export type InfraJob = keyof typeof INFRA_JOB_FAMILIES;
export const INFRA_JOBS = Object.keys(INFRA_JOB_FAMILIES) as InfraJob[];

/**
 * Prefixes of the central cluster's own components (Thanos, memcached, the OpenSearch exporter, Alertmanager):
 * names the central rules read that no edge exporter exposes, so no edge keep-list carries them.
 */
export const CENTRAL_FAMILIES = ["thanos_", "grpc_", "http_request", "memcached_", "elasticsearch_", "alertmanager_", "grafana_", "slo:"] as const;

/** Series Prometheus writes itself for every scrape: metric relabelling never sees them. */
const SCRAPE_SERIES = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"]);

/** Names an exporter may expose: a recorded name holds a colon, which exporters must not use. */
const EXPORTED_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Per infrastructure job, the sorted metric names it keeps, from the used names: its families' names, names of no
 * family (edge or central). Recorded names (with a colon) and the series of the scrape itself are never listed.
 */
export function infraKeepLists(used: Iterable<string>): Record<InfraJob, string[]> {
    const out = Object.fromEntries(INFRA_JOBS.map((j) => [j, new Set<string>()])) as Record<InfraJob, Set<string>>;
    for (const name of used) {
        if (SCRAPE_SERIES.has(name) || !EXPORTED_NAME.test(name)) continue;
        if (CENTRAL_FAMILIES.some((f) => name.startsWith(f))) continue;
        const owners = INFRA_JOBS.filter((j) => INFRA_JOB_FAMILIES[j].some((f) => name.startsWith(f)));
        for (const j of owners.length > 0 ? owners : INFRA_JOBS) out[j].add(name);
    }
    return Object.fromEntries(INFRA_JOBS.map((j) => [j, [...out[j]].sort()])) as Record<InfraJob, string[]>;
}

/**
 * Series and labels dropped after the keep-list, per job, each with why it cannot lose anything a rule or dashboard
 * reads and why no two series can become one (test/metricFilter.test.ts checks both against every reader and a
 * realistic exposition).
 */
export const INFRA_SERIES_RULES: Partial<Record<InfraJob, { readonly why: string; readonly rule: Record<string, unknown> }[]>> = {
    cadvisor: [
        {
            // kube-prometheus' own "Drop cgroup metrics with no pod" (kube-prometheus-stack's
            // kubelet.serviceMonitor.cAdvisorMetricRelabelings): the node's system slices and the root cgroup. Every
            // reader selects container-level or pod-level series (container!="", image!="", namespace or pod set).
            why: "cgroups of no pod (system slices, the node's root cgroup): no reader selects them",
            rule: { source_labels: ["id", "pod"], regex: ".+;", action: "drop" },
        },
        {
            // `name` is the runtime's container id: unique per container on a node, so a series that has it needs no
            // cgroup path to stay apart. Pod-level cgroups have no `name` and keep `id` (two pods of one name, the
            // old one not yet cleaned up, differ only there).
            why: "id (the cgroup path, the longest label value) on series that carry name (the container id): read by no reader",
            rule: { source_labels: ["name"], regex: ".+", target_label: "id", replacement: "", action: "replace" },
        },
    ],
    "kube-state-metrics": [
        {
            // The API server holds one object per namespace and name at a time, and kube-state-metrics reports each
            // object once: the object's uid never tells two of its series apart.
            why: "uid (the object's UID) on every series: read by no reader",
            rule: { regex: "uid", action: "labeldrop" },
        },
    ],
};

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
    /** `edge.agent.keepMetrics`: names kept by the infrastructure jobs on top of the used set. */
    readonly keepMetrics?: string[];
    /** Dashboards besides the platform's whose metrics are kept too (lib/usedMetrics.ts). */
    readonly extraDashboards?: Dashboard[];
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
 * Metric relabelling of the central cluster's own infrastructure scrapes (kube-prometheus-stack's kubelet and
 * kube-state-metrics ServiceMonitors, node-exporter's), in the Prometheus Operator's RelabelConfig form: the same
 * keep-lists and series rules as the edge agents' jobs, from the same used set (`keepMetrics`:
 * central.monitoring.prometheus.keepMetrics).
 */
export function centralInfraRelabelings(keepMetrics: readonly string[] = []): Record<"kubelet" | "cadvisor" | "kube-state-metrics" | "node-exporter", Record<string, unknown>[]> {
    const keep = infraKeepLists(usedMetrics({ keepMetrics }).keys());
    const operatorForm = (r: Relabel) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
    const rules = (job: InfraJob) => infraFilter(job, keep, []).map(operatorForm);
    return { kubelet: rules("kubelet"), cadvisor: rules("cadvisor"), "kube-state-metrics": rules("kube-state-metrics"), "node-exporter": rules("node-exporter") };
}

/** An infrastructure job's metric relabelling: its keep-list, the operator's drops, then its series and label rules. */
function infraFilter(job: InfraJob, keep: Record<InfraJob, string[]>, extraDrop: readonly string[]): Relabel[] {
    return [
        { source_labels: ["__name__"], regex: `(${keep[job].join("|")})`, action: "keep" },
        ...dropByName(extraDrop),
        ...(INFRA_SERIES_RULES[job] ?? []).map((r) => r.rule),
    ];
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
    const keep = infraKeepLists(usedMetrics({ keepMetrics: a.keepMetrics, extraDashboards: a.extraDashboards }).keys());
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
            metric_relabel_configs: infraFilter("kubelet", keep, extra),
        },
        {
            job_name: "cadvisor",
            ...kubeletAuth,
            metrics_path: "/metrics/cadvisor",
            kubernetes_sd_configs: nodeSd,
            relabel_configs: [...tenantNodes(a.scope), ...nodeLabels],
            metric_relabel_configs: infraFilter("cadvisor", keep, extra),
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
                ...infraFilter("node-exporter", keep, extra),
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
            metric_relabel_configs: infraFilter("kube-state-metrics", keep, extra),
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
        { job_name: "prometheus-agent", static_configs: [{ targets: ["localhost:9090"] }], metric_relabel_configs: infraFilter("prometheus-agent", keep, extra) },
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
            metric_relabel_configs: infraFilter("fluent-bit", keep, extra),
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
                // No metadata: Thanos Receive drops it ("We don't support metadata yet", pkg/receive/handler.go:600-606 at
                // v0.42.4), and Prometheus sends every family's metadata a target exposes, kept or dropped.
                metadata_config: { send: false },
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
