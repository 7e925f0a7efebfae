/**
 * The container images the pinned charts run, with the program's values applied: each chart's default values
 * (test/fixtures/upstream/<chart>-<version>/values.yaml, its subcharts' merged under their keys) with the values the
 * plan passes merged over them, read the way the chart's templates read them (registry, repository, the tag or the
 * chart's appVersion, a digest). `npm run images` lists them next to the program's own images for the image scan.
 *
 * Every place in a chart's values that names an image (a map with a `repository`: `image`, `thanosImage`,
 * `downloadDashboardsImage`, …) is in the table below with the condition under which the chart runs a container
 * from it. A test walks the effective values of every chart of every stack and fails on a place the table does not
 * know, so a chart bump that adds a sidecar cannot leave its image out of the scan.
 *
 * The conditions and reference formats are the pinned charts' templates as their values document them (comments
 * next to each key, e.g. "If unset use v + .Charts.appVersion"); the templates themselves are not in the fixtures,
 * and no chart is rendered here (no helm).
 */
import { ChartMeta, chartMeta, effectiveValues } from "./charts";
import { mapSecrets } from "./offline";
import { Plan, isHelmChart } from "./plan";

type Values = Record<string, any>;

/** An image a chart runs, and where it comes from. */
export interface ChartImage {
    /** Fully qualified reference: `registry/repository:tag[@digest]` (Docker Hub names get `docker.io/[library/]`). */
    readonly image: string;
    /** `chart@version`. */
    readonly chart: string;
    /** Path of the image's map in the chart's values (a subchart's under its key). */
    readonly at: string;
}

/** One place in a chart's values that names an image. */
interface ImageSite {
    /** Dotted path in the chart's values (a subchart's under its key). */
    readonly at: string;
    /** Whether the chart runs a container from it with these effective values (its template's condition). */
    readonly runs: (v: Values) => boolean;
    /** The reference the template renders. */
    readonly ref: (v: Values) => string;
    /**
     * The template's default is a string key the values.yaml only mentions in a comment (OpenSearch's busybox init
     * containers): not a map the completeness walk sees, so the key may be absent.
     */
    readonly implicit?: true;
}

/** The value at a dotted path (`undefined` when any step is missing). */
export function valueAt(v: unknown, at: string): any {
    return at.split(".").reduce((o: any, k) => (o === null || o === undefined ? undefined : o[k]), v);
}

const on = (at: string) => (v: Values) => valueAt(v, at) === true;
const all =
    (...conds: ((v: Values) => boolean)[]) =>
    (v: Values) =>
        conds.every((c) => c(v));
const nonEmpty = (x: unknown) => x !== null && x !== undefined && (typeof x !== "object" || Object.keys(x as object).length > 0);

function appVersion(meta: ChartMeta): string {
    if (meta.appVersion === undefined) throw new Error(`${meta.name} ${meta.version}: Chart.yaml has no appVersion, and an image tag defaults to it`);
    return String(meta.appVersion);
}

const noDefault = (at: string) => (): string => {
    throw new Error(`${at}: no tag, and the chart has no default for this image`);
};

/** `@sha256:<sha>` (the prometheus-community and grafana charts' `sha`) or `@<digest>` (`digest`), if set. */
function withDigest(ref: string, img: { sha?: unknown; digest?: unknown }): string {
    if (typeof img.sha === "string" && img.sha !== "") return `${ref}@sha256:${img.sha.replace(/^sha256:/, "")}`;
    if (typeof img.digest === "string" && img.digest !== "") return `${ref}@${img.digest}`;
    return ref;
}

/**
 * prometheus-community and grafana charts: `registry/repository:tag`, the first non-empty `global.imageRegistry`
 * (the parent's, then the subchart's own) instead of the registry, the tag or its default, `-distroless` where the
 * chart has that switch (node-exporter), then the digest.
 */
function registryImage(at: string, globals: string[], defaultTag: () => string, distroless = false) {
    return (v: Values): string => {
        const img = valueAt(v, at) as Values;
        const global = globals.map((g) => valueAt(v, g)).find((r) => typeof r === "string" && r !== "");
        const tag = (img.tag === undefined || img.tag === null || img.tag === "" ? defaultTag() : String(img.tag)) + (distroless && img.distroless === true ? "-distroless" : "");
        return withDigest(`${global ?? img.registry}/${img.repository}:${tag}`, img);
    };
}

/** fluent-bit and OpenSearch: `repository` holds the registry (or none: Docker Hub); the tag defaults to appVersion. */
function repositoryImage(at: string, defaultTag: () => string, registryPrefix?: string) {
    return (v: Values): string => {
        const img = valueAt(v, at) as Values;
        const prefix = registryPrefix ? valueAt(v, registryPrefix) : undefined;
        const tag = img.tag === undefined || img.tag === null || img.tag === "" ? defaultTag() : String(img.tag);
        // fluent-bit: tag "-" means no tag (a digest alone).
        const name = `${typeof prefix === "string" && prefix !== "" ? `${prefix.replace(/\/+$/, "")}/` : ""}${img.repository}${tag === "-" ? "" : `:${tag}`}`;
        return withDigest(name, img);
    };
}

/** Where a chart's own or a subchart's values sit, and what turns them on. */
interface Scope {
    /** `""` for the chart itself, `"<key>."` for a subchart. */
    readonly prefix: string;
    readonly meta: ChartMeta;
    readonly enabled: (v: Values) => boolean;
    /** Paths of `global.imageRegistry` that apply, the parent's first (Helm passes the parent's globals down). */
    readonly globals: string[];
}

function kubeStateMetricsSites(s: Scope): ImageSite[] {
    const p = s.prefix;
    return [
        // "If unset use v + .Charts.appVersion"
        { at: `${p}image`, runs: s.enabled, ref: registryImage(`${p}image`, s.globals, () => `v${appVersion(s.meta)}`) },
        { at: `${p}kubeRBACProxy.image`, runs: all(s.enabled, on(`${p}kubeRBACProxy.enabled`)), ref: registryImage(`${p}kubeRBACProxy.image`, s.globals, noDefault(`${p}kubeRBACProxy.image`)) },
    ];
}

function nodeExporterSites(s: Scope): ImageSite[] {
    const p = s.prefix;
    // "All fixes are disabled by default": the init container exists when a fix or an extra command is asked for.
    const permissionInit = (v: Values) => {
        const c = valueAt(v, `${p}permissionInitContainer`) ?? {};
        return Object.values(c.fixes ?? {}).some((f) => f === true) || (Array.isArray(c.extraCommands) && c.extraCommands.length > 0);
    };
    return [
        // "Overrides the image tag whose default is {{ printf "v%s" .Chart.AppVersion }}"; `distroless` adds -distroless.
        { at: `${p}image`, runs: s.enabled, ref: registryImage(`${p}image`, s.globals, () => `v${appVersion(s.meta)}`, true) },
        { at: `${p}kubeRBACProxy.image`, runs: all(s.enabled, on(`${p}kubeRBACProxy.enabled`)), ref: registryImage(`${p}kubeRBACProxy.image`, s.globals, noDefault(`${p}kubeRBACProxy.image`)) },
        { at: `${p}permissionInitContainer.image`, runs: all(s.enabled, permissionInit), ref: registryImage(`${p}permissionInitContainer.image`, s.globals, noDefault(`${p}permissionInitContainer.image`)) },
    ];
}

function grafanaSites(s: Scope): ImageSite[] {
    const p = s.prefix;
    const img = (at: string, defaultTag: () => string = noDefault(`${p}${at}`)) => registryImage(`${p}${at}`, s.globals, defaultTag);
    // A dashboard given by gnetId or url is fetched by the download-dashboards init container.
    const downloads = (v: Values) =>
        Object.values((valueAt(v, `${p}dashboards`) ?? {}) as Record<string, Record<string, Values>>).some((provider) =>
            Object.values(provider ?? {}).some((d) => d !== null && typeof d === "object" && ("gnetId" in d || "url" in d)),
        );
    // The k8s-sidecar container runs for any of its watchers.
    const sidecar = (v: Values) => ["alerts", "dashboards", "datasources", "notifiers", "plugins"].some((k) => valueAt(v, `${p}sidecar.${k}.enabled`) === true);
    return [
        // "Overrides the Grafana image tag whose default is the chart appVersion"
        { at: `${p}image`, runs: s.enabled, ref: img("image", () => appVersion(s.meta)) },
        { at: `${p}testFramework.image`, runs: all(s.enabled, on(`${p}testFramework.enabled`)), ref: img("testFramework.image") },
        { at: `${p}downloadDashboardsImage`, runs: all(s.enabled, downloads), ref: img("downloadDashboardsImage") },
        { at: `${p}initChownData.image`, runs: all(s.enabled, on(`${p}persistence.enabled`), on(`${p}initChownData.enabled`)), ref: img("initChownData.image") },
        { at: `${p}sidecar.image`, runs: all(s.enabled, sidecar), ref: img("sidecar.image") },
        { at: `${p}imageRenderer.image`, runs: all(s.enabled, on(`${p}imageRenderer.enabled`)), ref: img("imageRenderer.image") },
    ];
}

/** kube-prometheus-stack's own images (the operator and what it runs), and its subcharts'. */
function kubePrometheusStackSites(meta: ChartMeta): ImageSite[] {
    const G = ["global.imageRegistry"];
    // "if not set appVersion field from Chart.yaml is used" (the operator's release, e.g. v0.93.1).
    const operatorTag = () => appVersion(meta);
    const img = (at: string, defaultTag: () => string = noDefault(at)) => registryImage(at, G, defaultTag);
    const operator = on("prometheusOperator.enabled");
    const webhooks = all(operator, on("prometheusOperator.admissionWebhooks.enabled"));
    const sub = (name: string) => {
        const dep = (meta.dependencies ?? []).find((d) => d.name === name);
        if (!dep) throw new Error(`${meta.name} ${meta.version}: no dependency ${name} in Chart.yaml`);
        const key = dep.alias ?? dep.name;
        return { prefix: `${key}.`, meta: chartMeta(dep.name, dep.version), enabled: on(dep.condition!), globals: [...G, `${key}.global.imageRegistry`] };
    };
    return [
        { at: "prometheusOperator.image", runs: operator, ref: img("prometheusOperator.image", operatorTag) },
        // The config reloader is a sidecar of every Prometheus, Alertmanager and ThanosRuler pod the operator makes.
        {
            at: "prometheusOperator.prometheusConfigReloader.image",
            runs: (v) => operator(v) && ["prometheus", "alertmanager", "thanosRuler"].some((c) => valueAt(v, `${c}.enabled`) === true),
            ref: img("prometheusOperator.prometheusConfigReloader.image", operatorTag),
        },
        // The Thanos sidecar, added to Prometheus when prometheusSpec.thanos is set.
        { at: "prometheusOperator.thanosImage", runs: (v) => operator(v) && valueAt(v, "prometheus.enabled") === true && nonEmpty(valueAt(v, "prometheus.prometheusSpec.thanos")), ref: img("prometheusOperator.thanosImage") },
        { at: "prometheusOperator.admissionWebhooks.deployment.image", runs: all(webhooks, on("prometheusOperator.admissionWebhooks.deployment.enabled")), ref: img("prometheusOperator.admissionWebhooks.deployment.image", operatorTag) },
        {
            at: "prometheusOperator.admissionWebhooks.patch.image",
            runs: (v) => webhooks(v) && valueAt(v, "prometheusOperator.admissionWebhooks.patch.enabled") === true && valueAt(v, "prometheusOperator.admissionWebhooks.certManager.enabled") !== true,
            ref: img("prometheusOperator.admissionWebhooks.patch.image"),
        },
        { at: "prometheus.prometheusSpec.image", runs: on("prometheus.enabled"), ref: img("prometheus.prometheusSpec.image") },
        { at: "alertmanager.alertmanagerSpec.image", runs: on("alertmanager.enabled"), ref: img("alertmanager.alertmanagerSpec.image") },
        { at: "thanosRuler.thanosRulerSpec.image", runs: on("thanosRuler.enabled"), ref: img("thanosRuler.thanosRulerSpec.image") },
        { at: "crds.upgradeJob.image.busybox", runs: all(on("crds.enabled"), on("crds.upgradeJob.enabled")), ref: img("crds.upgradeJob.image.busybox") },
        // "defaults to the Kubernetes version": the cluster's, unknown here; set the tag to have it listed.
        { at: "crds.upgradeJob.image.kubectl", runs: all(on("crds.enabled"), on("crds.upgradeJob.enabled")), ref: img("crds.upgradeJob.image.kubectl") },
        ...grafanaSites(sub("grafana")),
        ...kubeStateMetricsSites(sub("kube-state-metrics")),
        ...nodeExporterSites(sub("prometheus-node-exporter")),
    ];
}

/** Subcharts whose images are in the table (crds has no image of its own: its upgrade Job is the parent's values). */
const KNOWN_SUBCHARTS: Record<string, string[]> = { "kube-prometheus-stack": ["crds", "grafana", "kube-state-metrics", "prometheus-node-exporter"] };

function openSearchSites(meta: ChartMeta): ImageSite[] {
    // `global.dockerRegistry` prefixes every image; the init containers run busybox unless told otherwise
    // ("override image, which is busybox by default", "override image tag, which is latest by default").
    const busybox = (section: string) => (v: Values) => {
        const r = valueAt(v, "global.dockerRegistry");
        return `${typeof r === "string" && r !== "" ? `${r.replace(/\/+$/, "")}/` : ""}${valueAt(v, `${section}.image`) ?? "busybox"}:${valueAt(v, `${section}.imageTag`) ?? "latest"}`;
    };
    return [
        // "override image tag, which is .Chart.AppVersion by default"
        { at: "image", runs: () => true, ref: repositoryImage("image", () => appVersion(meta), "global.dockerRegistry") },
        { at: "persistence.image", implicit: true, runs: all(on("persistence.enabled"), on("persistence.enableInitChown")), ref: busybox("persistence") },
        { at: "sysctlInit.image", implicit: true, runs: on("sysctlInit.enabled"), ref: busybox("sysctlInit") },
    ];
}

function chartSites(chart: string, version: string): ImageSite[] {
    const meta = chartMeta(chart, version);
    const self = { prefix: "", meta, enabled: () => true, globals: ["global.imageRegistry"] };
    switch (chart) {
        case "kube-prometheus-stack":
            return kubePrometheusStackSites(meta);
        case "kube-state-metrics":
            return kubeStateMetricsSites(self);
        case "prometheus-node-exporter":
            return nodeExporterSites(self);
        case "opensearch":
            return openSearchSites(meta);
        case "opensearch-dashboards":
            return [{ at: "image", runs: () => true, ref: repositoryImage("image", () => appVersion(meta)) }];
        case "fluent-bit":
            return [
                // "Overrides the image tag whose default is {{ .Chart.AppVersion }}"
                { at: "image", runs: () => true, ref: repositoryImage("image", () => appVersion(meta)) },
                { at: "testFramework.image", runs: on("testFramework.enabled"), ref: repositoryImage("testFramework.image", noDefault("testFramework.image")) },
                { at: "hotReload.image", runs: on("hotReload.enabled"), ref: repositoryImage("hotReload.image", noDefault("hotReload.image")) },
            ];
        default:
            throw new Error(`no image table for chart ${chart}: read its values.yaml (and templates) and add its images to tools/chartImages.ts`);
    }
}

/** The table's paths for a chart: where its values name an image (`implicit` ones are template defaults). */
export function imageSites(chart: string, version: string): { at: string; implicit: boolean }[] {
    return chartSites(chart, version).map((s) => ({ at: s.at, implicit: s.implicit === true }));
}

/** Paths of every map with a string `repository` in a chart's values: the places that name an image. */
export function imageMaps(v: unknown, at: string[] = []): string[] {
    if (v === null || typeof v !== "object") return [];
    if (Array.isArray(v)) return v.flatMap((x, i) => imageMaps(x, [...at, String(i)]));
    const here = typeof (v as Values).repository === "string" ? [at.join(".")] : [];
    return [...here, ...Object.entries(v).flatMap(([k, x]) => imageMaps(x, [...at, k]))];
}

/**
 * The reference as a container runtime resolves it: a name whose first part is not a host (no `.` or `:`, not
 * `localhost`) is on Docker Hub, and a one-part Docker Hub name is under `library/`.
 */
export function qualified(ref: string): string {
    const parts = ref.split("/");
    const host = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost") ? parts[0] : undefined;
    const pathParts = host === undefined ? parts : parts.slice(1);
    const registry = host ?? "docker.io";
    const repo = registry === "docker.io" && pathParts.length === 1 ? ["library", ...pathParts] : pathParts;
    return `${registry}/${repo.join("/")}`;
}

/** The images a chart runs with the given values (the program's, merged over the chart's defaults). */
export function chartImages(chart: string, version: string, values: Values): ChartImage[] {
    const v = effectiveValues(chart, version, values);
    const meta = chartMeta(chart, version);
    const known = KNOWN_SUBCHARTS[chart] ?? [];
    for (const dep of meta.dependencies ?? []) {
        if (dep.condition !== undefined && valueAt(v, dep.condition) === true && !known.includes(dep.name)) {
            throw new Error(`${chart} ${version}: subchart ${dep.name} is enabled (${dep.condition}) and its images are not in tools/chartImages.ts`);
        }
    }
    const out: ChartImage[] = [];
    for (const site of chartSites(chart, version)) {
        if (!site.runs(v)) continue;
        if (!site.implicit && valueAt(v, site.at) === undefined) throw new Error(`${chart} ${version}: ${site.at} runs but is not in its values`);
        out.push({ image: qualified(site.ref(v)), chart: `${chart}@${version}`, at: site.at });
    }
    return out;
}

/** The images of every chart release in a plan, with the values the program passes it. */
export function planChartImages(plan: Plan): ChartImage[] {
    return plan.resources.filter(isHelmChart).flatMap((r) => {
        const { chart, version, values } = mapSecrets(r.inputs, true) as { chart: string; version: string; values?: Values };
        return chartImages(chart, version, values ?? {});
    });
}
