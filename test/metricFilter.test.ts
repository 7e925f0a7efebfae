/**
 * Usage-driven filtering of the edge agents (lib/usedMetrics.ts, lib/agentConfig.ts): nothing a rule, alert,
 * recording rule or dashboard reads is filtered out, a new dashboard query keeps its metric, every kept name is one
 * an exporter produces (or is reported), dropped labels are read by nobody and merge no two series, and a real
 * Prometheus applies the generated relabelling exactly as the evaluator used here does.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { stringify } from "yaml";
import { INFRA_JOBS, INFRA_SERIES_RULES, InfraJob, agentConfig, centralInfraRelabelings, infraKeepLists } from "../lib/agentConfig";
import { CERTIFICATE_EXPIRY_METRIC } from "../lib/certificates";
import type { Dashboard } from "../lib/dashboards";
import { MIXIN_DASHBOARDS, MIXIN_RECORDING_RULES, MIXIN_SOURCE } from "../lib/mixinMetrics";
import { PRODUCED_METRICS } from "../lib/producedMetrics";
import { DOCUMENTED_METRICS, MIXIN_DASHBOARD_SELECTION, usedMetrics } from "../lib/usedMetrics";
import { charts } from "../lib/versions";
import { deriveDashboard, deriveRecordingRules } from "../tools/mixinMetrics";
import { mapSecrets } from "../tools/offline";
import { Plan, ROOT, isHelmChart } from "../tools/plan";
import { keepAlso } from "../scripts/lib/harness";
import { EDGE_STACKS, all, manifest, one, planEdgeWith, planStack, tmpDir, tool, yaml } from "./helpers/plan";
import { upstreamFile, upstreamFolder } from "./helpers/upstream";
import { parsePromQL } from "./helpers/promql";
import { Labels, RelabelRule, relabel, seriesKey } from "./helpers/relabel";

const ARGS = {
    cluster: "cluster-03",
    scope: { namespaces: [], kubeStateMetrics: "ksm:8080", logShipperNamespace: "logging-node" },
    scrapeInterval: "30s",
    remoteWriteUrl: "https://receive.example/api/v1/receive",
    remoteWrite: { capacity: 10000, shards: 4, maxSamplesPerSend: 2000, batchSendDeadline: "5s", minBackoff: "30ms", maxBackoff: "5s", retryOnHttp429: true, flushDeadline: "1m", sampleAgeLimit: "3h" },
    tlsFiles: { ca: "ca", cert: "cert", key: "key" },
};

type Config = { scrape_configs: { job_name: string; metric_relabel_configs?: RelabelRule[]; honor_labels?: boolean }[] };
const rulesOf = (cfg: Config, job: string): RelabelRule[] => cfg.scrape_configs.find((j) => j.job_name === job)!.metric_relabel_configs ?? [];

/** The edge jobs whose exporters produce a name, per lib/producedMetrics.ts (the oracle, apart from the generator). */
function scrapedBy(name: string): InfraJob[] {
    return Object.values(PRODUCED_METRICS).flatMap((s) => (s.names.includes(name) ? [...(s.scrapedBy ?? [])] : []));
}
const PRODUCED = new Set(Object.values(PRODUCED_METRICS).flatMap((s) => s.names));

/**
 * Series shaped like each exporter's: cAdvisor's container, pod sandbox, pod cgroup and system slice (the labels the
 * kubelet puts on them: `id` is the cgroup path, `name` the runtime's container id), kube-state-metrics' pod labels
 * with `uid`. Label values are never empty: Prometheus drops empty labels when it parses an exposition.
 */
function seriesFor(job: InfraJob, name: string): Labels[] {
    const hex = (n: number) => n.toString(16).padStart(64, "a");
    const podCgroup = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b4e28ba_2fa1_11d2_883f_0016d3cca427.slice";
    switch (job) {
        case "cadvisor":
            return [
                { __name__: name, namespace: "shop", pod: "web-0", container: "app", image: "registry.example/web:1.2", name: hex(1), id: `${podCgroup}/cri-containerd-${hex(1)}.scope`, interface: "eth0", device: "/dev/sda" },
                { __name__: name, namespace: "shop", pod: "web-0", image: "registry.k8s.io/pause:3.10", name: hex(2), id: `${podCgroup}/cri-containerd-${hex(2)}.scope`, interface: "eth0" },
                { __name__: name, namespace: "shop", pod: "web-0", id: podCgroup },
                { __name__: name, id: "/system.slice/containerd.service" },
            ];
        case "kube-state-metrics":
            return [{ __name__: name, namespace: "shop", pod: "web-0", uid: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", node: "n1", container: "app", resource: "cpu" }];
        case "node-exporter":
            return [{ __name__: name, cpu: "0", mode: "idle", device: "sda", mountpoint: "/", fstype: "ext4" }];
        case "kubelet":
            return [{ __name__: name, operation_type: "create", namespace: "shop", persistentvolumeclaim: "data" }];
        default:
            return [{ __name__: name }];
    }
}

/**
 * Whether a reader selects a series, as far as the labels that tell cAdvisor's cgroups apart go: it has every one of
 * them the reader requires non-empty. (Other required labels, `le` or `job`, every series of the exporter has.)
 */
const CGROUP_LABELS = ["namespace", "pod", "container", "image", "name", "id"];
const selects = (s: Labels, nonEmpty: readonly string[]) => nonEmpty.every((l) => !CGROUP_LABELS.includes(l) || (s[l] ?? "") !== "");

let readersCache: ReturnType<typeof usedMetrics> | undefined;
const readersOf = (name: string) => (readersCache ??= usedMetrics()).get(name);

/** Names each exporter exposes that no reader uses: the keep-lists must drop them. */
const UNUSED: Record<InfraJob, string[]> = {
    "node-exporter": ["node_boot_time_seconds", "node_scrape_collector_duration_seconds", "promhttp_metric_handler_requests_total"],
    kubelet: ["kubelet_http_requests_total", "apiserver_audit_event_total", "rest_client_request_size_bytes_bucket"],
    cadvisor: ["container_tasks_state", "container_last_seen", "container_memory_failures_total"],
    "kube-state-metrics": ["kube_secret_info", "kube_pod_tolerations", "kube_configmap_info"],
    "prometheus-agent": ["prometheus_http_requests_total", "prometheus_agent_active_series"],
    "fluent-bit": ["fluentbit_input_bytes_total"],
};

/** The PromQL blocks of the operator docs (docs/ko) and the README. */
function docQueries(): { where: string; expr: string }[] {
    const md = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? md(path.join(dir, e.name)) : e.name.endsWith(".md") ? [path.join(dir, e.name)] : []));
    return [...md(path.join(ROOT, "docs", "ko")), path.join(ROOT, "README.md")].flatMap((f) =>
        [...fs.readFileSync(f, "utf8").matchAll(/^```promql\s*\n([\s\S]*?)^```/gm)].map((m) => ({ where: path.relative(ROOT, f), expr: m[1].trim() })),
    );
}

/**
 * Every metric name read, gathered apart from lib/usedMetrics.ts: the rules and dashboards cluster-01's plan deploys
 * (Ruler rule file, the central Prometheus' PrometheusRules, the dashboards ConfigMap), the documented queries, and
 * the selected mixin dashboards with their recording rules expanded to raw metrics.
 */
async function readNames(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const add = (expr: string, where: string) => parsePromQL(expr).metricNames.forEach((n) => out.set(n, out.get(n) ?? where));
    const plan = await planStack("cluster-01");
    const ruler = yaml(manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-ruler-rules")).data["platform.yaml"]);
    const local = all(plan, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").flatMap((r) => manifest(r).spec.groups);
    for (const g of [...ruler.groups, ...local]) for (const r of g.rules) add(r.expr, `rule ${r.alert ?? r.record}`);
    for (const json of Object.values(manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-monitoring-dashboards")).data) as string[]) {
        const d = JSON.parse(json);
        for (const p of d.panels) for (const t of p.targets) add(t.expr, `dashboard ${d.title}`);
    }
    for (const q of docQueries()) add(q.expr, q.where);
    const expand = (name: string, where: string, seen: string[]) => {
        const rule = MIXIN_RECORDING_RULES[name];
        if (!rule) return void out.set(name, out.get(name) ?? where);
        if (!seen.includes(name)) for (const input of Object.keys(rule.reads)) expand(input, `${where} → ${name}`, [...seen, name]);
    };
    for (const [id, s] of Object.entries(MIXIN_DASHBOARD_SELECTION)) if (s.keep) for (const n of Object.keys(MIXIN_DASHBOARDS[id].reads)) expand(n, `mixin ${id}`, []);
    out.set(CERTIFICATE_EXPIRY_METRIC, "the edges' certificate textfile");
    return out;
}

/** `(job, name)` pairs a configuration drops although the job's exporter produces a used name, with its reader. */
function filteredOut(cfg: Config, used: Map<string, string>): string[] {
    const out: string[] = [];
    for (const [name, where] of used) {
        for (const job of scrapedBy(name)) {
            const readers = readersOf(name) ?? [{ source: where, labels: [], nonEmpty: [] }];
            for (const s of seriesFor(job, name)) {
                // A series no reader selects may go (cAdvisor's system slices); one a reader selects must stay, with
                // every label that reader mentions.
                const readersOfIt = readers.filter((r) => selects(s, r.nonEmpty));
                if (readersOfIt.length === 0) continue;
                const kept = relabel(s, rulesOf(cfg, job));
                if (!kept) out.push(`${job}: ${name}${JSON.stringify(s)} dropped, read by ${readersOfIt[0].source}`);
                else for (const r of readersOfIt) for (const l of r.labels) if (s[l] !== undefined && kept[l] !== s[l]) out.push(`${job}: ${name} loses label ${l}, read by ${r.source}`);
            }
        }
    }
    return out;
}

/** The values a plan passes to a chart (the one whose values `has` selects). */
function chartValues(plan: Plan, chart: string, has: (v: any) => boolean): any {
    const found = plan.resources.filter(isHelmChart).map((r) => mapSecrets(r.inputs, true) as { chart: string; values: any }).filter((c) => c.chart === chart && has(c.values));
    assert.strictEqual(found.length, 1, `one ${chart} with those values`);
    return found[0].values;
}

/** cluster-01's own infrastructure scrapes as relabelling per job, from the chart values its plan passes (operator form back to Prometheus'). */
function centralScrapes(plan: Plan): Config {
    const kps = chartValues(plan, "kube-prometheus-stack", (v) => v.prometheus?.prometheusSpec);
    const ne = chartValues(plan, "prometheus-node-exporter", () => true);
    const promForm = (rs: any[]): RelabelRule[] => rs.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v])));
    return {
        scrape_configs: [
            { job_name: "kubelet", metric_relabel_configs: promForm(kps.kubelet.serviceMonitor.metricRelabelings) },
            { job_name: "cadvisor", metric_relabel_configs: promForm(kps.kubelet.serviceMonitor.cAdvisorMetricRelabelings) },
            { job_name: "kube-state-metrics", metric_relabel_configs: promForm(kps["kube-state-metrics"].prometheus.monitor.http.metricRelabelings) },
            { job_name: "node-exporter", metric_relabel_configs: promForm(ne.prometheus.monitor.metricRelabelings) },
            // Not filtered on cluster-01: the platform's own pods' PodMonitors and the pair's own metrics.
            { job_name: "prometheus-agent", metric_relabel_configs: [] },
            { job_name: "fluent-bit", metric_relabel_configs: [] },
        ],
    };
}

describe("usage-driven filtering of the edge agents", function () {
    this.timeout(120000);
    let used: Map<string, string>;
    before(async () => {
        used = await readNames();
    });

    it("derives the mixin data at the chart version lib/versions.ts pins (re-derive when the pin moves)", () => {
        const how = "run npm run derive:mixin-metrics -- <a clone of prometheus-community/helm-charts> and review lib/mixinMetrics.ts";
        assert.strictEqual(MIXIN_SOURCE.chartVersion, charts.kubePrometheusStack.version, `lib/mixinMetrics.ts was derived from ${MIXIN_SOURCE.tag}: ${how}`);
        assert.strictEqual(MIXIN_SOURCE.tag, `kube-prometheus-stack-${charts.kubePrometheusStack.version}`, how);
        // Every dashboard the chart ships is either kept or excluded with a reason; a new one needs a decision.
        assert.deepStrictEqual(Object.keys(MIXIN_DASHBOARD_SELECTION).sort(), Object.keys(MIXIN_DASHBOARDS).sort());
        for (const [id, s] of Object.entries(MIXIN_DASHBOARD_SELECTION)) assert.ok(s.keep || s.why.length > 10, id);
    });

    it("the derivation reads a Helm-templated dashboard and recording rule as the chart renders them with its defaults", () => {
        const values = { grafana: { defaultDashboardsInterval: "1m" } };
        const dashboard = [
            "apiVersion: v1",
            "data:",
            "  x.json: |-",
            '    {{`{"title":"T","tags":["k"],"panels":[{"title":"p","interval":"`}}{{ .Values.grafana.defaultDashboardsInterval }}{{`","targets":[{"expr":"sum(rate(container_cpu_usage_seconds_total{job=\\"`}}{{ $kubeletJob }}{{`\\", namespace=~\\"$namespace\\", container!=\\"\\"}[$__rate_interval])) by (pod)","legendFormat":"{{pod}}"}]}],' +
                '"templating":{"list":[{"name":"namespace","type":"query","includeAll":true,"allValue":".+","query":"label_values(kube_pod_info{job=\\"kube-state-metrics\\"}, namespace)"},' +
                '{"name":"cluster","hide":`}}{{ if .Values.grafana.sidecar.dashboards.multicluster.global.enabled }}0{{ else }}2{{ end }}{{`,"type":"custom","query":"a"}]}}`}}',
            "{{- end }}",
        ].join("\n");
        const d = deriveDashboard("x.yaml", dashboard, values);
        assert.strictEqual(d.title, "T");
        assert.deepStrictEqual(d.reads.container_cpu_usage_seconds_total, { labels: ["container", "job", "namespace", "pod"], nonEmpty: ["container", "job", "namespace"] });
        assert.deepStrictEqual(d.reads.kube_pod_info, { labels: ["job", "namespace"], nonEmpty: ["job", "namespace"] });
        const rules = [
            "spec:",
            "  groups:",
            "  - name: g",
            "    rules:",
            "    - expr: |-",
            '        sum by ({{ range $.Values.defaultRules.additionalAggregationLabels }}{{ . }},{{ end }}cluster, namespace) (kube_pod_owner{job="{{ $kubeStateMetricsJob }}"})',
            "      record: namespace:owners:sum",
            "      {{- if .Values.defaultRules.additionalRuleLabels }}",
            "      labels: {}",
            "      {{- end }}",
            "    - alert: A",
            '      expr: up{job="{{ $kubeletJob }}"} == 0',
            "{{- end }}",
        ].join("\n");
        const r = deriveRecordingRules("r.yaml", rules, { defaultRules: {} });
        assert.deepStrictEqual(Object.keys(r), ["namespace:owners:sum"]);
        assert.deepStrictEqual(r["namespace:owners:sum"].reads, { kube_pod_owner: { labels: ["cluster", "job", "namespace"], nonEmpty: ["job"] } });
        assert.throws(() => deriveRecordingRules("r.yaml", rules.replace("$kubeStateMetricsJob", "$unknownJob"), {}), /unknown template variable/);
        assert.throws(() => deriveDashboard("x.yaml", dashboard.replace("{{ $kubeletJob }}", "{{ include \"x\" . }}"), values), /does not understand/);
    });

    it("the used set holds every metric the deployed rules and dashboards and the documented queries read", () => {
        const program = usedMetrics();
        const missing = [...used].filter(([n]) => !program.has(n)).map(([n, where]) => `${n} (${where}): add it to DOCUMENTED_METRICS in lib/usedMetrics.ts if only a document reads it`);
        assert.deepStrictEqual(missing, []);
        assert.ok(used.size > 150, `${used.size} names`);
        assert.ok(DOCUMENTED_METRICS.every((n) => used.has(n)), "DOCUMENTED_METRICS lists a name no document reads any more");
    });

    for (const stack of EDGE_STACKS) {
        it(`${stack}: nothing a rule, alert, recording rule or dashboard reads is filtered out, label included (every agent)`, async () => {
            const configs = (await planStack(stack)).outputs.agentConfigs as Record<string, string>;
            for (const [writer, text] of Object.entries(configs)) assert.deepStrictEqual(filteredOut(yaml(text), used), [], writer);
        });
    }

    it("cluster-01: its own kubelet, cAdvisor, kube-state-metrics and node-exporter scrapes filter the same way, and lose nothing a reader reads", async () => {
        const plan = await planStack("cluster-01");
        const central = centralScrapes(plan);
        assert.deepStrictEqual(filteredOut(central, used), []);
        for (const job of ["kubelet", "cadvisor", "kube-state-metrics", "node-exporter"] as const) {
            assert.deepStrictEqual(rulesOf(central, job), rulesOf(agentConfig(ARGS) as Config, job), job);
        }
        // Every key is one of the Prometheus Operator's RelabelConfig fields (at the version the chart deploys).
        const fields = new Set(
            upstreamFile(upstreamFolder("prometheus-operator", "v0.93.0", "see SOURCE.json"), "remote-write.fields.txt")
                .split("\n")
                .filter((l) => l.startsWith("RelabelConfig\t"))
                .map((l) => l.split("\t")[1]),
        );
        assert.ok(fields.has("replacement") && fields.has("sourceLabels"));
        const rules = Object.values(centralInfraRelabelings()).flat();
        assert.deepStrictEqual(rules.flatMap((r) => Object.keys(r)).filter((k) => !fields.has(k)), []);
        // central.monitoring.prometheus.keepMetrics: kept by the pair as on the edges.
        assert.ok(relabel({ __name__: "node_boot_time_seconds" }, centralInfraRelabelings(["node_boot_time_seconds"])["node-exporter"].map((r) => ({ ...r, source_labels: r.sourceLabels }))));
    });

    it("the check above fails on a configuration that drops a used name or label (so it can fail)", () => {
        const cfg = agentConfig({ ...ARGS, extraDropMetrics: ["node_load1"] }) as Config;
        assert.ok(filteredOut(cfg, used).some((p) => p.startsWith("node-exporter: node_load1")));
        const labels = agentConfig(ARGS) as Config;
        rulesOf(labels, "kube-state-metrics").push({ regex: "namespace", action: "labeldrop" });
        assert.ok(filteredOut(labels, used).some((p) => p.includes("loses label namespace")));
    });

    it("each job drops what no reader uses, and the tenants' pods job keeps everything", () => {
        const cfg = agentConfig(ARGS) as Config;
        for (const job of INFRA_JOBS) for (const n of UNUSED[job]) assert.strictEqual(relabel({ __name__: n }, rulesOf(cfg, job)), undefined, `${job} ${n}`);
        assert.deepStrictEqual(rulesOf(cfg, "pods"), []);
    });

    it("a dashboard query for a new metric keeps that metric, in the job whose exporter has it", () => {
        const query = (expr: string): Dashboard => ({ uid: "x", title: "Operator's", panels: [{ title: "p", unit: "short", exprs: [{ expr, legend: "" }] }] });
        const before = agentConfig(ARGS) as Config;
        const newMetric = { node: "node_pressure_cpu_waiting_seconds_total", ksm: "kube_deployment_status_replicas_available" };
        assert.strictEqual(relabel({ __name__: newMetric.node }, rulesOf(before, "node-exporter")), undefined);
        assert.strictEqual(relabel({ __name__: newMetric.ksm }, rulesOf(before, "kube-state-metrics")), undefined);
        const after = agentConfig({ ...ARGS, extraDashboards: [query(`rate(${newMetric.node}[5m]) + on () group_left sum(${newMetric.ksm})`)] }) as Config;
        assert.ok(relabel({ __name__: newMetric.node }, rulesOf(after, "node-exporter")));
        assert.ok(relabel({ __name__: newMetric.ksm }, rulesOf(after, "kube-state-metrics")));
        // Only there: the kubelet's list does not grow with another exporter's names.
        assert.deepStrictEqual(rulesOf(after, "kubelet"), rulesOf(before, "kubelet"));
    });

    it("edge.agent.keepMetrics keeps a name in the planned agents; a bad value or one also dropped fails naming the stack and the key", async () => {
        const plan = await planEdgeWith("cluster-04", (e) => (e.agent = { ...(e.agent ?? {}), keepMetrics: ["node_boot_time_seconds", "my_exporter_up"] }));
        const cfg = yaml((plan.outputs.agentConfigs as Record<string, string>)["cluster-04"]) as Config;
        assert.ok(relabel({ __name__: "node_boot_time_seconds" }, rulesOf(cfg, "node-exporter")));
        assert.strictEqual(relabel({ __name__: "node_boot_time_seconds" }, rulesOf(cfg, "kubelet")), undefined);
        // A name of no exporter family is kept by every infrastructure job.
        for (const job of INFRA_JOBS) assert.ok(relabel({ __name__: "my_exporter_up" }, rulesOf(cfg, job)), job);
        await assert.rejects(
            planEdgeWith("cluster-04", (e) => (e.agent = { keepMetrics: ["slo:x:ratio"] })),
            (err: Error) => /stack "cluster-04"/.test(err.message) && /agent-receiver:edge\.agent\.keepMetrics\[0\]: .*recording rule/.test(err.message),
        );
        await assert.rejects(
            planEdgeWith("cluster-04", (e) => (e.agent = { keepMetrics: ["node_load1"], extraDropMetrics: ["node_load1"] })),
            (err: Error) => /stack "cluster-04"/.test(err.message) && /agent-receiver:edge\.agent\.keepMetrics\[0\]: "node_load1" is also in edge\.agent\.extraDropMetrics/.test(err.message),
        );
    });

    it("the harness's keepAlso keeps a name exactly as edge.agent.keepMetrics does", () => {
        const byScript = agentConfig(ARGS) as Config;
        keepAlso(byScript, ["e2e_scrape_sequence"]);
        assert.deepStrictEqual(byScript, agentConfig({ ...ARGS, keepMetrics: ["e2e_scrape_sequence"] }));
    });

    /**
     * Kept names no exporter the edges scrape defines at the version lib/producedMetrics.ts checks, each with why it
     * is kept anyway: the mixin dashboards read them as a fallback or for older versions. A used name that is not
     * produced and not here is a typo or a metric that is gone: the check below fails with it.
     */
    const KEPT_NOT_PRODUCED: Record<string, string> = {
        prometheus_remote_storage_dropped_samples_total: "Prometheus / Remote Write reads the pre-2.x name beside samples_dropped_total",
        prometheus_remote_storage_failed_samples_total: "Prometheus / Remote Write reads the pre-2.x name beside samples_failed_total",
        prometheus_remote_storage_pending_samples: "Prometheus / Remote Write reads the pre-2.x name beside samples_pending",
        prometheus_remote_storage_retried_samples_total: "Prometheus / Remote Write reads the pre-2.x name beside samples_retried_total",
        prometheus_remote_storage_succeeded_samples_total: "Prometheus / Remote Write reads the pre-2.x name beside samples_total",
        kubelet_node_config_error: "Kubernetes / Kubelet reads it; the kubelet dropped it with dynamic kubelet configuration (not in pkg/kubelet/metrics/metrics.go today)",
        storage_operation_errors_total: "Kubernetes / Kubelet reads it; the kubelet counts errors as storage_operation_duration_seconds{status} instead (not defined by a current kubelet)",
    };
    const notProduced = (cfg: Config) =>
        [...new Set(INFRA_JOBS.flatMap((job) => (rulesOf(cfg, job)[0].regex as string).slice(1, -1).split("|")))].filter((n) => !PRODUCED.has(n) && !(n in KEPT_NOT_PRODUCED)).sort();

    it("every kept name is produced by an exporter the edges scrape (lib/producedMetrics.ts), or reported with why it is kept", () => {
        assert.deepStrictEqual(notProduced(agentConfig(ARGS) as Config), []);
        for (const n of Object.keys(KEPT_NOT_PRODUCED)) assert.ok(used.has(n) && !PRODUCED.has(n), `${n}: drop it from KEPT_NOT_PRODUCED`);
    });

    it("a typo in a used name is reported by that check (so it can fail)", () => {
        const typo: Dashboard = { uid: "t", title: "t", panels: [{ title: "p", unit: "short", exprs: [{ expr: "rate(node_cpu_second_total[5m])", legend: "" }] }] };
        assert.deepStrictEqual(notProduced(agentConfig({ ...ARGS, extraDashboards: [typo] }) as Config), ["node_cpu_second_total"]);
    });

    it("the labels the agents drop are read by no rule or dashboard, for any metric of their job", () => {
        const dropped: Partial<Record<InfraJob, string>> = { cadvisor: "id", "kube-state-metrics": "uid" };
        const keep = infraKeepLists(usedMetrics().keys());
        const readers = usedMetrics();
        const problems = Object.entries(dropped).flatMap(([job, label]) =>
            keep[job as InfraJob].flatMap((n) => (readers.get(n) ?? []).filter((r) => r.labels.includes(label!)).map((r) => `${job} ${n}: ${label} read by ${r.source}`)),
        );
        assert.deepStrictEqual(problems, []);
        // What the series rules do, stated once more: exactly these labels and cAdvisor's pod-less cgroups.
        assert.deepStrictEqual(Object.keys(INFRA_SERIES_RULES).sort(), ["cadvisor", "kube-state-metrics"]);
    });

    /** A node's cAdvisor series where a naive label drop would merge two: a restarted container, a StatefulSet pod re-created before its old cgroup is gone. */
    function cadvisorNode(): Labels[] {
        const hex = (n: number) => n.toString(16).padStart(64, "0");
        const pod = (uid: string) => `/kubepods.slice/kubepods-pod${uid}.slice`;
        const out: Labels[] = [{ __name__: "container_cpu_usage_seconds_total", id: "/" }, { __name__: "container_cpu_usage_seconds_total", id: "/system.slice/kubelet.service" }];
        for (const [uid, n0] of [["u1", 10], ["u2", 20]] as const) {
            // web-0 twice: the old pod's cgroup not yet removed when the new one starts (same name, other UID).
            out.push({ __name__: "container_cpu_usage_seconds_total", namespace: "shop", pod: "web-0", id: pod(uid) });
            out.push({ __name__: "container_cpu_usage_seconds_total", namespace: "shop", pod: "web-0", image: "pause", name: hex(n0), id: `${pod(uid)}/cri-containerd-${hex(n0)}.scope` });
            // The app container, restarted: old and new container both present for a moment.
            for (const k of [1, 2]) out.push({ __name__: "container_cpu_usage_seconds_total", namespace: "shop", pod: "web-0", container: "app", image: "web:1", name: hex(n0 + k), id: `${pod(uid)}/cri-containerd-${hex(n0 + k)}.scope` });
        }
        return out;
    }
    const collisions = (series: Labels[], rules: RelabelRule[]) => {
        const keys = series.map((s) => relabel(s, rules)).filter((s): s is Labels => s !== undefined).map(seriesKey);
        return keys.length - new Set(keys).size;
    };

    it("dropping labels never makes two cAdvisor or kube-state-metrics series one", () => {
        const cfg = agentConfig(ARGS) as Config;
        assert.strictEqual(collisions(cadvisorNode(), rulesOf(cfg, "cadvisor")), 0);
        const pods = ["web-0", "web-1", "db-0"].flatMap((p, i) => ["cpu", "memory"].map((r) => ({ __name__: "kube_pod_container_resource_requests", namespace: "shop", pod: p, uid: `uid-${i}`, container: "app", resource: r })));
        assert.strictEqual(collisions(pods, rulesOf(cfg, "kube-state-metrics")), 0);
        // The same check finds the merge a plain drop of both id and name would cause (so it can fail).
        const naive = [...rulesOf(cfg, "cadvisor").slice(0, 2), { regex: "id|name", action: "labeldrop" }];
        assert.ok(collisions(cadvisorNode(), naive) > 0);
    });

    it("a real Prometheus (Debian's 2.42) applies the generated relabelling as the evaluator does: every used name kept, unused ones and dropped labels gone", async function () {
        const prometheus = tool("prometheus");
        const cfg = agentConfig(ARGS) as Config;
        const keep = infraKeepLists(usedMetrics().keys());
        const inputs: Record<InfraJob, Labels[]> = Object.fromEntries(
            INFRA_JOBS.map((job) => [job, [...keep[job], ...UNUSED[job]].flatMap((n) => seriesFor(job, n))]),
        ) as Record<InfraJob, Labels[]>;
        const exposition = (series: Labels[]) =>
            series.map((s) => `${s.__name__}{${Object.entries(s).filter(([k]) => k !== "__name__").map(([k, v]) => `${k}="${v}"`).join(",")}} 1`).join("\n") + "\n";
        const server = http.createServer((req, res) => res.end(exposition(inputs[(req.url ?? "/").slice(1) as InfraJob] ?? [])));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const port = await new Promise<number>((r) => {
            const s = net.createServer().listen(0, "127.0.0.1", () => {
                const p = (s.address() as net.AddressInfo).port;
                s.close(() => r(p));
            });
        });
        const dir = tmpDir("metric-filter-");
        const target = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
        fs.writeFileSync(
            path.join(dir, "prometheus.yml"),
            stringify({
                global: { scrape_interval: "1s", scrape_timeout: "900ms" },
                scrape_configs: INFRA_JOBS.map((job) => ({
                    job_name: job,
                    metrics_path: `/${job}`,
                    honor_labels: cfg.scrape_configs.find((j) => j.job_name === job)!.honor_labels ?? false,
                    static_configs: [{ targets: [target] }],
                    metric_relabel_configs: rulesOf(cfg, job),
                })),
            }),
        );
        let child: ChildProcess | undefined;
        try {
            child = spawn(prometheus, [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=127.0.0.1:${port}`], { stdio: "ignore" });
            const api = async (q: string) => (await (await fetch(`http://127.0.0.1:${port}/api/v1/${q}`)).json()) as any;
            let series: Labels[] = [];
            for (let i = 0; i < 60; i++) {
                await new Promise((r) => setTimeout(r, 500));
                try {
                    const up = await api(`query?query=${encodeURIComponent(`count(up == 1) == ${INFRA_JOBS.length}`)}`);
                    if (up.data?.result?.length !== 1) continue;
                    series = (await api(`series?${encodeURIComponent("match[]")}=${encodeURIComponent('{__name__=~".+", __name__!~"up|scrape_.+"}')}`)).data;
                    break;
                } catch {
                    /* not up yet */
                }
            }
            assert.ok(series.length > 0, "the local Prometheus stored nothing");
            const real = new Set(series.map((s) => seriesKey(Object.fromEntries(Object.entries(s).filter(([k]) => k !== "instance")))));
            const expected = new Set(
                INFRA_JOBS.flatMap((job) => inputs[job].map((s) => relabel({ ...s, job }, rulesOf(cfg, job))).filter((s): s is Labels => s !== undefined).map(seriesKey)),
            );
            assert.deepStrictEqual([...real].sort(), [...expected].sort());
            // And the stored series hold every used name the jobs produce, none of the unused ones.
            const names = new Set(series.map((s) => s.__name__));
            for (const job of INFRA_JOBS) for (const n of UNUSED[job]) assert.ok(!names.has(n), n);
            assert.ok(names.has("node_cpu_seconds_total") && names.has("kube_pod_info") && names.has("container_network_receive_bytes_total"));
        } finally {
            child?.kill("SIGKILL");
            server.close();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
