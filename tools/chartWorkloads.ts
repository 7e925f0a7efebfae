/**
 * The pods a pinned chart runs with the values the program passes: which Deployments, StatefulSets and DaemonSets
 * its templates (and, for kube-prometheus-stack, the Prometheus operator) create, how many copies, and each
 * container's requests and limits. Read from the chart's default values (test/fixtures/upstream/<chart>-<version>/)
 * merged with ours the way Helm merges them (maps deep, lists replaced), so a default the program does not override
 * (OpenSearch's, Grafana's `{}`) counts as what it is.
 *
 * The templates are not rendered here (no Helm); each model below follows the workload templates of the pinned
 * version, named in its comment, for the values that decide a pod: whether it is rendered, its kind, its replicas,
 * its containers and their `resources`. What a model cannot decide from values (a templated string of extra
 * containers, an autoscaler) is returned as not counted, by name, with the reason.
 */
import { ChartMeta, chartDefaults, chartMeta, deepMerge } from "./charts";

export interface Quantities {
    readonly cpu?: string;
    readonly memory?: string;
}

/** A container's resources as the pod runs it. Only containers that run for the pod's life count (and native sidecars). */
export interface ContainerResources {
    readonly name: string;
    readonly requests: Quantities;
    readonly limits: Quantities;
}

export type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet";

export interface Workload {
    /** `program`, or `chart <chart> <version>` (release `<release>`). */
    readonly source: string;
    readonly kind: WorkloadKind;
    readonly namespace: string;
    /** The object's name (a chart's: as its templates name it for this release and these values). */
    readonly name: string;
    /** Pods of a Deployment or StatefulSet; undefined for a DaemonSet (one per node it runs on). */
    readonly replicas?: number;
    readonly containers: readonly ContainerResources[];
}

/** A workload whose pods are not in the totals, and why. */
export interface Uncounted {
    readonly source: string;
    readonly name: string;
    readonly why: string;
}

export interface ChartPods {
    readonly workloads: Workload[];
    readonly uncounted: Uncounted[];
}

/** A Helm chart as the program declares it (the `kubernetes:helm.sh/v4:Chart` inputs). */
export interface ChartRelease {
    readonly chart: string;
    readonly version: string;
    /** Helm release name: the Chart's `name`, else the Pulumi resource name. */
    readonly release: string;
    readonly namespace: string;
    readonly values: Record<string, unknown>;
}

type Values = Record<string, any>;

/** `resources` of a values block as a container's: Kubernetes sets a missing request to the limit. */
function resources(name: string, r: any): ContainerResources {
    const str = (x: unknown) => (x === undefined || x === null || x === "" ? undefined : String(x));
    const set = (q: Quantities): Quantities => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined));
    const limits = { cpu: str(r?.limits?.cpu), memory: str(r?.limits?.memory) };
    const requests = { cpu: str(r?.requests?.cpu) ?? limits.cpu, memory: str(r?.requests?.memory) ?? limits.memory };
    return { name, requests: set(requests), limits: set(limits) };
}

/** Helm's usual `<chart>.fullname`: fullnameOverride, else the release if it contains the name, else `<release>-<name>`. */
function fullname(v: Values, release: string, chart: string, max = 63): string {
    const cut = (s: string) => s.slice(0, max).replace(/-+$/, "");
    if (v.fullnameOverride) return cut(String(v.fullnameOverride));
    const name = v.nameOverride || chart;
    return cut(release.includes(name) ? release : `${release}-${name}`);
}

/** Extra containers given as a list in values; a templated string is not evaluated here. */
function extraContainers(list: unknown, what: string, source: string, workload: string, uncounted: Uncounted[]): ContainerResources[] {
    if (list === undefined || list === null || list === "" || (Array.isArray(list) && list.length === 0)) return [];
    if (!Array.isArray(list)) {
        uncounted.push({ source, name: `${workload} (${what})`, why: `${what} is a template string, not evaluated offline: its containers' requests are not in the totals` });
        return [];
    }
    return list.map((c: any) => resources(String(c?.name ?? what), c?.resources));
}

/** Apply a custom resource's `containers` (strategic merge by name, as the operator does): same name patches, new name adds. */
function mergeContainers(generated: ContainerResources[], overrides: unknown): ContainerResources[] {
    const out = [...generated];
    for (const c of Array.isArray(overrides) ? overrides : []) {
        const i = out.findIndex((g) => g.name === c?.name);
        if (i === -1) out.push(resources(String(c?.name), c?.resources));
        else if (c?.resources) out[i] = resources(out[i].name, c.resources);
    }
    return out;
}

interface ModelContext {
    readonly release: string;
    readonly namespace: string;
    readonly source: string;
    readonly uncounted: Uncounted[];
}

type Model = (v: Values, ctx: ModelContext) => Workload[];

/** opensearch: templates/statefulset.yaml (opensearch 3.6.0). */
const openSearch: Model = (v, ctx) => {
    const name = v.fullnameOverride || `${v.nameOverride || v.clusterName}-${v.nodeGroup}`;
    const containers = [resources("opensearch", v.resources)];
    if (v.masterTerminationFix && (v.roles ?? []).includes("master")) containers.push(resources("opensearch-master-graceful-termination-handler", v.sidecarResources));
    containers.push(...extraContainers(v.extraContainers, "extraContainers", ctx.source, name, ctx.uncounted));
    return [{ source: ctx.source, kind: "StatefulSet", namespace: ctx.namespace, name, replicas: v.singleNode ? 1 : Number(v.replicas), containers }];
};

/** opensearch-dashboards: templates/deployment.yaml (opensearch-dashboards 3.6.0). */
const openSearchDashboards: Model = (v, ctx) => {
    const name = fullname(v, ctx.release, "opensearch-dashboards");
    const containers = [resources("dashboards", v.resources), ...extraContainers(v.extraContainers, "extraContainers", ctx.source, name, ctx.uncounted)];
    return [{ source: ctx.source, kind: "Deployment", namespace: ctx.namespace, name, replicas: Number(v.replicaCount), containers }];
};

/** fluent-bit: templates/daemonset.yaml, deployment.yaml and _pod.tpl (fluent-bit 0.58.1). */
const fluentBit: Model = (v, ctx) => {
    const name = fullname(v, ctx.release, "fluent-bit");
    const containers = [resources("fluent-bit", v.resources)];
    if (v.hotReload?.enabled) containers.push(resources("reloader", v.hotReload.resources));
    containers.push(...extraContainers(v.extraContainers, "extraContainers", ctx.source, name, ctx.uncounted));
    if (v.kind === "DaemonSet") return [{ source: ctx.source, kind: "DaemonSet", namespace: ctx.namespace, name, containers }];
    if (v.kind === "Deployment") {
        if (v.autoscaling?.enabled) {
            ctx.uncounted.push({ source: ctx.source, name, why: "autoscaling.enabled: a HorizontalPodAutoscaler decides its replicas" });
            return [];
        }
        return [{ source: ctx.source, kind: "Deployment", namespace: ctx.namespace, name, replicas: Number(v.replicaCount), containers }];
    }
    ctx.uncounted.push({ source: ctx.source, name, why: `kind ${v.kind}: the chart renders no workload of that kind` });
    return [];
};

/** prometheus-node-exporter: templates/daemonset.yaml (prometheus-node-exporter 4.56.1). */
const nodeExporter: Model = (v, ctx) => {
    const name = fullname(v, ctx.release, "prometheus-node-exporter");
    const containers = [resources("node-exporter", v.resources)];
    containers.push(...extraContainers(v.sidecars, "sidecars", ctx.source, name, ctx.uncounted));
    if (v.kubeRBACProxy?.enabled) containers.push(resources("kube-rbac-proxy", v.kubeRBACProxy.resources));
    return [{ source: ctx.source, kind: "DaemonSet", namespace: ctx.namespace, name, containers }];
};

/** kube-state-metrics: templates/deployment.yaml (kube-state-metrics 8.4.0; a StatefulSet when autosharding). */
const kubeStateMetrics: Model = (v, ctx) => {
    const name = fullname(v, ctx.release, "kube-state-metrics");
    const containers = [resources("kube-state-metrics", v.resources)];
    if (v.kubeRBACProxy?.enabled) {
        containers.push(resources("kube-rbac-proxy-http", v.kubeRBACProxy.resources));
        if (v.selfMonitor?.enabled) containers.push(resources("kube-rbac-proxy-telemetry", v.kubeRBACProxy.resources));
    }
    containers.push(...extraContainers(v.containers, "containers", ctx.source, name, ctx.uncounted));
    return [{ source: ctx.source, kind: v.autosharding?.enabled ? "StatefulSet" : "Deployment", namespace: ctx.namespace, name, replicas: Number(v.replicas), containers }];
};

/** grafana: templates/deployment.yaml, statefulset.yaml, _pod.tpl, image-renderer-deployment.yaml (grafana 12.11.1). */
const grafana: Model = (v, ctx) => {
    const name = fullname(v, ctx.release, "grafana");
    const out: Workload[] = [];
    // Sidecars run as containers unless they run once as init containers (init*), or as native sidecars
    // (an init container with restartPolicy Always, which runs for the pod's life).
    const sc = v.sidecar ?? {};
    const containers = [resources("grafana", v.resources)];
    for (const [kind, init] of [["alerts", "initAlerts"], ["dashboards", "initDashboards"], ["datasources", "initDatasources"], ["notifiers", "initNotifiers"], ["plugins", ""]] as const) {
        const s = sc[kind];
        if (!s?.enabled) continue;
        const runsOnce = init !== "" && s[init] && s.restartPolicy !== "Always";
        if (!runsOnce) containers.push(resources(`grafana-sc-${kind}`, sc.resources));
    }
    containers.push(...extraContainers(v.extraContainers, "extraContainers", ctx.source, name, ctx.uncounted));
    const statefulSet = v.useStatefulSet || (v.persistence?.enabled && v.persistence?.type === "statefulset");
    if (v.autoscaling?.enabled) ctx.uncounted.push({ source: ctx.source, name, why: "autoscaling.enabled: a HorizontalPodAutoscaler decides its replicas" });
    else out.push({ source: ctx.source, kind: statefulSet ? "StatefulSet" : "Deployment", namespace: ctx.namespace, name, replicas: Number(v.replicas), containers });
    const renderer = v.imageRenderer ?? {};
    if (renderer.enabled) {
        const rname = `${name}-image-renderer`;
        if (renderer.autoscaling?.enabled) ctx.uncounted.push({ source: ctx.source, name: rname, why: "imageRenderer.autoscaling.enabled: a HorizontalPodAutoscaler decides its replicas" });
        else out.push({ source: ctx.source, kind: "Deployment", namespace: ctx.namespace, name: rname, replicas: Number(renderer.replicas), containers: [resources("grafana-image-renderer", renderer.resources)] });
    }
    return out;
};

/**
 * kube-prometheus-stack: templates/prometheus-operator/deployment.yaml and admission-webhooks/deployment/, and the
 * Prometheus, Alertmanager and ThanosRuler resources (templates/prometheus/prometheus.yaml, alertmanager/,
 * thanos-ruler/) whose StatefulSets the operator makes (prometheus-operator v0.93.0, pkg/prometheus/server,
 * pkg/alertmanager, pkg/thanos statefulset.go): the main container with the resource's `resources` (Alertmanager
 * and ThanosRuler get a 200Mi memory request when none is set), a `config-reloader` with
 * `prometheusOperator.prometheusConfigReloader.resources` (the chart passes "0" when unset: no request), a
 * `thanos-sidecar` when `prometheusSpec.thanos` is set, and the resource's `containers` merged by name. Subcharts
 * follow their Chart.yaml conditions.
 */
const kubePrometheusStack: Model = (v, ctx) => {
    const out: Workload[] = [];
    const full = fullname(v, ctx.release, "kube-prometheus-stack", 26);
    const po = v.prometheusOperator ?? {};
    const reloader = resources("config-reloader", po.prometheusConfigReloader?.resources);
    const crName = (suffix: string) => (v.cleanPrometheusOperatorObjectNames ? full : `${full}-${suffix}`);
    const withOperatorDefault = (r: any) => ({ ...r, requests: { memory: "200Mi", ...r?.requests } });
    if (po.enabled) {
        const operatorName = po.fullnameOverride || `${full}-operator`;
        out.push({ source: ctx.source, kind: "Deployment", namespace: ctx.namespace, name: operatorName, replicas: 1, containers: [resources("kube-prometheus-stack", po.resources)] });
        const webhook = po.admissionWebhooks?.deployment;
        if (webhook?.enabled) {
            out.push({ source: ctx.source, kind: "Deployment", namespace: ctx.namespace, name: `${operatorName}-webhook`, replicas: Number(webhook.replicas), containers: [resources("kube-prometheus-stack-webhook", webhook.resources)] });
        }
    }
    const prom = v.prometheus ?? {};
    if (prom.enabled) {
        const spec = prom.prometheusSpec ?? {};
        const main = [resources("prometheus", spec.resources), reloader];
        if (spec.thanos && Object.keys(spec.thanos).length > 0) main.push(resources("thanos-sidecar", spec.thanos.resources));
        const shards = spec.shards === undefined || spec.shards === null ? 1 : Number(spec.shards);
        out.push({ source: ctx.source, kind: "StatefulSet", namespace: ctx.namespace, name: `prometheus-${crName("prometheus")}`, replicas: Number(spec.replicas) * shards, containers: mergeContainers(main, spec.containers) });
    }
    const am = v.alertmanager ?? {};
    if (am.enabled) {
        const spec = am.alertmanagerSpec ?? {};
        const main = [resources("alertmanager", withOperatorDefault(spec.resources)), reloader];
        out.push({ source: ctx.source, kind: "StatefulSet", namespace: ctx.namespace, name: `alertmanager-${crName("alertmanager")}`, replicas: Number(spec.replicas), containers: mergeContainers(main, spec.containers) });
    }
    const tr = v.thanosRuler ?? {};
    if (tr.enabled) {
        const spec = tr.thanosRulerSpec ?? {};
        const main = [resources("thanos-ruler", withOperatorDefault(spec.resources)), reloader];
        out.push({ source: ctx.source, kind: "StatefulSet", namespace: ctx.namespace, name: `thanos-ruler-${crName("thanos-ruler")}`, replicas: Number(spec.replicas), containers: mergeContainers(main, spec.containers) });
    }
    return out;
};

const MODELS: Record<string, Model> = {
    opensearch: openSearch,
    "opensearch-dashboards": openSearchDashboards,
    "fluent-bit": fluentBit,
    "prometheus-node-exporter": nodeExporter,
    "kube-state-metrics": kubeStateMetrics,
    grafana,
    "kube-prometheus-stack": kubePrometheusStack,
    // kube-prometheus-stack's `crds` subchart renders CustomResourceDefinitions only (its upgrade Job is a hook).
    crds: () => [],
};

/** Charts whose workloads are modelled (the ones the program installs, and their subcharts). */
export const MODELLED_CHARTS: readonly string[] = Object.keys(MODELS);

function valueAt(v: Values, dotted: string): unknown {
    return dotted.split(".").reduce<any>((o, k) => (o === undefined || o === null ? undefined : o[k]), v);
}

const pinnedCharts = new Map<string, { defaults: Record<string, unknown>; meta: ChartMeta }>();
/** A pinned chart's defaults (subcharts' merged under their keys) and Chart.yaml, read once per process. */
function pinnedChart(chart: string, version: string) {
    const key = `${chart}@${version}`;
    let found = pinnedCharts.get(key);
    if (!found) {
        found = { defaults: chartDefaults(chart, version), meta: chartMeta(chart, version) };
        pinnedCharts.set(key, found);
    }
    return found;
}

/** Every workload a chart release runs (its subcharts' too), from its pinned defaults merged with `values`. */
export function chartWorkloads(c: ChartRelease): ChartPods {
    const uncounted: Uncounted[] = [];
    const source = `chart ${c.chart} ${c.version}`;
    const model = MODELS[c.chart];
    if (!model) {
        uncounted.push({ source, name: `release ${c.release}`, why: `no workload model for chart ${c.chart} in tools/chartWorkloads.ts: its pods are not in the totals` });
        return { workloads: [], uncounted };
    }
    const pinned = pinnedChart(c.chart, c.version);
    const v = deepMerge(pinned.defaults, c.values) as Values;
    const workloads = model(v, { release: c.release, namespace: c.namespace, source, uncounted });
    for (const dep of pinned.meta.dependencies ?? []) {
        if (dep.condition && !valueAt(v, dep.condition)) continue;
        const key = dep.alias ?? dep.name;
        const sub = MODELS[dep.name];
        const subSource = `${source} › ${dep.name} ${dep.version}`;
        if (!sub) {
            uncounted.push({ source: subSource, name: `subchart ${key}`, why: `no workload model for chart ${dep.name}: its pods are not in the totals` });
            continue;
        }
        workloads.push(...sub((v[key] ?? {}) as Values, { release: c.release, namespace: c.namespace, source: subSource, uncounted }));
    }
    return { workloads, uncounted };
}
