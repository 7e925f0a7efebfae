/** PromQL through Prometheus' own grammar (@prometheus-io/lezer-promql): syntax errors and metric names. */
import { parser } from "@prometheus-io/lezer-promql";

/** Grafana macros that are not PromQL, replaced by a value of the same kind before parsing. */
const GRAFANA_MACROS: [RegExp, string][] = [
    [/\$__rate_interval|\$__interval|\$__range/g, "5m"],
];

export interface ParsedPromQL {
    readonly errors: string[];
    readonly metricNames: string[];
}

export function parsePromQL(expr: string): ParsedPromQL {
    const src = GRAFANA_MACROS.reduce((s, [re, v]) => s.replace(re, v), expr);
    const errors: string[] = [];
    const names = new Set<string>();
    parser.parse(src).iterate({
        enter(node) {
            if (node.type.isError) errors.push(`syntax error at ${node.from}: "${src.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
            if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector") names.add(src.slice(node.from, node.to));
            // {__name__="x"} names a metric too.
            if (node.name === "UnquotedLabelMatcher" && src.slice(node.from, node.to).startsWith("__name__")) {
                const m = /^__name__\s*=\s*"([^"]+)"/.exec(src.slice(node.from, node.to));
                if (m) names.add(m[1]);
            }
        },
    });
    return { errors, metricNames: [...names] };
}
