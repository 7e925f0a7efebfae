import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { isHelmChart } from "../lib/plan";
import { STACKS, planStack } from "./helpers/plan";

/** The pinned charts' default values (`../shared/charts`, or CHART_DEFAULTS_DIR). A newcomer's clone has none. */
const CHARTS_DIR = process.env.CHART_DEFAULTS_DIR ?? path.resolve(__dirname, "..", "..", "shared", "charts");

/**
 * Keys whose content the chart renders verbatim with toYaml (security contexts): any key Kubernetes accepts is
 * valid there, so only the parent must exist. Kept short on purpose.
 */
const PASSTHROUGH = new Set(["containerSecurityContext", "securityContext", "resources", "nodeSelector", "tolerations", "image"]);

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
    before(function () {
        if (!fs.existsSync(CHARTS_DIR)) {
            console.log(`      (skipped: no chart defaults at ${CHARTS_DIR}; set CHART_DEFAULTS_DIR)`);
            this.skip();
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
                const file = path.join(CHARTS_DIR, `${chart}-${version}`, "values.yaml");
                assert.ok(fs.existsSync(file), `no defaults for ${chart} ${version} under ${CHARTS_DIR}: add them or pin a known version`);
                const defaults = parse(fs.readFileSync(file, "utf8"));
                assert.deepStrictEqual(unknownKeys(values, defaults), [], `${r.name}: keys unknown to ${chart} ${version}`);
            }
        });
    }
});
