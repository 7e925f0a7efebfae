/**
 * Certificate expiry reaches a Prometheus from where each certificate is mounted: cluster-01's as the central pair's
 * recording rules, an edge's client certificate as its node-exporters' textfile, each agent keeping its own writer's.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { CERTIFICATE_EXPIRY_METRIC, certificateTextfile } from "../lib/certificates";
import { MOCK_ISSUED_AT, mapSecrets } from "../tools/offline";
import { all, isSecretAt, manifest, one, planStack, tool, yaml } from "./helpers/plan";

/** NotAfter of a planned certificate, in Unix seconds: the offline runtime issues every one at MOCK_ISSUED_AT. */
function notAfter(plan: Awaited<ReturnType<typeof planStack>>, type: string, suffix: string): number {
    return Math.floor((MOCK_ISSUED_AT + (one(plan, type, suffix).inputs as any).validityPeriodHours * 3600 * 1000) / 1000);
}
const SELF = "tls:index/selfSignedCert:SelfSignedCert";
const LEAF = "tls:index/locallySignedCert:LocallySignedCert";

describe("certificate expiry as a metric", () => {
    it("cluster-01: one recorded series per certificate it mounts, with that certificate's NotAfter", async () => {
        const plan = await planStack("cluster-01");
        const groups = manifest(one(plan, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "-self-monitoring-rules")).spec.groups;
        const recorded = groups.find((g: any) => g.name === "agent-receiver-certificates").rules as any[];
        const got = Object.fromEntries(recorded.map((r) => [`${r.labels.certificate}${r.labels.writer ? `/${r.labels.writer}` : ""}`, r.expr]));
        assert.ok(recorded.every((r) => r.record === CERTIFICATE_EXPIRY_METRIC));
        assert.deepStrictEqual(got, {
            "remote-write-ca": `vector(${notAfter(plan, SELF, "-remote-write-pki-ca")})`,
            "remote-write-server": `vector(${notAfter(plan, LEAF, "-remote-write-pki-server-cert")})`,
            "remote-write-client/cluster-01": `vector(${notAfter(plan, LEAF, "-remote-write-pki-writer-cluster-01-cert")})`,
            "logs-ca": `vector(${notAfter(plan, SELF, "-logs-ca")})`,
            "logs-node": `vector(${notAfter(plan, LEAF, "-logs-node-cert")})`,
            "logs-admin": `vector(${notAfter(plan, LEAF, "-logs-admin-cert")})`,
        });
        // A leaf lives a year: the figure is the certificate's, not a constant.
        assert.strictEqual(notAfter(plan, LEAF, "-remote-write-pki-server-cert") - MOCK_ISSUED_AT / 1000, 8760 * 3600);
    });

    it("cluster-02: node-exporter serves both tenants' client certificate NotAfter, from the stack output the agents' certificates come from", async () => {
        const central = await planStack("cluster-01");
        const creds = mapSecrets(central.outputs.writerCredentials, true) as Record<string, { notAfter: string }>;
        const plan = await planStack("cluster-02");
        const cm = one(plan, "kubernetes:core/v1:ConfigMap", "-node-exporter-textfile");
        const text = manifest(cm).data["agent-receiver.prom"] as string;
        assert.ok(!isSecretAt((cm.inputs as any).data, "agent-receiver.prom"), "an expiry is no secret (the ConfigMap must not become one)");
        assert.strictEqual(
            text,
            certificateTextfile(["cluster-02-a", "cluster-02-b"].map((w) => ({ certificate: "remote-write-client", writer: w, notAfter: creds[w].notAfter }))),
        );
        assert.match(text, new RegExp(`^${CERTIFICATE_EXPIRY_METRIC}\\{certificate="remote-write-client",writer="cluster-02-a"\\} ${Date.parse(creds["cluster-02-a"].notAfter) / 1000}$`, "m"));
        // The real promtool reads it as the exposition format node-exporter serves.
        execFileSync(tool("promtool"), ["check", "metrics"], { input: text, stdio: ["pipe", "pipe", "pipe"] });

        const chart = all(plan, "kubernetes:helm.sh/v4:Chart").find((r) => r.name.endsWith("-node-exporter-chart"))!;
        const v = manifest(chart).values;
        assert.deepStrictEqual(v.configmaps, [{ name: manifest(cm).metadata.name, mountPath: "/etc/node-exporter/textfile" }]);
        assert.deepStrictEqual(v.extraArgs, ["--collector.textfile.directory=/etc/node-exporter/textfile"]);
    });

    it("cluster-02: each tenant's agent keeps only its own writer's expiry series", async () => {
        const plan = await planStack("cluster-02");
        for (const [tenant, other] of [["a", "cluster-02-b"], ["b", "cluster-02-a"]]) {
            const cfg = yaml(manifest(one(plan, "kubernetes:core/v1:ConfigMap", `-agent-${tenant}-config`)).data["prometheus.yml"]);
            const job = cfg.scrape_configs.find((j: any) => j.job_name === "node-exporter");
            assert.deepStrictEqual(job.metric_relabel_configs.at(-1), { source_labels: ["__name__", "writer"], regex: `${CERTIFICATE_EXPIRY_METRIC};(${other})`, action: "drop" }, tenant);
        }
        const single = yaml(manifest(one(await planStack("cluster-03"), "kubernetes:core/v1:ConfigMap", "-agent-config")).data["prometheus.yml"]);
        const singleJob = single.scrape_configs.find((j: any) => j.job_name === "node-exporter");
        // Kept (its keep-list names it), and no writer's series dropped.
        assert.ok(singleJob.metric_relabel_configs.some((r: any) => r.action === "keep" && r.regex.includes(CERTIFICATE_EXPIRY_METRIC)));
        assert.ok(!singleJob.metric_relabel_configs.some((r: any) => r.action === "drop" && String(r.regex).includes(CERTIFICATE_EXPIRY_METRIC)), "a cluster with one writer drops nothing");
    });
});
