import * as assert from "assert";
import {
    HardeningCheck,
    KubernetesObject,
    allowAllEgressViolations,
    hardenedContainerViolations,
    plaintextSecretViolations,
    podSpecOf,
    wildcardRbacViolations,
} from "../lib/policyRules";

/** A container that passes every hardening check. */
const goodContainer = (name = "app") => ({
    name,
    image: "example/app:1.0.0",
    securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
});
const goodPod = (containers = [goodContainer()], initContainers: any[] = []) => ({
    securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
    initContainers,
    containers,
});
const deployment = (pod: any): KubernetesObject => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "app", namespace: "ns" }, spec: { template: { spec: pod } } });
/** A copy of `o` with `f` applied to its first container's securityContext/resources. */
const withContainer = (f: (c: any) => void, init = false): KubernetesObject => {
    const c = goodContainer(init ? "init" : "app");
    f(c);
    return deployment(init ? goodPod([goodContainer()], [c]) : goodPod([c]));
};

describe("policy rules (lib/policyRules.ts)", () => {
    describe("hardened containers", () => {
        it("passes a hardened workload of every kind that carries a pod", () => {
            const pod = goodPod();
            const objects: KubernetesObject[] = [
                { kind: "Pod", metadata: { name: "p" }, spec: pod },
                deployment(pod),
                { kind: "StatefulSet", metadata: { name: "s" }, spec: { template: { spec: pod } } },
                { kind: "DaemonSet", metadata: { name: "d" }, spec: { template: { spec: pod } } },
                { kind: "Job", metadata: { name: "j" }, spec: { template: { spec: pod } } },
                { kind: "CronJob", metadata: { name: "c" }, spec: { jobTemplate: { spec: { template: { spec: pod } } } } },
            ];
            for (const o of objects) {
                assert.ok(podSpecOf(o), o.kind);
                assert.deepStrictEqual(hardenedContainerViolations(o), [], o.kind);
            }
            assert.deepStrictEqual(hardenedContainerViolations({ kind: "ConfigMap", metadata: { name: "x" }, data: {} }), []);
        });

        const cases: [string, (c: any) => void, RegExp, HardeningCheck][] = [
            ["writable root filesystem", (c) => (c.securityContext.readOnlyRootFilesystem = false), /container app: readOnlyRootFilesystem is not true/, "readOnlyRootFilesystem"],
            ["escalation allowed (unset)", (c) => delete c.securityContext.allowPrivilegeEscalation, /allowPrivilegeEscalation is not false/, "allowPrivilegeEscalation"],
            ["privileged", (c) => (c.securityContext.privileged = true), /: privileged$/, "privileged"],
            ["capabilities kept", (c) => (c.securityContext.capabilities = { drop: ["NET_RAW"] }), /capabilities\.drop does not contain ALL/, "capabilities"],
            ["capability added", (c) => (c.securityContext.capabilities.add = ["NET_ADMIN"]), /adds capabilities NET_ADMIN/, "capabilities"],
            ["root in the container", (c) => (c.securityContext.runAsNonRoot = false), /runAsNonRoot is not true/, "runAsNonRoot"],
            ["uid 0", (c) => (c.securityContext.runAsUser = 0), /runAsUser is 0/, "runAsNonRoot"],
            ["seccomp unconfined in the container", (c) => (c.securityContext.seccompProfile = { type: "Unconfined" }), /seccomp profile is Unconfined/, "seccompProfile"],
            ["no requests", (c) => delete c.resources.requests, /no CPU and memory requests/, "resources"],
            ["no memory limit", (c) => (c.resources.limits = { cpu: "1" }), /no memory limit/, "resources"],
        ];
        for (const [what, mutate, message, check] of cases) {
            it(`fails on ${what} (in a container and in an init container), and passes when ${check} is waived`, () => {
                for (const init of [false, true]) {
                    const o = withContainer(mutate, init);
                    const v = hardenedContainerViolations(o);
                    assert.strictEqual(v.length, 1, v.join("\n"));
                    assert.match(v[0], init ? new RegExp(message.source.replace("container app", "container init")) : message);
                    assert.match(v[0], /^Deployment ns\/app container /);
                    assert.deepStrictEqual(hardenedContainerViolations(o, [check]), []);
                }
            });
        }

        it("reads runAsNonRoot and seccomp from the pod when the container leaves them unset, as Kubernetes does", () => {
            const inherited = withContainer((c) => {
                delete c.securityContext.runAsNonRoot;
                delete c.securityContext.seccompProfile;
            });
            assert.deepStrictEqual(hardenedContainerViolations(inherited), []);
            const rootPod = deployment({ ...goodPod(), securityContext: {} });
            rootPod.spec.template.spec.containers[0].securityContext = { ...goodContainer().securityContext, runAsNonRoot: undefined, seccompProfile: undefined };
            assert.deepStrictEqual(hardenedContainerViolations(rootPod), [
                "Deployment ns/app container app: runAsNonRoot is not true (in the container or the pod)",
                "Deployment ns/app container app: seccomp profile is unset, not RuntimeDefault (in the container or the pod)",
            ]);
        });

        it("a pod without containers is a violation, not a pass", () => {
            assert.deepStrictEqual(hardenedContainerViolations(deployment({ containers: [] })), ["Deployment ns/app: no containers"]);
        });
    });

    describe("no allow-all egress", () => {
        const np = (egress: any[]): KubernetesObject => ({ kind: "NetworkPolicy", metadata: { name: "np", namespace: "ns" }, spec: { podSelector: {}, policyTypes: ["Egress"], egress } });
        it("passes peers, ports-only rules and default deny", () => {
            assert.deepStrictEqual(allowAllEgressViolations(np([])), []);
            assert.deepStrictEqual(allowAllEgressViolations(np([{ to: [{ podSelector: { matchLabels: { a: "b" } } }] }])), []);
            assert.deepStrictEqual(allowAllEgressViolations(np([{ ports: [{ port: 53, protocol: "UDP" }] }])), []);
            assert.deepStrictEqual(allowAllEgressViolations(np([{ to: [{ ipBlock: { cidr: "192.168.101.0/24" } }] }])), []);
            assert.deepStrictEqual(allowAllEgressViolations(np([{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 443 }] }])), []);
        });
        it("fails a rule with neither peers nor ports, an empty `to: []`, and 0.0.0.0/0 on every port", () => {
            assert.deepStrictEqual(allowAllEgressViolations(np([{}])), ["NetworkPolicy ns/np egress rule 1: allows all egress (no peers and no ports)"]);
            assert.deepStrictEqual(allowAllEgressViolations(np([{ ports: [{ port: 53 }] }, { to: [] }])), ["NetworkPolicy ns/np egress rule 2: allows all egress (no peers and no ports)"]);
            assert.deepStrictEqual(allowAllEgressViolations(np([{ to: [], ports: [] }])).length, 1);
            assert.deepStrictEqual(allowAllEgressViolations(np([{ to: [{ ipBlock: { cidr: "::/0" } }] }])), ["NetworkPolicy ns/np egress rule 1: allows every port to ::/0"]);
        });

        const cnp = (egress: any[], kind = "CiliumNetworkPolicy"): KubernetesObject => ({ kind, metadata: { name: "cnp", namespace: "ns" }, spec: { endpointSelector: {}, egress } });
        it("passes Cilium rules that name peers", () => {
            assert.deepStrictEqual(allowAllEgressViolations(cnp([{ toEntities: ["kube-apiserver"], toPorts: [{ ports: [{ port: "6443", protocol: "TCP" }] }] }])), []);
            assert.deepStrictEqual(allowAllEgressViolations(cnp([{ toEndpoints: [{ matchLabels: { a: "b" } }] }, { toCIDRSet: [{ cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] }] }])), []);
        });
        it("fails Cilium egress to all/world, to 0.0.0.0/0, or without peers, in spec and in specs", () => {
            assert.deepStrictEqual(allowAllEgressViolations(cnp([{ toEntities: ["world"] }])), ["CiliumNetworkPolicy ns/cnp egress rule 1: egress to the world entity"]);
            assert.deepStrictEqual(allowAllEgressViolations(cnp([{ toEntities: ["all"] }], "CiliumClusterwideNetworkPolicy")), ["CiliumClusterwideNetworkPolicy ns/cnp egress rule 1: egress to the all entity"]);
            assert.deepStrictEqual(allowAllEgressViolations(cnp([{ toCIDR: ["0.0.0.0/0"] }])), ["CiliumNetworkPolicy ns/cnp egress rule 1: egress to 0.0.0.0/0"]);
            assert.deepStrictEqual(allowAllEgressViolations(cnp([{ toPorts: [{ ports: [{ port: "443" }] }] }])), ["CiliumNetworkPolicy ns/cnp egress rule 1: egress rule without peers (every destination)"]);
            const multi: KubernetesObject = { kind: "CiliumNetworkPolicy", metadata: { name: "m" }, specs: [{ egress: [{ toEntities: ["host"] }] }, { egress: [{ toEntities: [] }] }] };
            assert.deepStrictEqual(allowAllEgressViolations(multi), ["CiliumNetworkPolicy m spec 2 egress rule 1: egress rule without peers (every destination)"]);
        });
    });

    describe("no wildcard RBAC", () => {
        const role = (rules: any[], kind = "Role"): KubernetesObject => ({ kind, metadata: { name: "r", namespace: kind === "Role" ? "ns" : undefined }, rules });
        it("passes named verbs, resources and groups; other kinds pass", () => {
            assert.deepStrictEqual(wildcardRbacViolations(role([{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }])), []);
            assert.deepStrictEqual(wildcardRbacViolations({ kind: "RoleBinding", metadata: { name: "b" }, subjects: [{ name: "*" }] }), []);
        });
        it("fails * in verbs, resources or apiGroups, each reported, and honours a waived field", () => {
            const r = role([{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }], "ClusterRole");
            assert.deepStrictEqual(wildcardRbacViolations(r), ['ClusterRole r rule 1: "*" in verbs', 'ClusterRole r rule 1: "*" in resources', 'ClusterRole r rule 1: "*" in apiGroups']);
            assert.deepStrictEqual(wildcardRbacViolations(r, ["verbs"]).length, 2);
            assert.deepStrictEqual(wildcardRbacViolations(role([{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }, { apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["*"] }])), ['Role ns/r rule 2: "*" in verbs']);
        });
    });

    describe("no plaintext secret", () => {
        const secret = (stringData: any): KubernetesObject => ({ kind: "Secret", metadata: { name: "s", namespace: "ns" }, stringData });
        const pem = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
        it("a Secret's data must be a Pulumi secret, as a whole or value by value (when secretness is known)", () => {
            const s = secret({ password: "x", username: "u" });
            assert.deepStrictEqual(plaintextSecretViolations(s, (p) => p.length === 1 && p[0] === "stringData"), []);
            assert.deepStrictEqual(plaintextSecretViolations(s, (p) => p.length === 2), []);
            assert.deepStrictEqual(plaintextSecretViolations(s, (p) => p[1] === "password"), ["Secret ns/s: stringData is not a Pulumi secret (plaintext in the state and in diffs)"]);
            assert.deepStrictEqual(plaintextSecretViolations(s, () => false).length, 1);
            // Without secretness (a policy), the Secret's own data is not judged; a key in it is where it belongs.
            assert.deepStrictEqual(plaintextSecretViolations(secret({ "tls.key": pem })), []);
        });
        it("a private key outside a Secret's data fails, wherever it is", () => {
            const cm: KubernetesObject = { kind: "ConfigMap", metadata: { name: "c", namespace: "ns" }, data: { "key.pem": pem } };
            assert.deepStrictEqual(plaintextSecretViolations(cm), ["ConfigMap ns/c: a private key in plaintext at data.key.pem"]);
            const annotated: KubernetesObject = { kind: "Secret", metadata: { name: "s", annotations: { leaked: `-----BEGIN RSA PRIVATE KEY-----` } }, stringData: {} };
            assert.deepStrictEqual(plaintextSecretViolations(annotated), ["Secret s: a private key in plaintext at metadata.annotations.leaked"]);
            assert.deepStrictEqual(plaintextSecretViolations({ kind: "ConfigMap", metadata: { name: "ca" }, data: { "ca.crt": "-----BEGIN CERTIFICATE-----" } }), []);
        });
        it("a credential-named env var must come from a Secret, not a literal", () => {
            const env = (e: any[]) => withContainer((c) => (c.env = e));
            assert.deepStrictEqual(plaintextSecretViolations(env([{ name: "OPENSEARCH_PASSWORD", valueFrom: { secretKeyRef: { name: "s", key: "password" } } }])), []);
            assert.deepStrictEqual(plaintextSecretViolations(env([{ name: "PASSWORD_FILE", value: "/etc/pw" }, { name: "TOKEN_PATH", value: "/t" }, { name: "MODE", value: "x" }, { name: "API_TOKEN", value: "" }])), []);
            assert.deepStrictEqual(plaintextSecretViolations(env([{ name: "GF_SECURITY_ADMIN_PASSWORD", value: "hunter2" }, { name: "AWS_SECRET_ACCESS_KEY", value: "k" }])), [
                "Deployment ns/app container app: env GF_SECURITY_ADMIN_PASSWORD is a literal value (use valueFrom.secretKeyRef)",
                "Deployment ns/app container app: env AWS_SECRET_ACCESS_KEY is a literal value (use valueFrom.secretKeyRef)",
            ]);
            const init = withContainer((c) => (c.env = [{ name: "api_key", value: "k" }]), true);
            assert.deepStrictEqual(plaintextSecretViolations(init), ["Deployment ns/app container init: env api_key is a literal value (use valueFrom.secretKeyRef)"]);
        });
    });
});
