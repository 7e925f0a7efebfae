/**
 * A StatefulSet's volume size is in its claim template, which Kubernetes does not let change: a changed size would
 * make pulumi up delete and re-create the StatefulSet. The config refuses a size that differs from the one deployed
 * (storageSizeDeployed), with the resize procedure; these tests hold the exact message and the names it uses.
 */
import * as assert from "assert";
import { ConfigError, checkVolumeSize, parseFlatConfig } from "../lib/config";
import { readStackFile } from "../tools/plan";
import { agentStatefulSetName } from "../lib/tenancy";
import { EDGE_STACKS, all, manifest, planStack } from "./helpers/plan";

function refusal(mutate: (central: any) => void): ConfigError {
    const file = readStackFile("cluster-01");
    const raw = JSON.parse(file.flat["agent-receiver:central"]);
    mutate(raw);
    file.flat["agent-receiver:central"] = JSON.stringify(raw);
    try {
        parseFlatConfig("cluster-01", file.flat, (k) => file.secretKeys.includes(k));
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e;
    }
    assert.fail("the changed size was accepted");
}

describe("volume sizes of StatefulSets (storageSize against storageSizeDeployed)", () => {
    it("refuses a changed compactor size with the resize procedure, naming the key as the operator types it", () => {
        const err = refusal((c) => (c.compactor.storageSize = "100Gi"));
        assert.deepStrictEqual(err.problems, [
            {
                path: "agent-receiver:central.compactor.storageSize",
                message:
                    "(100Gi) differs from storageSizeDeployed (50Gi): the size is in the volume claim template of StatefulSet thanos/thanos-compact, " +
                    "which Kubernetes does not let change, so pulumi up would delete and re-create the StatefulSet (all its pods at once) and its volumes would stay at 50Gi. " +
                    `To resize: (1) grow each claim, kubectl -n thanos patch pvc data-thanos-compact-0 -p '{"spec":{"resources":{"requests":{"storage":"100Gi"}}}}' ` +
                    "(its StorageClass must allow expansion; local-path does not: see docs/ko/runbooks/volume-full.md); " +
                    "(2) kubectl -n thanos delete statefulset thanos-compact --cascade=orphan (the pods keep running); " +
                    "(3) set storageSizeDeployed to 100Gi and run pulumi up, which re-creates the StatefulSet around the running pods. " +
                    "Before the first deployment, set both to the same size.",
            },
        ]);
    });

    it("names every replica's claim (Receive: three)", () => {
        const [p] = refusal((c) => (c.receive.storageSize = "80Gi")).problems;
        assert.strictEqual(p.path, "agent-receiver:central.receive.storageSize");
        for (const i of [0, 1, 2]) assert.ok(p.message.includes(`kubectl -n thanos patch pvc data-thanos-receive-${i} -p`), p.message);
    });

    it("accepts the resize once recorded, and the same size in other units", () => {
        const file = readStackFile("cluster-01");
        const raw = JSON.parse(file.flat["agent-receiver:central"]);
        raw.compactor.storageSize = "100Gi";
        raw.compactor.storageSizeDeployed = "100Gi";
        raw.storeGateway = { ...raw.storeGateway, storageSize: "20480Mi" };
        file.flat["agent-receiver:central"] = JSON.stringify(raw);
        assert.doesNotThrow(() => parseFlatConfig("cluster-01", file.flat, (k) => file.secretKeys.includes(k)));
        assert.strictEqual(checkVolumeSize("20Gi", "20Gi", { namespace: "n", statefulSet: "s", replicas: 1 }), undefined);
    });

    it("the StatefulSets and claims the messages name are the ones the program creates", async () => {
        const plan = await planStack("cluster-01");
        const sets = all(plan, "kubernetes:apps/v1:StatefulSet").map(manifest).filter((m) => m.spec.volumeClaimTemplates?.length);
        const named = Object.fromEntries(sets.map((m) => [m.metadata.name, `${m.metadata.namespace}/${m.spec.volumeClaimTemplates[0].metadata.name}`]));
        for (const sts of ["thanos-receive", "thanos-store", "thanos-compact", "thanos-ruler"]) assert.strictEqual(named[sts], "thanos/data", sts);
        // Every program-owned StatefulSet with a volume on cluster-01 is guarded (the edges' agents: the next tests).
        assert.deepStrictEqual(Object.keys(named).sort(), ["thanos-compact", "thanos-receive", "thanos-ruler", "thanos-store"]);
    });

    it("refuses a changed agent WAL size on an edge with the resize procedure, for every agent of the cluster", () => {
        const file = readStackFile("cluster-02");
        const raw = JSON.parse(file.flat["agent-receiver:edge"]);
        raw.agent.walSize = "20Gi";
        file.flat["agent-receiver:edge"] = JSON.stringify(raw);
        let err: unknown;
        try {
            parseFlatConfig("cluster-02", file.flat, (k) => file.secretKeys.includes(k));
        } catch (e) {
            err = e;
        }
        assert.ok(err instanceof ConfigError, String(err));
        assert.deepStrictEqual(err.problems.map((p) => p.path), ["agent-receiver:edge.agent.walSize", "agent-receiver:edge.agent.walSize"]);
        for (const [i, tenant] of ["a", "b"].entries()) {
            const m = err.problems[i].message;
            assert.ok(m.startsWith(`(20Gi) differs from walSizeDeployed (10Gi): the size is in the volume claim template of StatefulSet monitoring/prometheus-agent-${tenant}`), m);
            assert.ok(m.includes(`kubectl -n monitoring patch pvc wal-prometheus-agent-${tenant}-0 -p '{"spec":{"resources":{"requests":{"storage":"20Gi"}}}}'`), m);
            assert.ok(m.includes(`kubectl -n monitoring delete statefulset prometheus-agent-${tenant} --cascade=orphan`), m);
            assert.ok(m.includes("(3) set walSizeDeployed to 20Gi and run pulumi up"), m);
        }
    });

    for (const stack of EDGE_STACKS) {
        it(`${stack}: the agent StatefulSets and WAL claims the message names are the ones the program creates`, async () => {
            const plan = await planStack(stack);
            const file = readStackFile(stack);
            const cfg = parseFlatConfig(stack, file.flat, (k) => file.secretKeys.includes(k));
            const sets = all(plan, "kubernetes:apps/v1:StatefulSet").map(manifest).filter((m) => m.spec.volumeClaimTemplates?.length);
            const named = sets.map((m) => `${m.metadata.namespace}/${m.metadata.name}/${m.spec.volumeClaimTemplates[0].metadata.name}`).sort();
            const expected = (cfg.edge!.tenants.length === 0 ? [undefined] : cfg.edge!.tenants.map((t) => t.name)).map((t) => `${cfg.edge!.namespace}/${agentStatefulSetName(t)}/wal`).sort();
            assert.deepStrictEqual(named, expected);
        });
    }
});
