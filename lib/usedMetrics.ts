/**
 * Which metric names the platform uses: what the edge agents must keep. Everything else the infrastructure exporters
 * expose is dropped at scrape time (lib/agentConfig.ts `infraMetricFilter`). "Used" is:
 * - the platform's own rules: the Ruler's alerts (alertRules.ts), the central Prometheus pair's self-monitoring
 *   alerts, certificate recordings and service levels (selfMonitoringRules.ts, slo.ts, kubeRules.ts);
 * - its Grafana dashboards (dashboards.ts);
 * - the node and Kubernetes dashboards operators expect, as kube-prometheus-stack ships them at the pinned chart
 *   version (`MIXIN_DASHBOARD_SELECTION`, data derived into mixinMetrics.ts), with the recording rules they read
 *   expanded to the raw metrics those rules consume: the agents must keep the inputs;
 * - the PromQL of the operator docs and the README (`DOCUMENTED_METRICS`; a test fails on a documented query whose
 *   metric is not kept);
 * - the operator's own list, `edge.agent.keepMetrics`.
 *
 * The rule and dashboard builders are called with fixed arguments here: their metric names do not depend on the
 * configuration (writers, thresholds, namespaces change label values and numbers only). A test checks that every
 * name the deployed rules and dashboards of cluster-01's plan read is in this set.
 */
import { alertRules } from "./alertRules";
import { CERTIFICATE_EXPIRY_METRIC } from "./certificates";
import { Dashboard, dashboards } from "./dashboards";
import { MIXIN_DASHBOARDS, MIXIN_RECORDING_RULES, MIXIN_SOURCE } from "./mixinMetrics";
import { MetricRead, Reads, addReads } from "./promql";
import { selfMonitoringRuleGroups } from "./selfMonitoringRules";

/**
 * For every dashboard kube-prometheus-stack ships: whether the edges keep what it reads, or why not. Mixin
 * dashboards that describe something the edge agents do not scrape (the control plane, Windows, other operating
 * systems, the central cluster's own Grafana and Alertmanager) would only add names nobody exposes. A chart update
 * that adds a dashboard fails a test until it is listed here.
 */
export const MIXIN_DASHBOARD_SELECTION: Record<string, { readonly keep: true } | { readonly keep: false; readonly why: string }> = {
    // node-exporter mixin (Linux)
    nodes: { keep: true },
    "node-rsrc-use": { keep: true },
    "node-cluster-rsrc-use": { keep: true },
    "nodes-aix": { keep: false, why: "AIX nodes: the clusters run Linux" },
    "nodes-darwin": { keep: false, why: "macOS nodes: the clusters run Linux" },
    // kubernetes mixin: compute resources, networking, storage, kubelet
    "k8s-resources-cluster": { keep: true },
    "k8s-resources-multicluster": { keep: true },
    "k8s-resources-namespace": { keep: true },
    "k8s-resources-node": { keep: true },
    "k8s-resources-nodes-overview": { keep: true },
    "k8s-resources-pod": { keep: true },
    "k8s-resources-workload": { keep: true },
    "k8s-resources-workloads-namespace": { keep: true },
    "cluster-total": { keep: true },
    "namespace-by-pod": { keep: true },
    "namespace-by-workload": { keep: true },
    "pod-total": { keep: true },
    "workload-total": { keep: true },
    "persistentvolumesusage": { keep: true },
    kubelet: { keep: true },
    "k8s-resources-windows-cluster": { keep: false, why: "Windows nodes (windows-exporter): none in the clusters" },
    "k8s-resources-windows-namespace": { keep: false, why: "Windows nodes (windows-exporter): none in the clusters" },
    "k8s-resources-windows-pod": { keep: false, why: "Windows nodes (windows-exporter): none in the clusters" },
    "k8s-windows-cluster-rsrc-use": { keep: false, why: "Windows nodes (windows-exporter): none in the clusters" },
    "k8s-windows-node-rsrc-use": { keep: false, why: "Windows nodes (windows-exporter): none in the clusters" },
    apiserver: { keep: false, why: "control plane: the edge agents do not scrape the API server" },
    "controller-manager": { keep: false, why: "control plane: not scraped (its endpoint binds to localhost on most installs; off on cluster-01 too)" },
    scheduler: { keep: false, why: "control plane: not scraped (its endpoint binds to localhost on most installs; off on cluster-01 too)" },
    proxy: { keep: false, why: "kube-proxy: not scraped (Cilium replaces it; off on cluster-01 too)" },
    etcd: { keep: false, why: "control plane: not scraped (off on cluster-01 too)" },
    "k8s-coredns": { keep: false, why: "CoreDNS: the edge agents do not scrape it" },
    // Prometheus mixin: the agents' own job
    "prometheus-remote-write": { keep: true },
    prometheus: { keep: true },
    "alertmanager-overview": { keep: false, why: "central Alertmanager: scraped by cluster-01's Prometheus pair, not by an edge agent" },
    "grafana-overview": { keep: false, why: "central Grafana: scraped by cluster-01's Prometheus pair, not by an edge agent" },
};

/**
 * Metric names the operator docs' PromQL (docs/ko/**, README) reads that no rule or dashboard above reads. The
 * program does not read the docs: test/metricFilter.test.ts fails on a documented query whose metric is not kept,
 * naming the file: add the name here.
 */
export const DOCUMENTED_METRICS: readonly string[] = [
    // docs/ko/metric-filtering.md: samples per scrape before and after each job's metric relabelling. Series Prometheus
    // writes for every scrape, which no relabelling sees: in no keep-list (lib/agentConfig.ts), and never dropped.
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
];

/** Where a metric name is read, and how (the labels that reader mentions, those it requires non-empty). */
export interface MetricUse extends MetricRead {
    readonly source: string;
}

/** What one rule, dashboard or list reads. */
export interface MetricReader {
    readonly source: string;
    readonly reads: Reads;
}

function readerOf(source: string, exprs: string[]): MetricReader {
    const reads: Reads = {};
    for (const e of exprs) addReads(reads, e, source);
    return { source, reads };
}

/** A list of names read by something that is not PromQL (a config key, a list in the code): no label known. */
function namesReader(source: string, names: readonly string[], labels: string[] = []): MetricReader {
    return { source, reads: Object.fromEntries(names.map((n) => [n, { labels, nonEmpty: [] }])) };
}

/** Fixed arguments for the rule builders: every feature on (a head-series limit, heartbeat, every job), any values. */
const RULE_ARGS = {
    writers: ["cluster-01", "cluster-02"],
    headSeriesLimits: { "cluster-02": 1 },
    thresholds: { queryP99Seconds: 1, cacheHitRatioMin: 0.5, remoteWriteLagSeconds: 1, headSeriesLimitRatio: 0.5, writerSilentFor: "1m", logDiskFreeRatioMin: 0.5 },
    platformNamespaces: ["platform"],
    centralCluster: "cluster-01",
    runbookBaseUrl: "",
};

/** The platform's own rules and dashboards, as readers. `extraDashboards`: more dashboards (the tests add one). */
export function platformReaders(extraDashboards: Dashboard[] = []): MetricReader[] {
    const ruleExprs = (groups: { name: string; rules: Record<string, unknown>[] }[]) => groups.flatMap((g) => g.rules.map((r) => ({ g: g.name, r })));
    const own = [
        ...alertRules(RULE_ARGS).map((r) => readerOf(`rule ${r.alert}`, [r.expr])),
        ...ruleExprs(
            selfMonitoringRuleGroups(
                { thanosJobs: ["thanos-receive"], namespaces: ["platform"], alertmanager: { job: "alertmanager", replicas: 2 }, runbookBaseUrl: "" },
                [{ certificate: "remote-write-ca", notAfter: "2030-01-01T00:00:00Z" }],
            ),
        ).map(({ g, r }) => readerOf(`rule ${g}/${String(r.alert ?? r.record)}`, [String(r.expr)])),
        ...[...dashboards(["platform"]), ...extraDashboards].map((d) => readerOf(`dashboard ${d.title}`, d.panels.flatMap((p) => p.exprs.map((e) => e.expr)))),
    ];
    return own;
}

/** The mixin dashboards the selection keeps, as readers (their recorded series not yet expanded). */
export function mixinReaders(): MetricReader[] {
    return Object.entries(MIXIN_DASHBOARD_SELECTION)
        .filter(([, s]) => s.keep)
        .map(([id]) => {
            const d = MIXIN_DASHBOARDS[id];
            if (!d) throw new Error(`MIXIN_DASHBOARD_SELECTION names "${id}", which ${MIXIN_SOURCE.tag} does not ship`);
            return { source: `${MIXIN_SOURCE.tag} dashboard ${d.title}`, reads: d.reads };
        });
}

/**
 * The raw metric names a set of readers needs, with who reads each: names recorded by a kube-prometheus-stack
 * recording rule are replaced by what that rule reads (recursively), since the agents must keep the inputs.
 */
export function rawMetricUses(readers: MetricReader[]): Map<string, MetricUse[]> {
    const out = new Map<string, MetricUse[]>();
    const add = (name: string, use: MetricUse, seen: Set<string>) => {
        const rule = MIXIN_RECORDING_RULES[name];
        if (rule) {
            if (seen.has(name)) return;
            seen.add(name);
            for (const [input, read] of Object.entries(rule.reads)) add(input, { ...read, source: `${use.source} → ${name} (${rule.file})` }, seen);
            return;
        }
        out.set(name, [...(out.get(name) ?? []), use]);
    };
    for (const r of readers) for (const [name, read] of Object.entries(r.reads)) add(name, { ...read, source: r.source }, new Set());
    return out;
}

export interface UsedMetricsOptions {
    /** `edge.agent.keepMetrics`: names the operator keeps on top of the derived set. */
    readonly keepMetrics?: readonly string[];
    /** Dashboards besides the platform's (the tests add one to prove a new query's metric is kept). */
    readonly extraDashboards?: Dashboard[];
}

/** Every reader of the used set. */
export function usedMetricReaders(o: UsedMetricsOptions = {}): MetricReader[] {
    return [
        ...platformReaders(o.extraDashboards),
        ...mixinReaders(),
        namesReader("documented queries (lib/usedMetrics.ts DOCUMENTED_METRICS)", DOCUMENTED_METRICS),
        // Published by node-exporter's textfile collector on the edges; the alert reads it on the global view.
        namesReader("certificate expiry (lib/certificates.ts)", [CERTIFICATE_EXPIRY_METRIC], ["certificate", "writer"]),
        namesReader("edge.agent.keepMetrics", o.keepMetrics ?? []),
    ];
}

/** The used raw metric names, each with who reads it. */
export function usedMetrics(o: UsedMetricsOptions = {}): Map<string, MetricUse[]> {
    return rawMetricUses(usedMetricReaders(o));
}
