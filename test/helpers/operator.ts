/**
 * The Prometheus Operator kube-prometheus-stack deploys (its Chart.yaml appVersion) and the field lists derived from
 * its Go types at that version (test/fixtures/upstream/prometheus-operator-<version>/).
 */
import { parse } from "yaml";
import { charts } from "../../lib/versions";
import { chartFolder } from "./charts";
import { GoField, parseGoFields, upstreamFile, upstreamFolder } from "./upstream";

/**
 * An operator version whose fields are kept under another version, with the reason; an entry whose pin has moved
 * fails (test/prometheusConfig.test.ts), so it cannot outlive the pin it was written for.
 */
export const OPERATOR_FOLDER_EXCEPTIONS: Record<string, { readonly folder: string; readonly reason: string }> = {
    "v0.93.1": {
        folder: "v0.93.0",
        reason: "no v0.93.1 tag was available; the listed types are unchanged from v0.93.0 to main at 6adcebc (see the folder's SOURCE.json)",
    },
};

export function operatorVersion(): string {
    const kps = charts.kubePrometheusStack;
    return parse(upstreamFile(chartFolder(kps.chart, kps.version), "Chart.yaml")).appVersion as string;
}

/** A derived field list of the deployed operator's folder, and how to name it in messages. */
export function operatorFields(file: string): { version: string; where: string; fields: Map<string, GoField[]> } {
    const pinned = operatorVersion();
    const version = OPERATOR_FOLDER_EXCEPTIONS[pinned]?.folder ?? pinned;
    const dir = upstreamFolder(
        "prometheus-operator",
        version,
        `Derive ${file} from github.com/prometheus-operator/prometheus-operator at that tag (one line per field: struct, ` +
            "json/yaml tag name, Go type, file:line; see the folder's SOURCE.json) — never copy the code.",
    );
    return { version, where: `prometheus-operator ${version} ${file}`, fields: parseGoFields(upstreamFile(dir, file), `${dir}/${file}`) };
}
