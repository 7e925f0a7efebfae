import * as assert from "assert";
import { STACKS, all, k8sObjects, manifest, planStack } from "./helpers/plan";

/** What would make the scheduled `pulumi preview --refresh --expect-no-changes` report drift nobody caused. */
describe("no false drift", () => {
    for (const stack of STACKS) {
        it(`${stack}: no Job expires (a TTL-deleted Job reads as drift), no autoscaler owns a replica count the program sets`, async () => {
            const plan = await planStack(stack);
            const jobs = all(plan, "kubernetes:batch/v1:Job").map(manifest);
            for (const j of jobs) assert.strictEqual(j.spec.ttlSecondsAfterFinished, undefined, `${stack} Job ${j.metadata.name} has a TTL`);
            const kinds = k8sObjects(plan).map((r) => manifest(r).kind);
            assert.ok(!kinds.includes("HorizontalPodAutoscaler"), "an HPA would change replicas the program sets");
            // Node taints are not Pulumi's: the NodePatch sets labels only.
            for (const p of all(plan, "kubernetes:core/v1:NodePatch").map(manifest)) assert.strictEqual(p.spec?.taints, undefined, "NodePatch must not own spec.taints");
        });
    }
});
