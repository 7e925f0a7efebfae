/**
 * The PersistentVolumeClaims each committed plan (`plans/<stack>.yaml`) leads to, with the labels they will carry, and
 * the `kubectl -l` label selectors that select them. For the README's clean-up commands (test/docs.test.ts).
 *
 * A StatefulSet's claims are created by the StatefulSet controller from its `volumeClaimTemplates`: each carries the
 * template's labels plus the StatefulSet's `spec.selector.matchLabels` (Kubernetes, pkg/controller/statefulset/
 * stateful_set_utils.go `getPersistentVolumeClaims`), and nothing else. The program's own StatefulSets are in the
 * plan; the charts' are not rendered here, so their names and selector labels come from the pinned upstream
 * (test/fixtures/upstream/{prometheus-operator-v0.93.0,opensearch-3.6.0}/statefulset-claims.json) and the values the
 * plan passes.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { CENTRAL_POD_LABELS } from "../../components/centralMonitoring";
import { charts } from "../../lib/versions";
import { GOLDEN_DIR } from "../../tools/plan";
import { effectiveValues } from "../../tools/charts";
import { UPSTREAM_DIR, upstreamFile } from "../../tools/upstream";

export interface Claim {
    readonly stack: string;
    readonly namespace: string;
    readonly statefulSet: string;
    /** The claim template's name: the claims are `<template>-<statefulSet>-<ordinal>`. */
    readonly template: string;
    readonly labels: Readonly<Record<string, string>>;
    /** Whether the claims outlive a scale-down or the StatefulSet's deletion (retention policy Retain, the default). */
    readonly retained: boolean;
    /** Where the StatefulSet comes from: `program` or the chart. */
    readonly from: string;
}

interface PlanFile {
    resources: { type: string; name: string; inputs: any }[];
}

export function committedPlan(stack: string): PlanFile {
    return parse(fs.readFileSync(path.join(GOLDEN_DIR, `${stack}.yaml`), "utf8")) as PlanFile;
}

const retainedBy = (policy: { whenDeleted?: string; whenScaled?: string } | undefined) =>
    (policy?.whenDeleted ?? "Retain") === "Retain" || (policy?.whenScaled ?? "Retain") === "Retain";

const fill = (labels: Record<string, string>, vars: Record<string, string>) =>
    Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v.replace(/\{(\w+)\}/g, (_, name: string) => vars[name] ?? `{${name}}`)]));

function upstreamClaims(folder: string): any {
    return JSON.parse(upstreamFile(path.join(UPSTREAM_DIR, folder), "statefulset-claims.json"));
}

/** Charts whose workloads hold no claim (Deployments and DaemonSets only, with the values the program sets). */
const CLAIMLESS_CHARTS = ["prometheus-node-exporter", "kube-state-metrics", "fluent-bit", "opensearch-dashboards"];

/** Claims of the StatefulSets a chart's workloads run, from the values the plan passes. */
function chartClaims(stack: string, chart: any): Claim[] {
    const values = chart.values ?? {};
    if (CLAIMLESS_CHARTS.includes(chart.chart)) return [];
    if (chart.chart === "kube-prometheus-stack") {
        const effective = effectiveValues(chart.chart, chart.version, values);
        if (effective.grafana?.enabled !== false && effective.grafana?.persistence?.enabled) {
            throw new Error(`${stack}: Grafana has a volume now; add its claim here (the grafana chart's StatefulSet or PVC)`);
        }
        const op = upstreamClaims("prometheus-operator-v0.93.0");
        const out: Claim[] = [];
        const add = (kind: "prometheus" | "alertmanager", spec: any, enabled: boolean) => {
            const vct = spec?.storage?.volumeClaimTemplate ?? spec?.storageSpec?.volumeClaimTemplate;
            if (!enabled || !vct) return;
            // The custom resource's name, as the chart derives it (the program's CENTRAL_POD_LABELS cites it).
            const name = CENTRAL_POD_LABELS[kind]["app.kubernetes.io/instance"];
            out.push({
                stack,
                namespace: chart.namespace,
                statefulSet: fill({ n: op[kind].statefulSet }, { name }).n,
                template: vct.metadata?.name ?? fill({ n: op[kind].claimTemplate }, { name }).n,
                labels: { ...(vct.metadata?.labels ?? {}), ...fill(op[kind].selectorLabels, { name }) },
                retained: retainedBy(spec.persistentVolumeClaimRetentionPolicy),
                from: `${chart.chart} (Prometheus Operator)`,
            });
        };
        add("prometheus", values.prometheus?.prometheusSpec, values.prometheus?.enabled !== false);
        add("alertmanager", values.alertmanager?.alertmanagerSpec, values.alertmanager?.enabled !== false);
        return out;
    }
    if (chart.chart === "opensearch") {
        const v = effectiveValues(chart.chart, chart.version, values);
        if (!v.persistence?.enabled) return [];
        if (v.nameOverride || v.fullnameOverride || v.persistence.labels?.enabled || Object.keys(v.persistence.labels?.additionalLabels ?? {}).length > 0) {
            throw new Error(`${stack}: the opensearch values now name or label the claims differently: follow statefulset-claims.json's rules here`);
        }
        const os = upstreamClaims(`opensearch-${charts.openSearch.version}`).opensearch;
        const vars = { clusterName: v.clusterName, nodeGroup: v.nodeGroup, release: chart.name, "nameOverride|chartName": "opensearch" };
        const name = fill({ n: os.statefulSet }, vars).n;
        const selector = Object.fromEntries(
            Object.entries(os.selectorLabels as Record<string, string>).map(([k, t]) => [k, t.replace(/\{([^}]+)\}/g, (_, n: string) => (vars as Record<string, string>)[n])]),
        );
        return [{ stack, namespace: chart.namespace, statefulSet: name, template: name, labels: selector, retained: true, from: "opensearch chart" }];
    }
    throw new Error(`${stack}: chart ${chart.chart} is not known here: say whether its workloads hold claims, and how they are labelled`);
}

/** Every claim template of a committed plan, the program's and the charts'. */
export function planClaims(stack: string): Claim[] {
    const out: Claim[] = [];
    for (const r of committedPlan(stack).resources) {
        const i = r.inputs;
        if (r.type === "kubernetes:helm.sh/v4:Chart") out.push(...chartClaims(stack, i));
        else if (i?.kind === "StatefulSet") {
            for (const t of i.spec.volumeClaimTemplates ?? []) {
                out.push({
                    stack,
                    namespace: i.metadata.namespace,
                    statefulSet: i.metadata.name,
                    template: t.metadata.name,
                    labels: { ...(t.metadata.labels ?? {}), ...(i.spec.selector?.matchLabels ?? {}) },
                    retained: retainedBy(i.spec.persistentVolumeClaimRetentionPolicy),
                    from: "program",
                });
            }
        }
    }
    return out;
}

type Requirement = (labels: Readonly<Record<string, string>>) => boolean;

/**
 * A `kubectl -l` label selector (equality- and set-based: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`,
 * `!k`) as a predicate. Throws on what it cannot read.
 */
export function labelSelector(selector: string): Requirement {
    const parts: string[] = [];
    let depth = 0;
    let cur = "";
    for (const ch of selector) {
        if (ch === "(") depth++;
        if (ch === ")") depth--;
        if (ch === "," && depth === 0) {
            parts.push(cur);
            cur = "";
        } else cur += ch;
    }
    parts.push(cur);
    const reqs: Requirement[] = parts.map((raw) => {
        const p = raw.trim();
        let m: RegExpExecArray | null;
        if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p))) {
            const [, key, op, list] = m;
            const set = list.split(",").map((s) => s.trim());
            return op === "in" ? (l) => key in l && set.includes(l[key]) : (l) => !(key in l) || !set.includes(l[key]);
        }
        if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(p))) {
            const [, key, op, value] = m;
            return op === "!=" ? (l) => l[key] !== value : (l) => l[key] === value;
        }
        if ((m = /^(!?)([\w./-]+)$/.exec(p))) {
            const [, not, key] = m;
            return not ? (l) => !(key in l) : (l) => key in l;
        }
        throw new Error(`cannot read the label selector requirement "${p}" of "${selector}"`);
    });
    return (labels) => reqs.every((r) => r(labels));
}

/** A `kubectl … pvc …` command's namespace and label selector (undefined when it names neither). */
export function pvcCommand(line: string): { namespace?: string; selector?: string } | undefined {
    if (!/\bkubectl\b/.test(line) || !/\bpvc\b|persistentvolumeclaims?\b/.test(line)) return undefined;
    const arg = (names: string[]) => {
        for (const n of names) {
            const m = new RegExp(`(?:^|\\s)${n}(?:=|\\s+)('([^']*)'|"([^"]*)"|(\\S+))`).exec(line);
            if (m) return m[2] ?? m[3] ?? m[4];
        }
        return undefined;
    };
    return { namespace: arg(["-n", "--namespace"]), selector: arg(["-l", "--selector"]) };
}
