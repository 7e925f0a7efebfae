/** The pinned charts' default values (test/fixtures/upstream/<chart>-<version>/), with their subcharts', and a chart's effective values. */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { UPSTREAM_DIR, upstreamFile, upstreamFolder } from "./upstream";

const CHART_REFRESH =
    "Run `npm run fixtures:charts` (it downloads the chart's archive from the repository of lib/versions.ts and writes the " +
    "folder with its SOURCE.json; Renovate's branches get it from .github/workflows/renovate-refresh.yml).";

/** The pinned chart's folder of default values (test/fixtures/upstream/<chart>-<version>/). */
export function chartFolder(chart: string, version: string): string {
    return upstreamFolder(chart, version, CHART_REFRESH);
}

/** A chart's Chart.yaml, as far as the checks read it. */
export interface ChartMeta {
    readonly name: string;
    readonly version: string;
    readonly appVersion?: string;
    readonly dependencies?: { name: string; version: string; alias?: string; condition?: string }[];
}

/** The Chart.yaml of a chart at a version (from its fixture folder). */
export function chartMeta(chart: string, version: string): ChartMeta {
    return parse(upstreamFile(chartFolder(chart, version), "Chart.yaml")) as ChartMeta;
}

/**
 * A chart's defaults with each dependency's defaults merged under its key (values under `grafana:` in
 * kube-prometheus-stack are the grafana chart's values). Dependencies and versions come from the parent's Chart.yaml;
 * a dependency without a folder here adds nothing (its keys then fail the check, visibly).
 */
export function withSubcharts(chartDir: string, defaults: Record<string, unknown>): Record<string, unknown> {
    const chartYaml = parse(fs.readFileSync(path.join(chartDir, "Chart.yaml"), "utf8")) as { dependencies?: { name: string; version: string; alias?: string }[] };
    const out = { ...defaults };
    for (const dep of chartYaml.dependencies ?? []) {
        const file = path.join(UPSTREAM_DIR, `${dep.name}-${dep.version}`, "values.yaml");
        if (!fs.existsSync(file)) continue;
        out[dep.alias ?? dep.name] = deepMerge(parse(fs.readFileSync(file, "utf8")), (defaults[dep.alias ?? dep.name] ?? {}) as Record<string, unknown>);
    }
    return out;
}

export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
        // Helm: a null in the values deletes the chart's default of that key.
        if (v === null) {
            delete out[k];
            continue;
        }
        const b = out[k];
        const bothObjects = v && b && typeof v === "object" && typeof b === "object" && !Array.isArray(v) && !Array.isArray(b);
        out[k] = bothObjects ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
    }
    return out;
}


/** A chart's defaults at a version, subcharts' defaults merged under their keys. */
export function chartDefaults(chart: string, version: string): Record<string, unknown> {
    const dir = chartFolder(chart, version);
    return withSubcharts(dir, parse(upstreamFile(dir, "values.yaml")));
}

/** What the chart renders with: its defaults with the program's values merged over them (as Helm merges maps). */
export function effectiveValues(chart: string, version: string, values: Record<string, unknown>): any {
    return deepMerge(chartDefaults(chart, version), values);
}
