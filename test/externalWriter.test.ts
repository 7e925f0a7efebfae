/**
 * An existing Prometheus outside the four stacks as a writer (`central.externalWriters`): cluster-01 planned with
 * the README's example issues it a client certificate (Organization = its id, Receive's tenant), exports it as a
 * secret output the edges do not read, admits its range on Receive's remote-write port only, and treats it as a
 * tenant (limits, alerts, certificate expiry). The README's `remote_write` block, and the Korean guide's
 * (docs/ko/extensions.md), is what lib/externalWriter.ts renders
 * (the e2e runs that rendering in a real Prometheus 2.42), its keys are the pinned Prometheus' and promtool loads it.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { ConfigError, parseStackConfig } from "../lib/config";
import { configProblem } from "./helpers/configProblem";
import { EXTERNAL_WRITER_FILES, externalWriterRemoteWrite } from "../lib/externalWriter";
import { images } from "../lib/versions";
import { EXTERNAL_WRITER_EXAMPLE, centralWithExtensions, stackFileWith } from "../tools/extensionExamples";
import { mapSecrets } from "../tools/offline";
import { ROOT, type Plan } from "../tools/plan";
import { ConfigReference } from "./helpers/configReference";
import { isSecret, manifest, one, planStack, tmpDir, tool, yaml } from "./helpers/plan";
import { blockAfter, section } from "./helpers/readme";
import { upstreamFile, upstreamFolder } from "./helpers/upstream";

const ID = EXTERNAL_WRITER_EXAMPLE.id;
const RANGE = EXTERNAL_WRITER_EXAMPLE.sourceRanges[0];
const CLUSTER_WRITERS = ["cluster-01", "cluster-02-a", "cluster-02-b", "cluster-03", "cluster-04"];

/** cluster-01 with the README's external writer and a head-series limit for it. */
async function planWithWriter(): Promise<Plan> {
    const dir = stackFileWith("cluster-01", (c) => {
        c.externalWriters = [{ id: ID, sourceRanges: [RANGE] }];
        c.receive.limits.tenants = { [ID]: { uniqueHeadSeries: 200000 } };
    });
    return planStack("cluster-01", { dir });
}

describe("an existing Prometheus as a writer (central.externalWriters)", () => {
    let plan: Plan;
    let committed: Plan;
    before(async () => {
        plan = await planWithWriter();
        committed = await planStack("cluster-01");
    });

    it("gets a client certificate from the remote-write CA whose Organization, Receive's tenant, is its id", () => {
        const csr = manifest(one(plan, "tls:index/certRequest:CertRequest", `-remote-write-pki-writer-${ID}-csr`));
        assert.deepStrictEqual(csr.subject, { commonName: ID, organization: ID });
        const cert = manifest(one(plan, "tls:index/locallySignedCert:LocallySignedCert", `-remote-write-pki-writer-${ID}-cert`));
        assert.ok(cert.allowedUses.includes("client_auth"), cert.allowedUses.join());
        const edgeCert = manifest(one(plan, "tls:index/locallySignedCert:LocallySignedCert", "-remote-write-pki-writer-cluster-03-cert"));
        assert.strictEqual(cert.caCertPem, edgeCert.caCertPem, "signed by the CA Receive verifies every writer against");
        // Receive takes the tenant from exactly that field.
        const receive = manifest(one(plan, "kubernetes:apps/v1:StatefulSet", "-receive-statefulset")).spec.template.spec.containers[0].args as string[];
        assert.ok(receive.includes("--receive.tenant-certificate-field=organization"));
    });

    it("its certificate and key are the secret output externalWriterCredentials, in no output an edge reads", () => {
        assert.ok(isSecret(plan.outputs.externalWriterCredentials), "a secret output");
        const creds = mapSecrets(plan.outputs.externalWriterCredentials, true) as Record<string, { certPem: string; keyPem: string; notAfter: string }>;
        assert.deepStrictEqual(Object.keys(creds), [ID]);
        assert.match(creds[ID].certPem, /^-----BEGIN CERTIFICATE-----\n/);
        assert.match(creds[ID].keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
        // The edges read writerCredentials and writers: the external writer is in neither, and its credential is its own.
        const edges = mapSecrets(plan.outputs.writerCredentials, true) as Record<string, { certPem: string; keyPem: string }>;
        assert.deepStrictEqual(Object.keys(edges), CLUSTER_WRITERS);
        for (const w of CLUSTER_WRITERS) assert.ok(edges[w].certPem !== creds[ID].certPem && edges[w].keyPem !== creds[ID].keyPem, w);
        assert.deepStrictEqual(plan.outputs.writers, CLUSTER_WRITERS);
        // A stack without external writers exports what it did before.
        assert.ok(!("externalWriterCredentials" in committed.outputs));
    });

    it("its range reaches Receive's remote-write port through the LoadBalancer and Receive's NetworkPolicy, and not OpenSearch", () => {
        const lb = manifest(one(plan, "kubernetes:core/v1:Service", "-receive-remote-write"));
        assert.deepStrictEqual(lb.spec.loadBalancerSourceRanges, ["192.168.103.0/24", RANGE]);
        const np = manifest(one(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "-receive-netpol")).spec;
        const remoteWrite = np.ingress.find((r: any) => r.ports.some((p: any) => p.port === 19291));
        assert.ok(remoteWrite.from.some((p: any) => p.ipBlock?.cidr === RANGE), JSON.stringify(remoteWrite));
        assert.ok(!np.ingress.some((r: any) => r !== remoteWrite && r.from.some((p: any) => p.ipBlock?.cidr === RANGE)), "no other Receive port");
        const logsLb = manifest(one(plan, "kubernetes:core/v1:Service", "-logs-external"));
        assert.ok(!logsLb.spec.loadBalancerSourceRanges.includes(RANGE), "OpenSearch's LoadBalancer does not admit it");
    });

    it("is a tenant like the others: its limit in Receive's limits file, WriterStoppedSending expects it, its certificate's expiry is recorded", () => {
        const limits = yaml(manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-receive-limits")).data["limits.yaml"]);
        assert.strictEqual(limits.write.tenants[ID].head_series_limit, 200000 * 3, "× replicationFactor, as for every writer");
        const rules = yaml(manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-ruler-rules")).data["platform.yaml"]);
        const stopped = rules.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === "WriterStoppedSending");
        assert.ok(stopped.expr.includes(`'tenant_id', '${ID}'`), stopped.expr);
        const groups = manifest(one(plan, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "-self-monitoring-rules")).spec.groups;
        const recorded = groups.find((g: any) => g.name === "agent-receiver-certificates").rules as any[];
        const mine = recorded.find((r) => r.labels.writer === ID);
        const notAfter = (mapSecrets(plan.outputs.externalWriterCredentials, true) as any)[ID].notAfter as string;
        assert.deepStrictEqual(mine, { record: "agent_receiver_certificate_expiry_timestamp_seconds", expr: `vector(${Date.parse(notAfter) / 1000})`, labels: { certificate: "remote-write-client", writer: ID } });
    });
});

describe("central.externalWriters: bad input is refused naming the stack and the key", () => {
    const base = (): any => {
        const raw = parse(fs.readFileSync(path.join(centralWithExtensions({ externalWriter: true }), "Pulumi.cluster-01.yaml"), "utf8")).config;
        return { role: "central", clusterName: "cluster-01", kubernetes: raw["agent-receiver:kubernetes"], images: {}, central: raw["agent-receiver:central"] };
    };
    const cases: [string, (c: any) => void, string, RegExp][] = [
        ["an id that is a cluster's writer id", (c) => (c.central.externalWriters[0].id = "cluster-03"), "agent-receiver:central.externalWriters[0].id", /already the writer id of a cluster/],
        ["an id that is a tenant cluster's name", (c) => (c.central.externalWriters[0].id = "cluster-02"), "agent-receiver:central.externalWriters[0].id", /name of cluster cluster-02/],
        ["the default tenant as id", (c) => (c.central.externalWriters[0].id = "unknown"), "agent-receiver:central.externalWriters[0].id", /defaultTenant/],
        ["the same id twice", (c) => c.central.externalWriters.push({ id: ID, sourceRanges: ["10.0.0.0/24"] }), "agent-receiver:central.externalWriters[1].id", /listed twice/],
        ["no source range", (c) => (c.central.externalWriters[0].sourceRanges = []), "agent-receiver:central.externalWriters[0].sourceRanges", /admits no one else/],
        ["a malformed source range", (c) => (c.central.externalWriters[0].sourceRanges = ["10.0.0.0/40"]), "agent-receiver:central.externalWriters[0].sourceRanges[0]", /prefix/],
        ["an unknown key", (c) => (c.central.externalWriters[0].tenant = "x"), "agent-receiver:central.externalWriters[0].tenant", /unknown key/],
    ];
    for (const [what, change, key, message] of cases) {
        it(`refuses ${what}, naming ${key}`, () => {
            const raw = base();
            change(raw);
            const problem = configProblem("cluster-01", raw, key);
            assert.match(problem.message, message);
        });
    }

    it("the Korean guide's example is what the schema prints for an id that is a cluster's writer id", () => {
        const raw = base();
        raw.central.externalWriters[0].id = "cluster-03";
        const guide = fs.readFileSync(path.join(ROOT, "docs", "ko", "extensions.md"), "utf8");
        assert.throws(() => parseStackConfig("cluster-01", raw), (e: ConfigError) => e.message === blockAfter("external-writer:refused", guide).code.trimEnd());
    });

    it("accepts its id where any writer id goes: limits, rotation, alert routes", () => {
        const raw = base();
        raw.central.receive.limits.tenants = { [ID]: { uniqueHeadSeries: 1000 } };
        raw.central.rotation = { writers: { [ID]: 1 } };
        raw.central.monitoring.alerting.routes = [{ receiver: "platform", tenants: [ID] }];
        assert.doesNotThrow(() => parseStackConfig("cluster-01", raw));
        // and without the entry, the same keys name an unknown writer
        delete raw.central.externalWriters;
        assert.throws(() => parseStackConfig("cluster-01", raw), (e: ConfigError) => e.problems.filter((p) => p.message.startsWith(`unknown writer "${ID}"`)).length === 3);
    });
});

describe("the README's remote_write block for an external writer", () => {
    const documented = () => parse(blockAfter("external-writer:remote-write").code);

    it("is what lib/externalWriter.ts renders for the README's writer, cluster-01's remote-write URL and the documented files", async () => {
        const url = (await planStack("cluster-01")).outputs.receiveRemoteWriteUrl as string;
        assert.deepStrictEqual(documented(), { remote_write: [externalWriterRemoteWrite({ writerId: ID, url, files: EXTERNAL_WRITER_FILES })] });
    });

    it("its commands set the example's keys, read outputs the plan exports and write the files the block names", async () => {
        const text = section("### An existing Prometheus as a writer");
        const outputs = Object.keys((await planWithWriter()).outputs);
        const named = [...text.matchAll(/pulumi stack output --stack cluster-01 (?:--show-secrets --json )?(\w+)/g)].map((m) => m[1]);
        assert.deepStrictEqual([...new Set(named)].sort(), ["externalWriterCredentials", "receiveCaCertPem", "receiveRemoteWriteUrl"]);
        for (const o of named) assert.ok(outputs.includes(o), `README names the output ${o}, which the plan does not export`);
        for (const file of Object.values(EXTERNAL_WRITER_FILES)) assert.ok(text.includes(`> ${file}`), `README writes ${file}`);
        assert.ok(text.includes(`externalWriters[0].id' ${ID} `) && text.includes(`sourceRanges[0]' ${RANGE} `), "the config commands set the example");
        assert.ok(text.includes(`'."${ID}".certPem'`) && text.includes(`'."${ID}".keyPem'`));
    });

    it(`every key is one Prometheus ${images.prometheus.tag} allows where it stands, and Debian's Prometheus (promtool check config) loads it`, () => {
        const dir = upstreamFolder("prometheus", images.prometheus.tag, "see test/prometheusConfig.test.ts");
        const ref = new ConfigReference(`prometheus ${images.prometheus.tag} configuration.md`, upstreamFile(dir, "configuration.md"), "Configuration file");
        const cfg = documented();
        assert.deepStrictEqual(ref.walk(cfg), []);
        // promtool reads the files a configuration names: point them at PEM files made here.
        const tmp = tmpDir("external-writer-");
        const ssl = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe", cwd: tmp });
        ssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client.key", "-out", "client.crt", "-days", "1", "-subj", `/O=${ID}/CN=${ID}`]);
        fs.copyFileSync(path.join(tmp, "client.crt"), path.join(tmp, "ca.crt"));
        const rw = cfg.remote_write[0];
        rw.tls_config = { ca_file: path.join(tmp, "ca.crt"), cert_file: path.join(tmp, "client.crt"), key_file: path.join(tmp, "client.key") };
        fs.writeFileSync(path.join(tmp, "prometheus.yml"), stringify({ global: { scrape_interval: "30s" }, remote_write: [rw] }));
        const out = execFileSync(tool("promtool"), ["check", "config", path.join(tmp, "prometheus.yml")], { encoding: "utf8" });
        assert.match(out, /SUCCESS/);
        // The check can fail: a misspelt key is refused by both.
        const bad = { remote_write: [{ ...rw, queue_config: { retry_on_http_492: true } }] };
        assert.strictEqual(ref.walk(bad).length, 1);
        fs.writeFileSync(path.join(tmp, "bad.yml"), stringify(bad));
        assert.throws(() => execFileSync(tool("promtool"), ["check", "config", path.join(tmp, "bad.yml")], { stdio: "pipe" }));
    });
});

describe("the Korean guide's external writer (docs/ko/extensions.md)", () => {
    const guide = () => fs.readFileSync(path.join(ROOT, "docs", "ko", "extensions.md"), "utf8");

    it("its remote_write block is the README's, what lib/externalWriter.ts renders (comments apart)", async () => {
        const url = (await planStack("cluster-01")).outputs.receiveRemoteWriteUrl as string;
        const korean = parse(blockAfter("external-writer:remote-write", guide()).code);
        assert.deepStrictEqual(korean, { remote_write: [externalWriterRemoteWrite({ writerId: ID, url, files: EXTERNAL_WRITER_FILES })] });
        assert.deepStrictEqual(korean, parse(blockAfter("external-writer:remote-write").code));
    });

    it("its commands set the README's example, read outputs the plan exports and write the files the block names", async () => {
        const text = guide();
        const outputs = Object.keys((await planWithWriter()).outputs);
        const named = [...text.matchAll(/pulumi stack output (\w+)[^\n]*--stack cluster-01/g)].map((m) => m[1]);
        assert.deepStrictEqual([...new Set(named)].sort(), ["externalWriterCredentials", "receiveCaCertPem", "receiveRemoteWriteUrl"]);
        for (const o of named) assert.ok(outputs.includes(o), `the guide names the output ${o}, which the plan does not export`);
        assert.match(text, /pulumi stack output externalWriterCredentials --show-secrets --json --stack cluster-01/, "the secret output is read with --show-secrets");
        for (const file of Object.values(EXTERNAL_WRITER_FILES)) assert.ok(text.includes(`> ${file}`), `the guide writes ${file}`);
        assert.ok(text.includes(`externalWriters[0].id' ${ID} `) && text.includes(`sourceRanges[0]' ${RANGE} `), "the config commands set the example");
        assert.ok(text.includes(`'."${ID}".certPem'`) && text.includes(`'."${ID}".keyPem'`));
    });
});
