/**
 * PromQL read through Prometheus' own grammar (@prometheus-io/lezer-promql): the metric names an expression reads,
 * the label names it mentions, and its syntax errors. The program uses it to derive which metric names the edge
 * agents must keep (lib/usedMetrics.ts); the tests use it to check every rule, dashboard and documented query.
 */
import { parser } from "@prometheus-io/lezer-promql";

/**
 * Grafana macros and template variables that are not PromQL, replaced by a value of the same kind before parsing.
 * Variables inside label values (`pod="$pod"`) are strings already and stay as they are.
 */
const GRAFANA_MACROS: [RegExp, string][] = [
    [/\$__rate_interval|\$__interval|\$__range|\$\{__rate_interval\}|\$\{__interval\}/g, "5m"],
    // A variable standing for a duration (`[$interval]`, `[${resolution}]`).
    [/\[\$\{?[A-Za-z_]\w*\}?\]/g, "[5m]"],
    [/\[\$\{?[A-Za-z_]\w*\}?:\$\{?[A-Za-z_]\w*\}?\]/g, "[5m:1m]"],
];

export interface ParsedPromQL {
    readonly errors: string[];
    /** Metric names the expression selects (`name{…}` and `{__name__="name"}`). */
    readonly metricNames: string[];
    /**
     * Every label name the expression mentions: in selectors, `by`/`without`, `on`/`ignoring`, `group_left/right`,
     * and the label-name arguments of `label_replace`/`label_join` (destination and sources). Used to prove that a
     * label the agents drop is read by nothing.
     */
    readonly labelNames: string[];
    /** Each selector's metric name and the labels it requires to be non-empty (see `nonEmptyLabels`). */
    readonly selectors: { readonly metric: string; readonly nonEmpty: string[] }[];
}

/**
 * Whether a matcher rejects a series that lacks the label (an absent label reads as ""): `l="x"`, `l!=""`,
 * `l=~"…"` whose regex cannot match "", `l!~"…"` whose regex matches "". A regex holding a Grafana variable
 * (`l=~"$namespace"`) is not counted: its "All" value may be `.*`.
 */
export function requiresNonEmpty(op: string, value: string): boolean {
    const matchesEmpty = (re: string) => new RegExp(`^(?:${re})$`).test("");
    switch (op) {
        case "=":
            return value !== "";
        case "!=":
            return value === "";
        case "=~":
            return !/\$\{?\w/.test(value) && !matchesEmpty(value);
        case "!~":
            return !/\$\{?\w/.test(value) && matchesEmpty(value);
        default:
            throw new Error(`unknown matcher operator ${op}`);
    }
}

/** Which arguments of the label functions are label names (0 is the vector): `label_replace(v, dst, replacement, src, regex)`, `label_join(v, dst, separator, src…)`. */
const LABEL_ARGUMENTS: Record<string, (i: number) => boolean> = {
    label_replace: (i) => i === 1 || i === 3,
    label_join: (i) => i === 1 || i >= 3,
};

function unquote(s: string): string {
    if (s.startsWith("`")) return s.slice(1, -1);
    try {
        return JSON.parse(s.startsWith("'") ? `"${s.slice(1, -1).replace(/"/g, '\\"')}"` : s) as string;
    } catch {
        return s.slice(1, -1);
    }
}

/** Metric names, label names and syntax errors of one PromQL expression (Grafana macros allowed). */
export function parsePromQL(expr: string): ParsedPromQL {
    const src = GRAFANA_MACROS.reduce((s, [re, v]) => s.replace(re, v), expr);
    const errors: string[] = [];
    const names = new Set<string>();
    const labels = new Set<string>();
    const selectors: { metric: string; nonEmpty: string[] }[] = [];
    parser.parse(src).iterate({
        enter(node) {
            const text = src.slice(node.from, node.to);
            if (node.type.isError) errors.push(`syntax error at ${node.from}: "${src.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
            if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector") names.add(text);
            if (node.name === "VectorSelector") {
                const identifier = node.node.getChild("Identifier");
                const nonEmpty: string[] = [];
                let name = identifier ? src.slice(identifier.from, identifier.to) : undefined;
                for (const m of node.node.getChild("LabelMatchers")?.getChildren("UnquotedLabelMatcher") ?? []) {
                    const label = m.getChild("LabelName");
                    const op = m.getChild("MatchOp");
                    const value = m.getChild("StringLiteral");
                    if (!label || !op || !value) continue;
                    const l = src.slice(label.from, label.to);
                    const v = unquote(src.slice(value.from, value.to));
                    const o = src.slice(op.from, op.to);
                    if (l === "__name__" && o === "=") name = v;
                    else if (requiresNonEmpty(o, v)) nonEmpty.push(l);
                }
                if (name) selectors.push({ metric: name, nonEmpty: nonEmpty.sort() });
            }
            if (node.name === "LabelName") labels.add(text);
            if (node.name === "QuotedLabelName") labels.add(unquote(text));
            // {__name__="x"} names a metric too.
            if (node.name === "UnquotedLabelMatcher" && text.startsWith("__name__")) {
                const m = /^__name__\s*=\s*"([^"]+)"/.exec(text);
                if (m) names.add(m[1]);
            }
            if (node.name === "StringLiteral" && node.node.parent?.name === "FunctionCallBody") {
                const body = node.node.parent;
                const fn = body.parent?.getChild("FunctionIdentifier");
                const isLabel = fn ? LABEL_ARGUMENTS[src.slice(fn.from, fn.to)] : undefined;
                if (isLabel) {
                    // The argument's position among the body's expressions (punctuation is not a node).
                    let i = 0;
                    for (let c = body.firstChild; c && c.from < node.from; c = c.nextSibling) if (!c.type.isError) i++;
                    if (isLabel(i)) labels.add(unquote(text));
                }
            }
        },
    });
    labels.delete("__name__");
    return { errors, metricNames: [...names].sort(), labelNames: [...labels].sort(), selectors };
}

/**
 * The PromQL inside a Grafana query variable: `label_values(<expr>, label)`, `query_result(<expr>)`, or plain
 * PromQL; `undefined` for queries that select no series (`label_values(label)`, `label_names()`, `metrics(…)`).
 * The label of `label_values` is returned as read too.
 */
export function grafanaVariableQuery(query: string): { expr: string; label?: string } | undefined {
    const q = query.trim();
    const labelValues = /^label_values\(\s*([\s\S]+)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(q);
    if (labelValues) return { expr: labelValues[1], label: labelValues[2] };
    if (/^(label_values|label_names|metrics)\(/.test(q)) return undefined;
    const result = /^query_result\(([\s\S]+)\)$/.exec(q);
    return { expr: result ? result[1] : q };
}

/** How a reader reads one metric: the labels it mentions, and those every one of its selectors requires non-empty. */
export interface MetricRead {
    readonly labels: readonly string[];
    readonly nonEmpty: readonly string[];
}

/** What a set of expressions reads: metric name → how (labels united, required labels intersected). */
export type Reads = Record<string, MetricRead>;

/** Adds one read of `metric` to `into`. */
export function mergeRead(into: Record<string, MetricRead>, metric: string, read: MetricRead): void {
    const had = into[metric];
    into[metric] = had
        ? { labels: [...new Set([...had.labels, ...read.labels])].sort(), nonEmpty: had.nonEmpty.filter((l) => read.nonEmpty.includes(l)) }
        : { labels: [...read.labels].sort(), nonEmpty: [...read.nonEmpty].sort() };
}

/**
 * The reads of one expression, merged into `into`. A selector without a name (`{__name__=~"…"}`) reads no one
 * metric. `valuesOf`: the label whose values a Grafana variable lists (`label_values(…, label)`): read, and only
 * from series that have it. Throws on a syntax error, naming `where`.
 */
export function addReads(into: Record<string, MetricRead>, expr: string, where: string, valuesOf?: string): void {
    const p = parsePromQL(expr);
    if (p.errors.length > 0) throw new Error(`${where}: ${p.errors.join("; ")} in ${expr}`);
    const labels = valuesOf ? [...p.labelNames, valuesOf] : p.labelNames;
    for (const s of p.selectors) mergeRead(into, s.metric, { labels, nonEmpty: valuesOf ? [...new Set([...s.nonEmpty, valuesOf])] : s.nonEmpty });
}

/** The reads with metric names in order (stable generated data). */
export function sortedReads(r: Reads): Reads {
    return Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]]));
}
