/**
 * The Alertmanager configuration the program writes, key by key, against what reads it:
 * - the Alertmanager kube-prometheus-stack deploys, through its configuration reference (docs/configuration.md at
 *   the image's tag, test/fixtures/upstream/alertmanager-<version>/); Alertmanager reads its file strictly, so an
 *   unknown key is a configuration it refuses. amtool (Debian's 0.25, test/centralMonitoring.test.ts) checks the
 *   same text with an older parser;
 * - the Prometheus Operator, which reads the Secret into its own types strictly before writing the configuration
 *   Alertmanager loads (see the field list's header): a key Alertmanager knows but the operator's types lack is
 *   refused there.
 */
import * as assert from "assert";
import * as path from "path";
import { charts } from "../lib/versions";
import { isHelmChart } from "../tools/plan";
import { mapSecrets } from "../tools/offline";
import { effectiveValues } from "./helpers/charts";
import { operatorFields } from "./helpers/operator";
import { ConfigReference } from "./helpers/configReference";
import { manifest, one, planStack, yaml } from "./helpers/plan";
import { upstreamFile, upstreamFolder, walkGoFields } from "./helpers/upstream";

const KPS = charts.kubePrometheusStack;

/** What kube-prometheus-stack renders the Alertmanager and its configuration Secret with. */
async function deployed(): Promise<{ tag: string; config: any }> {
    const plan = await planStack("cluster-01");
    const values = plan.resources
        .filter(isHelmChart)
        .map((r) => mapSecrets(r.inputs, true) as { chart: string; values: any })
        .filter((c) => c.chart === KPS.chart && c.values?.alertmanager?.alertmanagerSpec);
    assert.strictEqual(values.length, 1, "one kube-prometheus-stack instance with an Alertmanager");
    const tag = effectiveValues(KPS.chart, KPS.version, values[0].values).alertmanager.alertmanagerSpec.image.tag as string;
    const secret = one(plan, "kubernetes:core/v1:Secret", "-alertmanager-config");
    return { tag, config: yaml(manifest(secret).stringData["alertmanager.yaml"]) };
}

function alertmanagerReference(tag: string): ConfigReference {
    const dir = upstreamFolder(
        "alertmanager",
        tag,
        "Copy docs/configuration.md of github.com/prometheus/alertmanager at that tag (a first line naming the source) and name it in SOURCE.json.",
    );
    // <matcher> describes the matcher string syntax, not keys.
    return new ConfigReference(`alertmanager ${tag} configuration.md`, upstreamFile(dir, "configuration.md"), "File layout and global settings", ["matcher"]);
}

const operatorAlertmanagerFields = () => operatorFields("alertmanager-config.fields.txt");

describe("Alertmanager configuration against the deployed Alertmanager's reference and the operator's types", () => {
    it("the Alertmanager version is the image kube-prometheus-stack deploys, and its reference is kept for that tag", async () => {
        const { tag } = await deployed();
        assert.match(tag, /^v\d+\.\d+\.\d+$/);
        const dir = upstreamFolder("alertmanager", tag, "");
        assert.strictEqual(path.basename(dir), `alertmanager-${tag}`);
        assert.match(upstreamFile(dir, "configuration.md"), new RegExp(`^<!-- prometheus/alertmanager ${tag} docs/configuration.md -->\n`));
    });

    it("the extractor reads the sections the configuration uses, and reports misspelt and misplaced keys (so the checks below can fail)", async () => {
        const ref = alertmanagerReference((await deployed()).tag);
        for (const k of ["route", "receivers", "inhibit_rules", "global", "templates", "time_intervals"]) assert.ok(ref.keysOf("").includes(k), k);
        assert.ok(ref.keysOf("route").includes("repeat_interval") && ref.keysOf("route").includes("routes"));
        assert.ok(ref.keysOf("webhook_config").includes("send_resolved"));
        const bad = {
            route: { receiver: "a", routes: [{ receiver: "b", matcher: ['x="y"'] }] },
            receivers: [{ name: "a", webhook_configs: [{ url: "https://x", send_resolve: true }] }],
            inhibit_rules: [{ source_matchers: ['a="b"'], equals: ["x"] }],
        };
        assert.deepStrictEqual(ref.walk(bad), [
            `route.routes[0].matcher: not a key of <route> (${ref.where})`,
            `receivers[0].webhook_configs[0].send_resolve: not a key of <webhook_config> (${ref.where})`,
            `inhibit_rules[0].equals: not a key of <inhibit_rule> (${ref.where})`,
        ]);
    });

    it("the operator's types refuse a key Alertmanager's reference has but they lack (so the check below can fail)", async () => {
        const { where, fields } = operatorAlertmanagerFields();
        const ref = alertmanagerReference((await deployed()).tag);
        // Inhibit rules have a `name` in Alertmanager's reference; the operator's inhibitRule has no such field.
        const named = { inhibit_rules: [{ name: "x", source_matchers: ['a="b"'], target_matchers: ['c="d"'] }] };
        assert.deepStrictEqual(ref.walk(named), []);
        assert.deepStrictEqual(walkGoFields(named, "alertmanagerConfig", fields, where), [`inhibit_rules[0].name: inhibitRule has no field name (${where})`]);
    });

    it("cluster-01: every key of the Alertmanager configuration is one the deployed Alertmanager's reference allows where it stands", async () => {
        const { tag, config } = await deployed();
        const problems = alertmanagerReference(tag).walk(config);
        assert.deepStrictEqual(problems, [], `keys Alertmanager ${tag} does not read:\n${problems.join("\n")}`);
    });

    it("cluster-01: every key of the Alertmanager configuration is a field of the operator's types (it reads the Secret strictly)", async () => {
        const { where, fields } = operatorAlertmanagerFields();
        const problems = walkGoFields((await deployed()).config, "alertmanagerConfig", fields, where);
        assert.deepStrictEqual(problems, [], problems.join("\n"));
    });
});
