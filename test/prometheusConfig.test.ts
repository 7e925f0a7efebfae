/**
 * The Prometheus configuration the program writes, key by key against the pinned version's configuration reference
 * (docs/configuration/configuration.md at the tag, kept in test/fixtures/upstream/prometheus-<version>/): Prometheus
 * refuses to load a file with an unknown key (its YAML is read strictly), and a key in the wrong place is unknown
 * there. promtool check config (Debian's 2.42, test/prometheusAgent.test.ts) reads the compatibility rendering of the
 * same configuration; this check reads what the v3.14 agents really load, keys 2.42 does not have included.
 *
 * The central Prometheus' configuration is written by the Prometheus Operator from the Prometheus resource that
 * kube-prometheus-stack renders; its `remoteWrite` comes from the program's chart values, in the CRD's form. Those
 * keys are checked against the operator's RemoteWriteSpec and the types it reaches, at the operator version the chart
 * deploys: the API server drops a field its CRD schema does not know (pruning), so a misspelt key there is lost
 * without an error.
 */
import * as assert from "assert";
import * as path from "path";
import { charts, images } from "../lib/versions";
import { isHelmChart } from "../tools/plan";
import { mapSecrets } from "../tools/offline";
import { OPERATOR_FOLDER_EXCEPTIONS, operatorFields, operatorVersion } from "./helpers/operator";
import { EDGE_STACKS, planStack, yaml } from "./helpers/plan";
import { ConfigReference } from "./helpers/configReference";
import { upstreamFile, upstreamFolder, walkGoFields } from "./helpers/upstream";

const PROMETHEUS_REFRESH =
    "Copy docs/configuration/configuration.md of github.com/prometheus/prometheus at that tag (a first line naming the " +
    "source) and name it in SOURCE.json.";

function prometheusReference(tag: string = images.prometheus.tag): ConfigReference {
    const dir = upstreamFolder("prometheus", tag, PROMETHEUS_REFRESH);
    return new ConfigReference(`prometheus ${tag} configuration.md`, upstreamFile(dir, "configuration.md"), "Configuration file");
}

describe("Prometheus configuration against the pinned version's configuration reference", () => {
    const ref = prometheusReference();

    it("the fixture is the reference of the pinned version and names its source", () => {
        const dir = upstreamFolder("prometheus", images.prometheus.tag, PROMETHEUS_REFRESH);
        assert.strictEqual(path.basename(dir), `prometheus-${images.prometheus.tag}`);
        assert.match(upstreamFile(dir, "configuration.md"), new RegExp(`^<!-- prometheus/prometheus ${images.prometheus.tag} docs/configuration/configuration.md -->\n`));
    });

    it("the extractor reads each section's keys from its YAML skeleton (so the check below can fail)", () => {
        assert.deepStrictEqual(ref.keysOf("").slice(0, 4), ["alerting", "global", "otlp", "remote_read"]);
        const rw = ref.keysOf("remote_write");
        // Its own keys, and those of the <http_config> it includes.
        for (const k of ["url", "queue_config", "metadata_config", "write_relabel_configs", "tls_config", "authorization"]) assert.ok(rw.includes(k), k);
        assert.deepStrictEqual(ref.keysOf("relabel_config"), ["action", "modulus", "regex", "replacement", "separator", "source_labels", "target_label"]);
        assert.ok(ref.keysOf("kubernetes_sd_config").includes("namespaces"));
        // <file_sd_config>'s first YAML block is an example target file (a list); the skeleton is the mapping after it.
        assert.deepStrictEqual(ref.keysOf("file_sd_config"), ["files", "refresh_interval"]);
        assert.ok(ref.sections().length > 40);
    });

    it("a misspelt key, a key in the wrong section and a mapping where a value belongs are reported", () => {
        const cfg = {
            global: { scrape_interval: "30s", external_labels: { any_label: "x" } },
            scrape_configs: [
                {
                    job_name: "a",
                    tls_config: { ca_file: "/ca", insecure_skip_verfy: false },
                    kubernetes_sd_configs: [{ role: "pod", namespaces: { names: ["x"], name: ["y"] } }],
                    relabel_config: [],
                },
            ],
            remote_write: [{ url: "https://r", sample_age_limit: "1h", queue_config: { max_sample_per_send: 1, capacity: { a: 1 } } }],
        };
        assert.deepStrictEqual(ref.walk(cfg), [
            `scrape_configs[0].tls_config.insecure_skip_verfy: not a key of <tls_config> (${ref.where})`,
            `scrape_configs[0].kubernetes_sd_configs[0].namespaces.name: not a key of <kubernetes_sd_config>.namespaces (${ref.where})`,
            `scrape_configs[0].relabel_config: not a key of <scrape_config> (${ref.where})`,
            `remote_write[0].sample_age_limit: not a key of <remote_write> (${ref.where})`,
            `remote_write[0].queue_config.max_sample_per_send: not a key of <remote_write>.queue_config (${ref.where})`,
            "remote_write[0].queue_config.capacity: a mapping where <remote_write>.queue_config.capacity has a value",
        ]);
    });

    for (const stack of EDGE_STACKS) {
        it(`${stack}: every key of every agent configuration is one the ${images.prometheus.tag} reference allows where it stands`, async () => {
            const configs = (await planStack(stack)).outputs.agentConfigs as Record<string, string>;
            assert.ok(Object.keys(configs).length > 0, "agent configurations");
            const problems = Object.entries(configs).flatMap(([writer, text]) => ref.walk(yaml(text)).map((p) => `${writer}: ${p}`));
            assert.deepStrictEqual(problems, [], `keys Prometheus ${images.prometheus.tag} does not read:\n${problems.join("\n")}`);
        });
    }
});

const remoteWriteFields = () => operatorFields("remote-write.fields.txt");

describe("the central Prometheus' remoteWrite against the Prometheus Operator's RemoteWriteSpec", () => {
    it("the operator version is kube-prometheus-stack's appVersion, and a folder exception is for the current pin only", () => {
        assert.match(operatorVersion(), /^v\d+\.\d+\.\d+$/);
        for (const pin of Object.keys(OPERATOR_FOLDER_EXCEPTIONS)) assert.strictEqual(pin, operatorVersion(), `exception for ${pin}, but the chart deploys ${operatorVersion()}`);
    });

    it("the field list parses, resolves inline structs, and the walk reports a misspelt or misplaced key (so the check below can fail)", () => {
        const { fields, where } = remoteWriteFields();
        const rw = [
            {
                url: "https://r",
                tlsConfig: { ca: { secret: { name: "s", key: "ca.crt" } }, caFile: "/x", keySecret: { name: "s", key: "k", optinal: true } },
                queueConfig: { capacity: 1, retryOnHttp429: true },
                proxyUrl: "http://p",
                sampleAgeLimit: "1h",
            },
        ];
        assert.deepStrictEqual(walkGoFields(rw, "[]RemoteWriteSpec", fields, where), [
            `[0].tlsConfig.keySecret.optinal: SecretKeySelector has no field optinal (${where})`,
            `[0].queueConfig.retryOnHttp429: QueueConfig has no field retryOnHttp429 (${where})`,
            `[0].sampleAgeLimit: RemoteWriteSpec has no field sampleAgeLimit (${where})`,
        ]);
        assert.deepStrictEqual(walkGoFields([{ url: "https://r", oauth2: { clientId: "x" } }], "[]RemoteWriteSpec", fields, where), [
            `[0].oauth2: a mapping where ${where} has *OAuth2 (no field list for it)`,
        ]);
    });

    it("cluster-01: every key of the central Prometheus' remoteWrite is a field of the operator's RemoteWriteSpec", async () => {
        const { fields, where } = remoteWriteFields();
        const kps = (await planStack("cluster-01")).resources.filter(isHelmChart).map((r) => mapSecrets(r.inputs, true) as { chart: string; values: any }).filter((c) => c.chart === charts.kubePrometheusStack.chart && c.values?.prometheus?.prometheusSpec);
        assert.strictEqual(kps.length, 1, "one kube-prometheus-stack instance with a Prometheus");
        const remoteWrite = kps[0].values.prometheus.prometheusSpec.remoteWrite;
        assert.ok(Array.isArray(remoteWrite) && remoteWrite.length > 0, "remoteWrite entries");
        const problems = walkGoFields(remoteWrite, "[]RemoteWriteSpec", fields, where, "prometheus.prometheusSpec.remoteWrite");
        assert.deepStrictEqual(problems, [], problems.join("\n"));
    });
});
