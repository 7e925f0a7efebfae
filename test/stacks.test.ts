import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { SECRET_MARKER, mapSecrets } from "../tools/offline";
import { ROOT, isHelmChart, writePlan } from "../tools/plan";
import { stackConfig, stackNames } from "../tools/stacks";
import { allowAllEgressViolations, hardenedContainerViolations, plaintextSecretViolations, podSpecOf, wildcardRbacViolations } from "../lib/policyRules";
import { STACKS, isSecret, k8sObjects, manifest, planStack, tmpDir } from "./helpers/plan";

// kubernetes-models is ESM-only; a real dynamic import (TypeScript would turn `import()` into `require`).
const importEsm = new Function("m", "return import(m)") as (m: string) => Promise<any>;

/** The kubernetes-models class for an apiVersion/kind (validates against the Kubernetes OpenAPI schema). */
async function modelFor(apiVersion: string, kind: string): Promise<any> {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    // Custom resources the program declares are validated against their projects' published schemas.
    const crdPackages: Record<string, string> = {
        "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
        "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
        "cilium.io": "@kubernetes-models/cilium",
    };
    const pkg = crdPackages[group] ?? "kubernetes-models";
    const mod = group === "" ? `kubernetes-models/${version}` : `${pkg}/${group}/${version}`;
    const Model = (await importEsm(mod))[kind];
    if (!Model) throw new Error(`no schema for ${apiVersion} ${kind}`);
    return Model;
}

const PATCH_KINDS = new Set(["kubernetes:core/v1:NodePatch"]);

describe("every stack", () => {
    it("the schema validator rejects a malformed object (so the checks below can fail)", async () => {
        const StatefulSet = await modelFor("apps/v1", "StatefulSet");
        const bad = { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "x" }, spec: { replicas: "3", selector: {}, template: {} } };
        assert.throws(() => new StatefulSet(bad).validate());
    });

    for (const stack of STACKS) {
        describe(stack, () => {
            it("plans, with unique URNs", async () => {
                const plan = await planStack(stack);
                assert.ok(plan.resources.length > 10);
                const urns = plan.resources.map((r) => r.urn);
                const dup = urns.filter((u, i) => urns.indexOf(u) !== i);
                assert.deepStrictEqual(dup, [], "duplicate URNs");
            });

            it("declares only Kubernetes objects valid against the OpenAPI schema", async () => {
                const plan = await planStack(stack);
                const objects = k8sObjects(plan);
                assert.ok(objects.length > 5);
                for (const r of objects) {
                    const m = manifest(r);
                    if (PATCH_KINDS.has(r.type)) {
                        // A patch names an existing object: only its identity and the patched fields.
                        assert.ok(m.metadata.name, `${r.name}: patch without a name`);
                        continue;
                    }
                    const Model = await modelFor(m.apiVersion, m.kind);
                    try {
                        new Model(m).validate();
                    } catch (e) {
                        assert.fail(`${stack} ${m.kind} ${m.metadata?.name}: ${(e as Error).message}`);
                    }
                }
            });

            it("hardens every container it declares (non-root, read-only root fs, no escalation, no capabilities, RuntimeDefault, requests and a memory limit)", async () => {
                const objects = k8sObjects(await planStack(stack)).map(manifest);
                assert.ok(objects.some((m) => podSpecOf(m)), "the stack declares workloads");
                assert.deepStrictEqual(objects.flatMap((m) => hardenedContainerViolations(m)), []);
            });

            it("gives every namespace it owns a default-deny policy and Pod Security labels", async () => {
                const objects = k8sObjects(await planStack(stack)).map(manifest);
                const namespaces = objects.filter((m) => m.kind === "Namespace");
                assert.ok(namespaces.length > 0);
                for (const ns of namespaces) {
                    const name = ns.metadata.name;
                    assert.ok(ns.metadata.labels["pod-security.kubernetes.io/enforce"], `${name}: no PSA label`);
                    const deny = objects.find(
                        (m) => m.kind === "NetworkPolicy" && m.metadata.namespace === name && JSON.stringify(m.spec) === JSON.stringify({ podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
                    );
                    assert.ok(deny, `${name}: no default-deny NetworkPolicy`);
                }
            });

            it("has no policy that allows all egress (a rule without peers must at least name ports; Cilium rules name peers, never the world)", async () => {
                const objects = k8sObjects(await planStack(stack)).map(manifest);
                assert.ok(objects.some((m) => m.kind === "NetworkPolicy"));
                assert.deepStrictEqual(objects.flatMap((m) => allowAllEgressViolations(m)), []);
            });

            it("uses no wildcard verb, resource or API group in its own RBAC", async () => {
                assert.deepStrictEqual(k8sObjects(await planStack(stack)).map(manifest).flatMap((m) => wildcardRbacViolations(m)), []);
            });

            it("keeps secret material out of plaintext: every Secret's data is a Pulumi secret; no credential env literal, no private key outside a Secret", async () => {
                const objects = k8sObjects(await planStack(stack));
                assert.ok(objects.some((r) => manifest(r).kind === "Secret"));
                // Secretness as the program registered it: the field (or the whole object) is a marked secret.
                const probe = (inputs: any) => (path: readonly string[]) => {
                    let v: any = inputs;
                    for (const key of path) {
                        if (isSecret(v)) return true;
                        v = v?.[key];
                    }
                    return isSecret(v);
                };
                assert.deepStrictEqual(objects.flatMap((r) => plaintextSecretViolations(manifest(r), probe(r.inputs))), []);
            });

            it("never lets a generated secret reach a non-secret output or the rendered plan", async () => {
                const plan = await planStack(stack);
                const outputs = JSON.stringify(mapSecrets(plan.outputs, false));
                assert.ok(!outputs.includes(SECRET_MARKER), "a secret reached a plain stack output");
                const dir = tmpDir(`plan-${stack}-`);
                const files = writePlan(plan, dir);
                assert.ok(files.includes("resources.txt") && files.includes("outputs.json"));
                for (const f of files) {
                    const text = fs.readFileSync(path.join(dir, f), "utf8");
                    assert.ok(!text.includes(SECRET_MARKER), `${f} contains a secret value`);
                    assert.ok(!text.includes("PLACEHOLDER-set-with-pulumi-config-set-secret"), `${f} contains an operator secret`);
                }
                fs.rmSync(dir, { recursive: true, force: true });
            });

            it("uses pinned helm.v4 charts (objects managed one by one, visible to drift detection)", async () => {
                for (const r of (await planStack(stack)).resources.filter(isHelmChart)) {
                    assert.strictEqual(r.type, "kubernetes:helm.sh/v4:Chart");
                    assert.match(String((r.inputs as any).version), /^\d+\.\d+\.\d+$/);
                }
            });
        });
    }

    it("cluster-01 exports what the edges need, with the credentials secret", async () => {
        const plan = await planStack("cluster-01");
        assert.strictEqual(plan.outputs.receiveRemoteWriteUrl, "https://receive.cluster-01.example.internal/api/v1/receive");
        assert.match(String(plan.outputs.receiveCaCertPem), /BEGIN CERTIFICATE/);
        // Exactly the writers cluster-01's file lists (a tenant of a shared cluster writes as <cluster>-<tenant>).
        const listed = (stackConfig("cluster-01").central?.writers ?? []).flatMap((w) => (w.tenants.length === 0 ? [w.cluster] : w.tenants.map((t) => `${w.cluster}-${t}`)));
        assert.ok(listed.includes("cluster-02-a") && listed.length >= 5, listed.join());
        assert.deepStrictEqual(plan.outputs.writers, listed);
        assert.strictEqual(JSON.stringify((mapSecrets(plan.outputs, false) as Record<string, unknown>).writerCredentials), '"[secret]"');
    });

    it("the stack list is the Pulumi.<stack>.yaml files: a new stack file is planned by every test without touching one", () => {
        const dir = tmpDir("stacks-");
        for (const f of ["Pulumi.yaml", "Pulumi.cluster-01.yaml", "Pulumi.cluster-05.yaml", "Pulumi.cluster-05.yaml.bak", "package.json"]) fs.writeFileSync(path.join(dir, f), "");
        assert.deepStrictEqual(stackNames(dir), ["cluster-01", "cluster-05"]);
        assert.deepStrictEqual([...STACKS], fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => f.slice("Pulumi.".length, -".yaml".length)).sort());
    });
});
