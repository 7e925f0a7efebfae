import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { HARDENING_CHECKS, KubernetesObject, RBAC_FIELDS } from "../lib/policyRules";
import { EXEMPTIONS, chartComponent, exemptionsFor } from "../policy/exemptions";
import { POLICIES, isKubernetesObjectType } from "../policy/policies";
import { ROOT } from "../tools/plan";
import { STACKS, k8sObjects, manifest, planStack } from "./helpers/plan";
// The SDK's own wrapper of a resource's props (what validateResource receives): reading an unknown value throws.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { unknownCheckingProxy, UnknownValueError, unknownStringValue } = require("@pulumi/policy/proxy");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc");

const POLICY_DIR = path.join(ROOT, "policy");
const policy = (name: string) => POLICIES.find((p) => p.name === name)!;

/** A program object's URN, and the URN of the same object rendered by a component's helm.v4 Chart. */
const ownUrn = (type: string, name = "x", parent = "agent-receiver:logs:LogShipper") => `urn:pulumi:cluster-01::agent-receiver::${parent}$${type}::${name}`;
const chartUrn = (component: string, type: string, name = "x") => `urn:pulumi:cluster-01::agent-receiver::${component}$kubernetes:helm.sh/v4:Chart$${type}::${name}`;

/** Calls a policy's validateResource as the SDK's server does (props behind its unknown-checking proxy); returns what it reported. */
function validate(p: ResourceValidationPolicy, type: string, props: Record<string, unknown>, urn = ownUrn(type)): string[] {
    const reported: string[] = [];
    const args: ResourceValidationArgs = {
        type,
        props: unknownCheckingProxy(props),
        urn,
        name: urn.slice(urn.lastIndexOf("::") + 2),
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({}) as T,
        notApplicable: (reason?: string): never => {
            throw new Error(`not applicable: ${reason}`);
        },
    };
    const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource!];
    for (const v of validations) void v(args, (message: string) => reported.push(message));
    return reported;
}

const container = (over: Record<string, unknown> = {}) => ({
    name: "app",
    image: "example/app:1.0.0",
    securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
    ...over,
});
const workload = (kind: string, name: string, c = container(), podSc: Record<string, unknown> = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }): KubernetesObject => ({
    apiVersion: "apps/v1",
    kind,
    metadata: { name, namespace: "ns" },
    spec: { template: { spec: { securityContext: podSc, containers: [c] } } },
});
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const DAEMONSET = "kubernetes:apps/v1:DaemonSet";

describe("policy pack (policy/)", () => {
    it("four policies, each mandatory, named after the rule it runs", () => {
        assert.deepStrictEqual(POLICIES.map((p) => p.name), ["hardened-containers", "no-allow-all-egress", "no-wildcard-rbac", "no-plaintext-secret"]);
        for (const p of POLICIES) {
            assert.strictEqual(p.enforcementLevel, "mandatory", p.name);
            assert.ok(p.description.length > 20, p.name);
        }
        const index = fs.readFileSync(path.join(POLICY_DIR, "index.ts"), "utf8");
        assert.match(index, /new PolicyPack\("agent-receiver", \{ enforcementLevel: "mandatory", policies: \[\.\.\.POLICIES\] \}\)/);
    });

    it("judges every Kubernetes object type (custom resources and chart children too), not components, patches or other providers", () => {
        for (const t of [DEPLOYMENT, "kubernetes:core/v1:Secret", "kubernetes:cilium.io/v2:CiliumNetworkPolicy", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "kubernetes:batch/v1:CronJob"]) {
            assert.ok(isKubernetesObjectType(t), t);
        }
        for (const t of ["kubernetes:helm.sh/v4:Chart", "kubernetes:yaml/v2:ConfigGroup", "kubernetes:core/v1:NodePatch", "kubernetes:apps/v1:DeploymentPatch", "pulumi:providers:kubernetes", "random:index/randomPassword:RandomPassword"]) {
            assert.ok(!isKubernetesObjectType(t), t);
        }
        // A non-Kubernetes resource is not judged, whatever its props look like.
        assert.deepStrictEqual(validate(policy("no-plaintext-secret"), "minio:index/iamUser:IamUser", { kind: "ConfigMap", data: { k: "-----BEGIN PRIVATE KEY-----" } }), []);
    });

    describe("hardened-containers", () => {
        it("passes a hardened workload, and fails each weakness with its own message", () => {
            assert.deepStrictEqual(validate(policy("hardened-containers"), DEPLOYMENT, workload("Deployment", "app")), []);
            const weak = workload("Deployment", "app", container({ securityContext: { runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } }, resources: {} }));
            assert.deepStrictEqual(validate(policy("hardened-containers"), DEPLOYMENT, weak), [
                "Deployment ns/app container app: readOnlyRootFilesystem is not true",
                "Deployment ns/app container app: allowPrivilegeEscalation is not false",
                "Deployment ns/app container app: no CPU and memory requests",
                "Deployment ns/app container app: no memory limit",
            ]);
        });
        it("checks init containers and CronJobs' pods", () => {
            const cron: KubernetesObject = {
                kind: "CronJob",
                metadata: { name: "c", namespace: "ns" },
                spec: { jobTemplate: { spec: { template: { spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }, initContainers: [container({ name: "init", securityContext: { privileged: true } })], containers: [container()] } } } } },
            };
            assert.deepStrictEqual(validate(policy("hardened-containers"), "kubernetes:batch/v1:CronJob", cron), [
                "CronJob ns/c container init: readOnlyRootFilesystem is not true",
                "CronJob ns/c container init: allowPrivilegeEscalation is not false",
                "CronJob ns/c container init: privileged",
                "CronJob ns/c container init: capabilities.drop does not contain ALL",
            ]);
        });
    });

    describe("no-allow-all-egress", () => {
        const np = (egress: unknown[]) => ({ kind: "NetworkPolicy", metadata: { name: "np", namespace: "ns" }, spec: { podSelector: {}, egress } });
        const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
        const CNP = "kubernetes:cilium.io/v2:CiliumNetworkPolicy";
        it("passes named peers and ports-only rules; fails `to: []`, a bare rule and Cilium's world", () => {
            assert.deepStrictEqual(validate(policy("no-allow-all-egress"), NP, np([{ to: [{ podSelector: {} }], ports: [{ port: 443 }] }, { ports: [{ port: 53, protocol: "UDP" }] }])), []);
            assert.deepStrictEqual(validate(policy("no-allow-all-egress"), NP, np([{ to: [] }])), ["NetworkPolicy ns/np egress rule 1: allows all egress (no peers and no ports)"]);
            assert.deepStrictEqual(validate(policy("no-allow-all-egress"), NP, np([{}])).length, 1);
            const cnp = (egress: unknown[]) => ({ kind: "CiliumNetworkPolicy", metadata: { name: "c", namespace: "ns" }, spec: { endpointSelector: {}, egress } });
            assert.deepStrictEqual(validate(policy("no-allow-all-egress"), CNP, cnp([{ toEntities: ["kube-apiserver"] }])), []);
            assert.deepStrictEqual(validate(policy("no-allow-all-egress"), CNP, cnp([{ toEntities: ["world"] }, { toPorts: [{ ports: [{ port: "443" }] }] }])), [
                "CiliumNetworkPolicy ns/c egress rule 1: egress to the world entity",
                "CiliumNetworkPolicy ns/c egress rule 2: egress rule without peers (every destination)",
            ]);
        });
    });

    describe("no-wildcard-rbac", () => {
        const CR = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
        it("passes named rules; fails a wildcard in verbs, resources or apiGroups", () => {
            assert.deepStrictEqual(validate(policy("no-wildcard-rbac"), CR, { kind: "ClusterRole", metadata: { name: "r" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }] }), []);
            assert.deepStrictEqual(validate(policy("no-wildcard-rbac"), CR, { kind: "ClusterRole", metadata: { name: "r" }, rules: [{ apiGroups: ["*"], resources: ["pods"], verbs: ["*"] }] }), [
                'ClusterRole r rule 1: "*" in verbs',
                'ClusterRole r rule 1: "*" in apiGroups',
            ]);
        });
    });

    describe("no-plaintext-secret", () => {
        it("fails a literal credential env var and a private key in a ConfigMap; passes valueFrom and a Secret's own data", () => {
            const p = policy("no-plaintext-secret");
            assert.deepStrictEqual(validate(p, DEPLOYMENT, workload("Deployment", "app", container({ env: [{ name: "OPENSEARCH_PASSWORD", valueFrom: { secretKeyRef: { name: "s", key: "p" } } }] }))), []);
            assert.deepStrictEqual(validate(p, DEPLOYMENT, workload("Deployment", "app", container({ env: [{ name: "OPENSEARCH_PASSWORD", value: "hunter2" }] }))), [
                "Deployment ns/app container app: env OPENSEARCH_PASSWORD is a literal value (use valueFrom.secretKeyRef)",
            ]);
            assert.deepStrictEqual(validate(p, "kubernetes:core/v1:ConfigMap", { kind: "ConfigMap", metadata: { name: "c", namespace: "ns" }, data: { "tls.key": "-----BEGIN EC PRIVATE KEY-----\n…" } }), [
                "ConfigMap ns/c: a private key in plaintext at data.tls.key",
            ]);
            assert.deepStrictEqual(validate(p, "kubernetes:core/v1:Secret", { kind: "Secret", metadata: { name: "s", namespace: "ns" }, stringData: { "tls.key": "-----BEGIN PRIVATE KEY-----" } }), []);
        });
        it("cannot tell whether a Secret's data is a Pulumi secret: the SDK removes secretness before validateResource (the offline tests check it)", () => {
            // The same Secret passes whether or not the program marked its data secret: the policy is handed plain values.
            assert.deepStrictEqual(validate(policy("no-plaintext-secret"), "kubernetes:core/v1:Secret", { kind: "Secret", metadata: { name: "s" }, stringData: { password: "plain" } }), []);
        });
    });

    describe("exemptions (chart-rendered objects that may break a rule)", () => {
        const FLUENT_BIT = "agent-receiver:logs:LogShipper";
        const root = container({ securityContext: { ...container().securityContext, runAsNonRoot: false, runAsUser: 0 } });
        const fluentBit = workload("DaemonSet", "fluent-bit", root, { seccompProfile: { type: "RuntimeDefault" } });

        it("waive only the named checks of the named object rendered by the named component's chart", () => {
            const p = policy("hardened-containers");
            assert.strictEqual(chartComponent(chartUrn(FLUENT_BIT, DAEMONSET)), FLUENT_BIT);
            assert.strictEqual(chartComponent(ownUrn(DAEMONSET)), undefined);
            assert.deepStrictEqual(validate(p, DAEMONSET, fluentBit, chartUrn(FLUENT_BIT, DAEMONSET)), []);
            // The same object declared by the program itself, or rendered by another component's chart, is not exempt.
            const rootMessage = ["DaemonSet ns/fluent-bit container app: runAsNonRoot is not true (in the container or the pod)"];
            assert.deepStrictEqual(validate(p, DAEMONSET, fluentBit, ownUrn(DAEMONSET)), rootMessage);
            assert.deepStrictEqual(validate(p, DAEMONSET, fluentBit, chartUrn("agent-receiver:edge:NodeExporter", DAEMONSET)), rootMessage);
            // Another name, or the same name with another kind, is not exempt.
            assert.deepStrictEqual(validate(p, DAEMONSET, { ...fluentBit, metadata: { name: "fluent-bit-2", namespace: "ns" } }, chartUrn(FLUENT_BIT, DAEMONSET)).length, 1);
            assert.deepStrictEqual(validate(p, DEPLOYMENT, { ...fluentBit, kind: "Deployment" }, chartUrn(FLUENT_BIT, DEPLOYMENT)).length, 1);
            // Fluent Bit runs as root, nothing more: a writable root filesystem still fails.
            const writable = workload("DaemonSet", "fluent-bit", container({ securityContext: { ...root.securityContext, readOnlyRootFilesystem: false } }), { seccompProfile: { type: "RuntimeDefault" } });
            assert.deepStrictEqual(validate(p, DAEMONSET, writable, chartUrn(FLUENT_BIT, DAEMONSET)), ["DaemonSet ns/fluent-bit container app: readOnlyRootFilesystem is not true"]);
        });

        it("the Prometheus Operator's ClusterRole may use verbs *, never resources or API groups *", () => {
            const CR = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
            const operator = (rules: unknown[]) => ({ kind: "ClusterRole", metadata: { name: "kps-operator" }, rules });
            const urn = chartUrn("agent-receiver:monitoring:CentralMonitoring", CR);
            assert.deepStrictEqual(validate(policy("no-wildcard-rbac"), CR, operator([{ apiGroups: [""], resources: ["configmaps", "secrets"], verbs: ["*"] }]), urn), []);
            assert.deepStrictEqual(validate(policy("no-wildcard-rbac"), CR, operator([{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]), urn), ['ClusterRole kps-operator rule 1: "*" in resources', 'ClusterRole kps-operator rule 1: "*" in apiGroups']);
            assert.deepStrictEqual(validate(policy("no-wildcard-rbac"), CR, operator([{ apiGroups: [""], resources: ["secrets"], verbs: ["*"] }])).length, 1, "not when the program declares it");
        });

        it("every exemption names a component that renders a helm.v4 Chart in some stack, a real check, and a reason", async () => {
            const chartParents = new Set<string>();
            for (const stack of STACKS) {
                for (const r of (await planStack(stack)).resources.filter((x) => x.type === "kubernetes:helm.sh/v4:Chart")) chartParents.add(r.urn.split("::")[2].split("$").slice(-2)[0]);
            }
            for (const e of EXEMPTIONS) {
                assert.ok(chartParents.has(e.component), `${e.component} renders no chart`);
                for (const c of e.waives.hardenedContainers ?? []) assert.ok(HARDENING_CHECKS.includes(c), c);
                for (const f of e.waives.wildcardRbac ?? []) assert.ok(RBAC_FIELDS.includes(f), f);
                assert.ok(e.reason.length > 20 && e.what);
                assert.ok(exemptionsFor(chartUrn(e.component, "kubernetes:x/v1:" + e.kind), { kind: e.kind, metadata: { name: e.name } }).includes(e));
            }
        });

        it("the README lists every exemption: the object, what it waives, exception or gap", () => {
            const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n");
            for (const e of EXEMPTIONS) {
                const waived = [...(e.waives.hardenedContainers ?? []), ...(e.waives.wildcardRbac ?? []).map((f) => `${f} *`)];
                const row = readme.find((l) => l.startsWith("|") && l.includes(`\`${e.kind} ${e.name}\``) && waived.every((w) => l.includes(`\`${w}\``)));
                assert.ok(row, `README: no row for ${e.kind} ${e.name} waiving ${waived.join(", ")}`);
                assert.ok(row.includes(e.category), `README row of ${e.kind} ${e.name}: ${e.category}`);
            }
        });
    });

    for (const stack of STACKS) {
        it(`${stack}: every object the program declares passes every policy (as a preview would hand it over)`, async () => {
            for (const r of k8sObjects(await planStack(stack))) {
                if (!isKubernetesObjectType(r.type)) continue;
                for (const p of POLICIES) assert.deepStrictEqual(validate(p, r.type, manifest(r), r.urn), [], `${p.name} on ${r.urn}`);
            }
        });
    }

    it("during a preview, a value not yet known stops only the rule that reads it (the SDK reports that as advisory; pulumi up checks the known value)", () => {
        const d = workload("Deployment", "app", container({ image: unknownStringValue }));
        (d.metadata as any).annotations = { checksum: unknownStringValue };
        assert.deepStrictEqual(validate(policy("hardened-containers"), DEPLOYMENT, d), []);
        assert.throws(() => validate(policy("no-plaintext-secret"), DEPLOYMENT, d), UnknownValueError);
    });

    describe("the pack as the Pulumi CLI starts it (no CLI here: its analyzer's own steps)", function () {
        this.timeout(180_000);
        let child: ChildProcess | undefined;
        let client: any;
        after(() => {
            client?.close();
            if (child?.pid) process.kill(child.pid);
        });

        it("the pack's own TypeScript setup compiles it, ../lib/policyRules.ts included", () => {
            const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
            execFileSync(process.execPath, [tsc, "-p", path.join(POLICY_DIR, "tsconfig.json"), "--noEmit"], { stdio: "pipe" });
            const pkg = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8"));
            const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
            assert.match(pkg.version, /^\d+\.\d+\.\d+$/, "the SDK reads the pack's version from its package.json");
            assert.strictEqual(pkg.dependencies["@pulumi/policy"], rootPkg.devDependencies["@pulumi/policy"], "one @pulumi/policy version (the tests use the root's)");
            assert.strictEqual(pkg.dependencies["@pulumi/pulumi"], rootPkg.dependencies["@pulumi/pulumi"]);
            for (const v of [...Object.values(pkg.dependencies), ...Object.values(pkg.devDependencies)] as string[]) assert.match(v, /^\d+\.\d+\.\d+$/, "pinned");
            assert.match(fs.readFileSync(path.join(POLICY_DIR, "PulumiPolicy.yaml"), "utf8"), /^runtime: nodejs$/m);
        });

        it("starts it as pulumi-analyzer-policy does (run-policy-pack resolved from policy/, ts-node, the port on stdout) and answers over gRPC", async () => {
            // pulumi-analyzer-policy: node "$(require.resolve('@pulumi/pulumi/cmd/run-policy-pack'))" <engine> . in the pack's folder.
            const run = execFileSync(process.execPath, ["-e", "console.log(require.resolve('@pulumi/pulumi/cmd/run-policy-pack'))"], { cwd: POLICY_DIR }).toString().trim();
            child = spawn(process.execPath, [run, "127.0.0.1:1", "."], { cwd: POLICY_DIR, stdio: ["ignore", "pipe", "pipe"] });
            let stderr = "";
            child.stderr!.on("data", (d) => (stderr += d));
            const port = await new Promise<number>((resolve, reject) => {
                child!.stdout!.on("data", (d) => {
                    const m = /^(\d+)\s*$/m.exec(String(d));
                    if (m) resolve(Number(m[1]));
                });
                child!.on("exit", (code) => reject(new Error(`the pack exited (${code}): ${stderr}`)));
            });
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const grpc = require("@grpc/grpc-js");
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { AnalyzerClient } = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const pb = require("@pulumi/pulumi/proto/analyzer_pb");
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
            client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
            const call = <T>(method: string, req: unknown) => new Promise<T>((resolve, reject) => client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));

            const info: any = await call("getAnalyzerInfo", new Empty());
            assert.strictEqual(info.getName(), "agent-receiver");
            assert.deepStrictEqual(
                info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()]),
                POLICIES.map((p) => [p.name, pb.EnforcementLevel.MANDATORY]),
            );

            const analyze = async (type: string, props: Record<string, unknown>, urn = ownUrn(type)) => {
                const req = new pb.AnalyzeRequest();
                req.setType(type);
                req.setUrn(urn);
                req.setName("x");
                req.setProperties(Struct.fromJavaScript(props));
                req.setOptions(new pb.AnalyzerResourceOptions());
                const res: any = await call("analyze", req);
                // The CLI prints a diagnostic's message, which the SDK prefixes with the policy's description.
                return res.getDiagnosticsList().map((d: any) => {
                    const p = POLICIES.find((x) => x.name === d.getPolicyname())!;
                    assert.ok(d.getMessage().startsWith(`${p.description}\n`), d.getMessage());
                    return [d.getPolicyname(), d.getEnforcementlevel(), d.getMessage().slice(p.description.length + 1)];
                });
            };
            const weak = workload("Deployment", "app", container({ securityContext: { ...container().securityContext, readOnlyRootFilesystem: false } }));
            assert.deepStrictEqual(await analyze(DEPLOYMENT, weak as Record<string, unknown>), [["hardened-containers", pb.EnforcementLevel.MANDATORY, "Deployment ns/app container app: readOnlyRootFilesystem is not true"]]);
            assert.deepStrictEqual(await analyze(DEPLOYMENT, workload("Deployment", "app") as Record<string, unknown>), []);
            // Exempt when Fluent Bit's chart renders it, over the wire too.
            const fluentBit = workload("DaemonSet", "fluent-bit", container({ securityContext: { ...container().securityContext, runAsNonRoot: false } }), { seccompProfile: { type: "RuntimeDefault" } });
            assert.deepStrictEqual(await analyze(DAEMONSET, fluentBit as Record<string, unknown>, chartUrn("agent-receiver:logs:LogShipper", DAEMONSET)), []);
            assert.strictEqual((await analyze(DAEMONSET, fluentBit as Record<string, unknown>)).length, 1);
            // Secretness on the wire (the engine's secret signature) reaches the policy unwrapped: a private key marked
            // secret in a ConfigMap is still found, and a Secret reads the same whether its data was marked or not.
            const secret = (value: unknown) => ({ [rpc.specialSigKey]: rpc.specialSecretSig, value });
            const cm = { kind: "ConfigMap", metadata: { name: "c", namespace: "ns" }, data: secret({ "tls.key": "-----BEGIN PRIVATE KEY-----" }) };
            assert.deepStrictEqual(await analyze("kubernetes:core/v1:ConfigMap", cm), [["no-plaintext-secret", pb.EnforcementLevel.MANDATORY, "ConfigMap ns/c: a private key in plaintext at data.tls.key"]]);
            for (const stringData of [{ password: "plain" }, secret({ password: "marked" })]) {
                assert.deepStrictEqual(await analyze("kubernetes:core/v1:Secret", { kind: "Secret", metadata: { name: "s" }, stringData }), []);
            }
        });
    });
});
