/**
 * Prometheus' relabelling (model/relabel/relabel.go) for the actions the agents' metric relabelling uses: keep, drop,
 * replace, labeldrop, labelkeep. Regexes are fully anchored as Prometheus anchors them (`^(?:re)$`); the expressions
 * the program writes use only syntax RE2 and JavaScript read alike (literals, alternation, `.`, `+`, `*`, groups).
 * test/metricFilter.test.ts runs the same configurations through a real Prometheus and compares.
 */
export type Labels = Record<string, string>;
export type RelabelRule = Record<string, unknown>;

const DEFAULTS = { separator: ";", regex: "(.*)", replacement: "$1", action: "replace" };

function anchored(re: string): RegExp {
    return new RegExp(`^(?:${re})$`);
}

/** Go's Regexp.Expand for `$1`, `${1}`, `$name`: a group that did not match expands to "". */
function expand(template: string, m: RegExpExecArray): string {
    return template.replace(/\$(?:\{(\w+)\}|(\d+)|([A-Za-z_]\w*))|\$\$/g, (all, braced?: string, num?: string, name?: string) => {
        if (all === "$$") return "$";
        const key = braced ?? num ?? name!;
        return /^\d+$/.test(key) ? (m[Number(key)] ?? "") : (m.groups?.[key] ?? "");
    });
}

/** The labels after the rules, or `undefined` when the series is dropped. Throws on an action not listed above. */
export function relabel(input: Labels, rules: readonly RelabelRule[]): Labels | undefined {
    const labels: Labels = { ...input };
    for (const raw of rules) {
        const r = { ...DEFAULTS, ...raw } as { source_labels?: string[]; separator: string; regex: string; replacement: string; action: string; target_label?: string };
        const value = (r.source_labels ?? []).map((l) => labels[l] ?? "").join(r.separator);
        const re = anchored(r.regex);
        switch (r.action) {
            case "keep":
                if (!re.test(value)) return undefined;
                break;
            case "drop":
                if (re.test(value)) return undefined;
                break;
            case "replace": {
                const m = re.exec(value);
                if (!m) break;
                const target = expand(r.target_label ?? "", m);
                const result = expand(r.replacement, m);
                if (result === "") delete labels[target];
                else labels[target] = result;
                break;
            }
            case "labeldrop":
                for (const l of Object.keys(labels)) if (re.test(l)) delete labels[l];
                break;
            case "labelkeep":
                for (const l of Object.keys(labels)) if (!re.test(l)) delete labels[l];
                break;
            default:
                throw new Error(`relabel action ${r.action} is not implemented here`);
        }
    }
    return labels;
}

/** A series' identity: its labels, sorted. */
export function seriesKey(labels: Labels): string {
    return Object.keys(labels)
        .sort()
        .map((k) => `${k}=${JSON.stringify(labels[k])}`)
        .join(",");
}
