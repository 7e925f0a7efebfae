/**
 * Derives, from kube-prometheus-stack's templates at a tag, which metric names (and which labels of them) each of
 * its Grafana dashboards and each of its recording rules reads: the data of `lib/mixinMetrics.ts`. Only names are
 * kept, never a dashboard or a rule. Run by `npm run derive:mixin-metrics -- <helm-charts git dir>` after the chart
 * pin in lib/versions.ts moves (a test fails until then).
 *
 * The templates are Helm: JSON or YAML with `{{ … }}` actions. They are rendered here with the chart's default
 * values, which is all the dashboards and rules need: raw strings (`{{` `…` `}}`), `.Values.…` lookups, the job-name
 * variables each template defines from the chart's helpers (their defaults below), and `if`/`with`/`range` blocks
 * whose conditions are all off with the default values (multi-cluster variables, extra rule labels, aggregation
 * labels). An action it does not know fails the derivation instead of being guessed.
 */
import { parse } from "yaml";
import { Reads, addReads, grafanaVariableQuery, mergeRead, sortedReads } from "../lib/promql";

/**
 * The job-name variables the templates define with `include "kube-prometheus-stack-<component>.name"`, as the
 * chart's `_helpers.tpl` prints them without a `jobNameOverride`.
 */
export const CHART_JOB_VARIABLES: Record<string, string> = {
    kubeletJob: "kubelet",
    kubeApiserverJob: "apiserver",
    kubeControllerManagerJob: "kube-controller-manager",
    kubeSchedulerJob: "kube-scheduler",
    kubeProxyJob: "kube-proxy",
    kubeStateMetricsJob: "kube-state-metrics",
};

/** Variables the rule templates use only in alerts' annotations and selectors of other jobs: any value parses. */
const OTHER_VARIABLES = new Set(["prometheusJob", "alertmanagerJob", "operatorJob", "namespace", "targetNamespace", "namespaceOperator", "additionalAnnotations", "groupAnnotations", "ruleAnnotations"]);

function lookup(values: unknown, path: string[]): unknown {
    let v = values;
    for (const k of path) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
    return v;
}

/** Renders Helm template text with the chart's default values (see the file comment for what it understands). */
export function renderHelmText(text: string, values: unknown): string {
    const token = /\{\{(-\s)?`([^`]*)`(\s-)?\}\}|\{\{(-\s)?\s*([\s\S]*?)\s*(\s-)?\}\}/g;
    let out = "";
    let last = 0;
    // One entry per open block: whether its body is output.
    const blocks: { on: boolean; kind: string }[] = [];
    const emitting = () => blocks.every((b) => b.on);
    let trimNext = false;
    for (let m = token.exec(text); m; m = token.exec(text)) {
        let literal = text.slice(last, m.index);
        if (trimNext) literal = literal.replace(/^\s+/, "");
        if (m[1] || m[4]) literal = literal.replace(/\s+$/, "");
        if (emitting()) out += literal;
        last = token.lastIndex;
        trimNext = Boolean(m[3] || m[6]);
        if (m[2] !== undefined) {
            if (emitting()) out += m[2];
            continue;
        }
        const action = m[5].replace(/^\/\*[\s\S]*\*\/$/, "").trim();
        const word = action.split(/\s+/)[0];
        if (action === "" ) continue;
        if (word === "if" || word === "with" || word === "range") {
            // Every condition the dashboards and rules test is off with the default values; `with`/`range` over
            // empty defaults skip their body.
            blocks.push({ on: false, kind: word });
        } else if (word === "else") {
            const b = blocks[blocks.length - 1];
            if (!b || b.kind !== "if") throw new Error(`"else" outside an if at ${m.index}`);
            b.on = !b.on;
        } else if (word === "end") {
            if (!blocks.pop()) throw new Error(`"end" without a block at ${m.index}`);
        } else if (!emitting()) {
            continue;
        } else if (/^\$[A-Za-z_]\w*\s*:?=/.test(action)) {
            continue; // a variable assignment prints nothing
        } else if (/^\$?\.Values(\.[A-Za-z_]\w*)+$/.test(action)) {
            const v = lookup(values, action.replace(/^\$?\.Values\./, "").split("."));
            if (v === undefined || (typeof v === "object" && v !== null)) throw new Error(`{{ ${action} }}: no scalar default in the chart's values`);
            out += String(v);
        } else if (/^\$[A-Za-z_]\w*$/.test(action)) {
            const name = action.slice(1);
            if (name in CHART_JOB_VARIABLES) out += CHART_JOB_VARIABLES[name];
            else if (OTHER_VARIABLES.has(name)) out += name;
            else throw new Error(`{{ ${action} }}: unknown template variable (add its default to tools/mixinMetrics.ts)`);
        } else {
            throw new Error(`{{ ${action} }}: a template action the derivation does not understand`);
        }
    }
    if (blocks.length > 0) throw new Error("unclosed template block");
    let tail = text.slice(last);
    if (trimNext) tail = tail.replace(/^\s+/, "");
    return out + tail;
}

/**
 * The dashboard's template variables as Grafana substitutes them: the "All" value where the variable has one
 * (`allValue`, a regex such as `.+`), else one of the values its query found. A value found by `label_values` is
 * never empty, so the placeholder stands for any such value.
 */
export function substituteVariables(expr: string, variables: any[]): string {
    const byName = new Map<string, any>(variables.map((v) => [v.name, v]));
    return expr.replace(/\$\{([A-Za-z_]\w*)(?::\w+)?\}|\$([A-Za-z_]\w*)/g, (all, braced: string | undefined, bare: string | undefined) => {
        const name = braced ?? bare!;
        if (name.startsWith("__")) return all; // Grafana's macros ($__rate_interval): lib/promql.ts reads them
        const v = byName.get(name);
        if (!v) throw new Error(`the variable $${name} is not defined by the dashboard`);
        return v.includeAll && typeof v.allValue === "string" ? v.allValue : "grafana-variable-value";
    });
}

/** Every PromQL of a Grafana dashboard: panel targets (rows' panels too) and query variables. */
export function dashboardReads(json: any, where: string): Reads {
    const reads: Reads = {};
    const variables: any[] = json.templating?.list ?? [];
    const panels = (ps: any[]): any[] => (ps ?? []).flatMap((p) => [p, ...panels(p.panels)]);
    for (const p of panels(json.panels)) {
        for (const t of p.targets ?? []) {
            if (typeof t.expr === "string" && t.expr.trim() !== "") addReads(reads, substituteVariables(t.expr, variables), `${where} / ${p.title}`);
        }
    }
    for (const v of variables) {
        if (v.type !== "query") continue;
        const q = typeof v.query === "string" ? v.query : v.query?.query;
        const inner = typeof q === "string" ? grafanaVariableQuery(q) : undefined;
        if (inner) addReads(reads, substituteVariables(inner.expr, variables), `${where} / variable ${v.name}`, inner.label);
    }
    return sortedReads(reads);
}

export interface DerivedDashboard {
    readonly file: string;
    readonly title: string;
    readonly tags: string[];
    readonly reads: Reads;
}

export interface DerivedRecording {
    readonly file: string;
    readonly group: string;
    readonly reads: Reads;
}

/** A dashboard template (`templates/grafana/dashboards-1.14/<x>.yaml`): its title, tags and reads. */
export function deriveDashboard(file: string, template: string, values: unknown): DerivedDashboard {
    // The ConfigMap comes first in each file (a GrafanaDashboard for the Grafana operator may follow); its `data`
    // holds the dashboard JSON.
    const configMap = template.split(/^---$/m)[0];
    const data = /^data:\n\s+[\w.-]+\.json: \|-\n([\s\S]*?)^\{\{- end \}\}/m.exec(configMap);
    if (!data) throw new Error(`${file}: no dashboard JSON under data:`);
    const json = JSON.parse(renderHelmText(data[1], values));
    return { file, title: json.title, tags: json.tags ?? [], reads: dashboardReads(json, file) };
}

/** The recording rules of a rule template (`templates/prometheus/rules-1.14/<x>.yaml`): record → reads. */
export function deriveRecordingRules(file: string, template: string, values: unknown): Record<string, DerivedRecording> {
    const spec = /^spec:\n[\s\S]*/m.exec(template);
    if (!spec) throw new Error(`${file}: no spec:`);
    const doc = parse(renderHelmText(spec[0].replace(/\n\{\{- end \}\}\s*$/, "\n"), values));
    const out: Record<string, DerivedRecording> = {};
    for (const g of doc.spec.groups ?? []) {
        for (const r of g.rules ?? []) {
            if (!r.record) continue;
            const reads: Reads = {};
            addReads(reads, String(r.expr), `${file} ${r.record}`);
            if (out[r.record]) {
                // One name recorded by several rules (per OS, say): what either reads.
                for (const [n, read] of Object.entries(reads)) mergeRead(out[r.record].reads, n, read);
            } else out[r.record] = { file, group: g.name, reads: sortedReads(reads) };
        }
    }
    return out;
}
