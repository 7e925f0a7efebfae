/**
 * The tenant placement policy (cluster-02): the exact CEL the plan renders into each ValidatingAdmissionPolicy,
 * evaluated with @bufbuild/cel against pods it must admit and pods it must refuse. The pods are JSON as the API
 * server holds them after defaulting (absent fields absent, as `omitempty` leaves them).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { isCelError, run } from "@bufbuild/cel";
import { tenantPlacementValidations } from "../lib/tenancy";
import { Plan, ROOT } from "../tools/plan";
import { all, manifest, planEdgeWith, planStack } from "./helpers/plan";

const LABEL = "node-restriction.kubernetes.io/tenant";
const A_NODES = ["cluster-02-worker-1", "cluster-02-worker-2"];


type Validation = { expression: string; message: string };

/** The policy of `tenant` as the plan declares it. */
function policyOf(plan: Plan, tenant: string): any {
    const found = all(plan, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy").map(manifest).filter((m) => m.metadata.name === `tenant-placement-${tenant}`);
    assert.strictEqual(found.length, 1, `one policy tenant-placement-${tenant}`);
    return found[0];
}

/** Which validations refuse the request (by index); throws if any expression errors or yields a non-boolean. */
function refusedBy(validations: Validation[], pod: any, opts: { operation?: "CREATE" | "UPDATE"; old?: any } = {}): number[] {
    const operation = opts.operation ?? "CREATE";
    const bindings = { object: pod, oldObject: operation === "UPDATE" ? opts.old : null, request: { operation } };
    return validations.flatMap((v, i) => {
        const result = run(v.expression, bindings);
        assert.strictEqual(typeof result, "boolean", `validation ${i} did not yield a boolean (${String(result)}): ${v.expression}`);
        return result ? [] : [i];
    });
}

const [SELECTOR, TAINT_TOLERATION, WILDCARD, NODE_NAME] = [0, 1, 2, 3];

/** A pod of tenant A, as its controller would create it. */
function pod(spec: Record<string, unknown> = {}): any {
    // Through JSON, as the API server holds it: a field set to undefined here is absent.
    return json({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "app-1", namespace: "tenant-a", labels: { app: "app" } },
        spec: {
            containers: [{ name: "app", image: "registry.example.internal/app:1" }],
            nodeSelector: { [LABEL]: "a" },
            tolerations: [
                { key: "tenant", operator: "Equal", value: "a", effect: "NoSchedule" },
                // Added to every pod by the DefaultTolerationSeconds admission plugin.
                { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
                { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
            ],
            ...spec,
        },
    });
}
const json = (x: unknown): any => JSON.parse(JSON.stringify(x));
const ownToleration = { key: "tenant", operator: "Equal", value: "a", effect: "NoSchedule" };

describe("tenant placement admission (ValidatingAdmissionPolicy, CEL run with @bufbuild/cel)", () => {
    it("the evaluator runs the policy's CEL and can refuse (so the cases below can fail)", () => {
        const v = tenantPlacementValidations({ tenant: "a", nodes: A_NODES, legacyNodeLabel: false, taintEffect: "NoSchedule" });
        assert.deepStrictEqual(refusedBy(v, pod()), []);
        assert.deepStrictEqual(refusedBy(v, pod({ nodeSelector: { [LABEL]: "b" } })), [SELECTOR]);
        // Kubernetes' optional syntax is outside the subset this evaluator parses (the policy does not use it).
        assert.ok(isCelError(run("object.spec.?nodeSelector", { object: pod() })));
    });

    it("one policy per tenant and one Deny binding per tenant namespace, by the namespace name the API server sets", async () => {
        const plan = await planStack("cluster-02");
        const bindings = all(plan, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding").map(manifest);
        assert.deepStrictEqual(
            bindings.map((b) => [b.spec.policyName, b.spec.validationActions, b.spec.matchResources.namespaceSelector.matchLabels]).sort(),
            [
                ["tenant-placement-a", ["Deny"], { "kubernetes.io/metadata.name": "tenant-a" }],
                ["tenant-placement-b", ["Deny"], { "kubernetes.io/metadata.name": "tenant-b" }],
            ],
        );
        for (const t of ["a", "b"]) {
            const p = policyOf(plan, t);
            assert.strictEqual(p.apiVersion, "admissionregistration.k8s.io/v1");
            assert.strictEqual(p.spec.failurePolicy, "Fail");
            assert.deepStrictEqual(p.spec.matchConstraints.resourceRules, [{ apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], operations: ["CREATE", "UPDATE"] }]);
            assert.ok(p.spec.validations.every((v: any) => v.message.length > 0 && !v.message.includes("\n")));
        }
    });

    for (const phase of ["after the label migration", "during the label migration (cluster-02 today)"] as const) {
        const migrating = phase !== "after the label migration";
        describe(phase, () => {
            let v: Validation[];
            before(async () => {
                const plan = migrating ? await planStack("cluster-02") : await planEdgeWith("cluster-02", (e) => delete e.legacyTenantNodeLabel);
                v = policyOf(plan, "a").spec.validations;
                assert.strictEqual(v.length, 4);
            });

            it("admits tenant A's own pods: its selector (other keys too), its toleration, the default tolerations, affinity within, its own node", () => {
                assert.deepStrictEqual(refusedBy(v, pod()), []);
                assert.deepStrictEqual(refusedBy(v, pod({ nodeSelector: { [LABEL]: "a", disktype: "ssd" } })), []);
                assert.deepStrictEqual(refusedBy(v, pod({ tolerations: undefined })), [], "no tolerations at all");
                const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["cluster-02-worker-2"] }] }] } } };
                assert.deepStrictEqual(refusedBy(v, pod({ affinity })), []);
                assert.deepStrictEqual(refusedBy(v, pod({ nodeName: "cluster-02-worker-1" })), []);
                assert.deepStrictEqual(refusedBy(v, pod({ tolerations: [{ key: "tenant", value: "a", effect: "NoExecute" }] })), [], "operator absent means Equal");
            });

            it("refuses the issue's case: a tenant-A pod that tolerates `tenant` (Exists) and selects tenant B", () => {
                const attack = pod({ nodeSelector: { [LABEL]: "b" }, tolerations: [{ key: "tenant", operator: "Exists" }] });
                assert.deepStrictEqual(refusedBy(v, attack), [SELECTOR, TAINT_TOLERATION]);
                const legacyAttack = pod({ nodeSelector: { tenant: "b" }, tolerations: [{ key: "tenant", operator: "Exists" }] });
                assert.deepStrictEqual(refusedBy(v, legacyAttack), [SELECTOR, TAINT_TOLERATION]);
            });

            it("refuses a foreign or missing selector", () => {
                assert.deepStrictEqual(refusedBy(v, pod({ nodeSelector: { [LABEL]: "b" } })), [SELECTOR], "foreign");
                assert.deepStrictEqual(refusedBy(v, pod({ nodeSelector: { [LABEL]: "a", tenant: "b" } })), migrating ? [SELECTOR] : [], "a foreign legacy label selects nothing once no node has it");
                assert.deepStrictEqual(refusedBy(v, pod({ nodeSelector: undefined })), [SELECTOR], "no nodeSelector");
                assert.deepStrictEqual(refusedBy(v, pod({ nodeSelector: { disktype: "ssd" } })), [SELECTOR], "no tenant label");
                assert.deepStrictEqual(refusedBy(v, pod({ nodeSelector: { [LABEL]: "" } })), [SELECTOR], "empty value");
            });

            it(migrating ? "accepts the legacy selector tenant: a while migrating" : "no longer accepts the legacy selector tenant: a", () => {
                assert.deepStrictEqual(refusedBy(v, pod({ nodeSelector: { tenant: "a" } })), migrating ? [] : [SELECTOR]);
            });

            it("refuses a foreign toleration of the tenant taint, operator Exists on it, and wildcard tolerations", () => {
                assert.deepStrictEqual(refusedBy(v, pod({ tolerations: [ownToleration, { key: "tenant", operator: "Equal", value: "b", effect: "NoSchedule" }] })), [TAINT_TOLERATION], "foreign");
                assert.deepStrictEqual(refusedBy(v, pod({ tolerations: [{ key: "tenant", operator: "Exists", effect: "NoSchedule" }] })), [TAINT_TOLERATION], "Exists on the tenant key");
                assert.deepStrictEqual(refusedBy(v, pod({ tolerations: [{ key: "tenant", operator: "Equal", effect: "NoSchedule" }] })), [TAINT_TOLERATION], "Equal without a value");
                assert.deepStrictEqual(refusedBy(v, pod({ tolerations: [ownToleration, { operator: "Exists" }] })), [WILDCARD], "wildcard");
                assert.deepStrictEqual(refusedBy(v, pod({ tolerations: [{ key: "", operator: "Exists", effect: "NoSchedule" }] })), [WILDCARD], "empty key");
            });

            it("refuses a foreign spec.nodeName (it skips the scheduler)", () => {
                assert.deepStrictEqual(refusedBy(v, pod({ nodeName: "cluster-02-worker-3" })), [NODE_NAME]);
                assert.deepStrictEqual(refusedBy(v, pod({ nodeName: "cluster-02-control-plane" })), [NODE_NAME]);
            });

            it("on UPDATE, refuses only what the update adds (pods created before the policy keep working)", () => {
                // A pod from before the policy: no selector, a wildcard toleration, bound to a node by the scheduler.
                const old = pod({ nodeSelector: undefined, tolerations: [{ operator: "Exists" }], nodeName: "cluster-02-worker-3" });
                const relabelled = { ...old, metadata: { ...old.metadata, labels: { app: "app", release: "2" } } };
                assert.deepStrictEqual(refusedBy(v, relabelled, { operation: "UPDATE", old }), [], "a controller's update of an old pod");
                const added = { ...old, spec: { ...old.spec, tolerations: [...old.spec.tolerations, { key: "tenant", operator: "Exists" }] } };
                assert.deepStrictEqual(refusedBy(v, added, { operation: "UPDATE", old }), [TAINT_TOLERATION], "a toleration added by the update");
                const gated = { ...old, spec: { ...old.spec, nodeSelector: { [LABEL]: "b" } } };
                assert.deepStrictEqual(refusedBy(v, gated, { operation: "UPDATE", old }), [SELECTOR], "a foreign selector added to a gated pod");
            });

            it("messages tell the tenant team what to write", () => {
                assert.match(v[SELECTOR].message, /set spec\.nodeSelector \{node-restriction\.kubernetes\.io\/tenant: a\}/);
                assert.match(v[TAINT_TOLERATION].message, /\{key: tenant, operator: Equal, value: a, effect: NoSchedule\}/);
                assert.match(v[WILDCARD].message, /name the taint's key/);
                assert.match(v[NODE_NAME].message, /leave it unset .* cluster-02-worker-1, cluster-02-worker-2\./);
            });
        });
    }

    it("tenant B's policy is tenant A's mirrored: A's selector, toleration and nodes are foreign to it", async () => {
        const v = policyOf(await planStack("cluster-02"), "b").spec.validations;
        assert.deepStrictEqual(refusedBy(v, pod()), [SELECTOR, TAINT_TOLERATION]);
        assert.deepStrictEqual(refusedBy(v, pod({ nodeSelector: { [LABEL]: "b" }, tolerations: [{ ...ownToleration, value: "b" }], nodeName: "cluster-02-worker-4" })), []);
        assert.deepStrictEqual(refusedBy(v, pod({ nodeSelector: { [LABEL]: "b" }, tolerations: [{ ...ownToleration, value: "b" }], nodeName: "cluster-02-worker-1" })), [NODE_NAME]);
    });

    it("the README states the minimum Kubernetes version the policy needs (admissionregistration.k8s.io/v1, GA in 1.30)", () => {
        assert.match(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"), /Kubernetes ≥ 1\.30/);
    });
});
