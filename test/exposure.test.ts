/** What the central cluster exposes, and to whom; where OpenSearch's superuser certificate is. */
import * as assert from "assert";
import { stackConfig } from "../tools/stacks";
import { all, manifest, planStack } from "./helpers/plan";

describe("exposure of cluster-01", () => {
    it("the remote-write and OpenSearch LoadBalancers admit only central.edgeSourceRanges, and keep the client address for the NetworkPolicy", async () => {
        const plan = await planStack("cluster-01");
        const ranges = stackConfig("cluster-01").central!.edgeSourceRanges;
        const lbs = all(plan, "kubernetes:core/v1:Service").map(manifest).filter((s) => s.spec.type === "LoadBalancer");
        assert.deepStrictEqual(lbs.map((s) => s.metadata.name).sort(), ["opensearch-external", "thanos-receive-remote-write"]);
        for (const s of lbs) {
            assert.deepStrictEqual(s.spec.loadBalancerSourceRanges, ranges, s.metadata.name);
            assert.strictEqual(s.spec.externalTrafficPolicy, "Local", s.metadata.name);
        }
    });

    it("OpenSearch's admin certificate is mounted by the configure Job only; the data pods' Secret has no admin key", async () => {
        const plan = await planStack("cluster-01");
        const secrets = all(plan, "kubernetes:core/v1:Secret").map(manifest);
        const node = secrets.find((s) => s.metadata.name === "opensearch-tls");
        const admin = secrets.find((s) => s.metadata.name === "opensearch-admin-tls");
        assert.deepStrictEqual(Object.keys(node.stringData).sort(), ["ca.crt", "tls.crt", "tls.key"]);
        assert.deepStrictEqual(Object.keys(admin.stringData).sort(), ["admin.crt", "admin.key", "ca.crt"]);
        const chart = all(plan, "kubernetes:helm.sh/v4:Chart").map(manifest).find((c) => c.chart === "opensearch");
        assert.deepStrictEqual(chart.values.secretMounts.map((m: any) => m.secretName), ["opensearch-tls"]);
        const mounting = [...all(plan, "kubernetes:batch/v1:Job"), ...all(plan, "kubernetes:apps/v1:StatefulSet"), ...all(plan, "kubernetes:apps/v1:Deployment")]
            .map(manifest)
            .filter((w) => (w.spec.template.spec.volumes ?? []).some((v: any) => v.secret?.secretName === "opensearch-admin-tls"))
            .map((w) => w.metadata.name as string);
        assert.strictEqual(mounting.length, 1);
        assert.match(mounting[0], /^opensearch-configure-/);
    });
});
