import * as assert from "assert";
import { parse } from "yaml";
import { charts } from "../lib/versions";
import { isHelmChart } from "../tools/plan";
import { chartWorkloads } from "../tools/chartWorkloads";
import { STACKS, planStack } from "./helpers/plan";
import { chartDefaults, chartFolder } from "./helpers/charts";
import { upstreamFile } from "./helpers/upstream";

/**
 * Keys whose content the chart renders verbatim with toYaml (security contexts): any key Kubernetes accepts is
 * valid there, so only the parent must exist. Kept short on purpose.
 */
const PASSTHROUGH = new Set([
    "containerSecurityContext",
    "securityContext",
    "resources",
    "nodeSelector",
    "tolerations",
    "image",
    // Prometheus Operator CRD fields (Prometheus/Alertmanager spec), rendered with toYaml: the CRD schema checks them.
    "storageSpec",
    "storage",
    "remoteWrite",
    "externalLabels",
    // Grafana's ini sections, rendered verbatim into grafana.ini.
    "grafana.ini",
    "podSecurityContext",
])

/**
 * Keys a chart documents only in a comment of its values.yaml (so they are absent from the parsed defaults), each
 * with the comment that documents it. Kept short; anything else must exist in the defaults.
 */
const COMMENTED_KEYS: Record<string, { key: string; documentedBy: string }[]> = {
    opensearch: [{ key: "persistence.storageClass", documentedBy: '"# storageClass: \"-\"" under persistence' }],
};

/** Key paths of `values` that the chart's defaults do not know. */
export function unknownKeys(values: unknown, defaults: unknown, at: string[] = []): string[] {
    if (values === null || typeof values !== "object" || Array.isArray(values)) return [];
    if (defaults === null || typeof defaults !== "object" || Array.isArray(defaults)) return [];
    const d = defaults as Record<string, unknown>;
    const free = Object.keys(d).length === 0;
    const out: string[] = [];
    for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
        if (free) continue;
        if (!(k in d)) {
            out.push([...at, k].join("."));
            continue;
        }
        if (PASSTHROUGH.has(k)) continue;
        out.push(...unknownKeys(v, d[k], [...at, k]));
    }
    return out;
}

describe("Helm values against the pinned charts' defaults", function () {
    it("every chart pinned in lib/versions.ts has its defaults in the project, with their source", () => {
        for (const ref of Object.values(charts)) {
            const dir = chartFolder(ref.chart, ref.version);
            for (const f of ["Chart.yaml", "values.yaml"]) assert.ok(upstreamFile(dir, f).length > 0, `${dir}/${f}`);
            assert.strictEqual((parse(upstreamFile(dir, "Chart.yaml")) as { version: string }).version, ref.version, `${dir}/Chart.yaml`);
        }
    });

    it("the checker itself rejects a misspelt key", () => {
        assert.deepStrictEqual(unknownKeys({ image: { registry: "x" }, tolerance: [] }, { image: { registry: "" }, tolerations: [] }), ["tolerance"]);
        assert.deepStrictEqual(unknownKeys({ a: { b: 1 } }, { a: {} }), [], "below {} any key is free");
    });

    for (const stack of STACKS) {
        it(`${stack}: every value key exists in its chart's defaults`, async () => {
            for (const r of (await planStack(stack)).resources.filter(isHelmChart)) {
                const { chart, version, values } = r.inputs as { chart: string; version: string; values: unknown };
                const defaults = chartDefaults(chart, version);
                const commented = (COMMENTED_KEYS[chart] ?? []).map((c) => c.key);
                assert.deepStrictEqual(unknownKeys(values, defaults).filter((k) => !commented.includes(k)), [], `${r.name}: keys unknown to ${chart} ${version}`);
            }
        });
    }

    /**
     * The kube-prometheus-stack workloads and where their resources live in the values. The policy pack's
     * hardened-containers check refuses a container without requests and a memory limit; chart-rendered objects are
     * not rendered here, so this reads the values the chart renders them from (our values over the chart's defaults).
     */
    const KPS_WORKLOAD_RESOURCES = [
        "prometheusOperator.resources",
        "grafana.resources",
        "kube-state-metrics.resources",
        "prometheus.prometheusSpec.resources",
        "alertmanager.alertmanagerSpec.resources",
    ];

    it("cluster-01: every kube-prometheus-stack workload has CPU and memory requests and a memory limit (ours or the chart's)", async () => {
        const kps = (await planStack("cluster-01")).resources.filter(isHelmChart).find((r) => (r.inputs as { chart: string }).chart === "kube-prometheus-stack" && !r.name.endsWith("-crds"));
        assert.ok(kps, "the kube-prometheus-stack release");
        const { version, values } = kps.inputs as { version: string; values: unknown };
        const defaults = chartDefaults("kube-prometheus-stack", version);
        const at = (o: unknown, p: string) => p.split(".").reduce<any>((x, k) => (x === undefined || x === null ? undefined : x[k]), o);
        const missing: string[] = [];
        for (const p of KPS_WORKLOAD_RESOURCES) {
            const r = { ...(at(defaults, p) ?? {}), ...(at(values, p) ?? {}) };
            for (const q of ["requests.cpu", "requests.memory", "limits.memory"]) if (at(r, q) === undefined) missing.push(`${p}.${q}`);
        }
        assert.deepStrictEqual(missing, []);
    });

    for (const stack of STACKS) {
        it(`${stack}: every chart container runs with CPU and memory requests, a memory limit and no CPU limit (our values over the chart's defaults)`, async () => {
            const wrong: string[] = [];
            for (const r of (await planStack(stack)).resources.filter(isHelmChart)) {
                const { chart, version, values, name } = r.inputs as { chart: string; version: string; values: Record<string, unknown>; name?: string };
                const { workloads } = chartWorkloads({ chart, version, values, release: name ?? r.name, namespace: "ns" });
                for (const w of workloads) {
                    for (const c of w.containers) {
                        const at = `${w.kind} ${w.name} container ${c.name}`;
                        if (c.requests.cpu === undefined || c.requests.memory === undefined) wrong.push(`${at}: no request`);
                        if (c.limits.memory === undefined) wrong.push(`${at}: no memory limit`);
                        // No CPU limit anywhere (lib/config.ts resources): throttling hurts latency more than it protects.
                        if (c.limits.cpu !== undefined) wrong.push(`${at}: CPU limit ${c.limits.cpu}`);
                    }
                }
            }
            assert.deepStrictEqual(wrong, []);
        });
    }
});
