/**
 * Every error an operator can cause, as `pulumi up` prints it: the real program (index.ts) under the mock runtime,
 * its rejection formatted by the SDK's own uncaught-error path (helpers/cli.ts), compared with the exact text.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../lib/config";
import { OperatorError } from "../lib/errors";
import { OfflineOptions, StackReferenceState, asStackReference, runOffline } from "../tools/offline";
import { ROOT, readStackFile } from "../tools/plan";
import { cliPrints, PROGRAM_DIR, rejection } from "./helpers/cli";
import { planStack } from "./helpers/plan";
import { blockAfter, readme } from "./helpers/readme";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const program = () => (require("../index") as () => Promise<Record<string, unknown>>)();
const CENTRAL = "organization/agent-receiver/cluster-01";

/** Run the program for `stack` with its real stack file, changed by `edit`, and return what the CLI prints. */
async function printed(stack: string, edit: (o: { flat: Record<string, string>; secretKeys: string[] }) => void, refs: Record<string, StackReferenceState> = {}) {
    const file = readStackFile(stack);
    const o = { flat: { ...file.flat }, secretKeys: [...file.secretKeys] };
    edit(o);
    const opts: OfflineOptions = { project: "agent-receiver", stack, config: o.flat, secretKeys: o.secretKeys, stackReferences: refs };
    const err = await rejection(runOffline(opts, program));
    assert.ok(err instanceof OperatorError, `expected an OperatorError, got ${String(err)}`);
    return cliPrints(err);
}

async function centralRef(change: (r: StackReferenceState) => StackReferenceState = (r) => r) {
    return { [CENTRAL]: change(asStackReference((await planStack("cluster-01")).outputs)) };
}

describe("operator errors, as pulumi up prints them", () => {
    it("the formatting is the CLI's: any other error prints as an inspected object with its stack trace (the defect this guards)", () => {
        // The old ConfigError: an Error with a `stack` field, which replaced the stack trace.
        const old = Object.assign(new Error("invalid configuration"), { stack: "cluster-01", problems: [{ path: "x", message: "y" }] });
        old.name = "ConfigError";
        const text = cliPrints(old);
        assert.ok(text.startsWith(`Running program '${PROGRAM_DIR}' failed with an unhandled exception:\n`), text);
        assert.match(text, /problems: \[/);
        assert.match(cliPrints(new Error("plain")), /failed with an unhandled exception:\nError: plain\n {4}at /);
        // A RunError prints its message alone.
        assert.strictEqual(cliPrints(new ConfigError("cluster-01", [{ path: "agent-receiver:role", message: "bad" }])), 'invalid configuration for stack "cluster-01":\n  - agent-receiver:role: bad');
    });

    it("a secret stored in plaintext", async () => {
        const text = await printed("cluster-01", (o) => {
            o.secretKeys = o.secretKeys.filter((k) => k !== "agent-receiver:minioPassword");
        });
        assert.strictEqual(text, 'invalid configuration for stack "cluster-01":\n  - agent-receiver:minioPassword: is stored in plaintext: set it again with --secret');
    });

    it("a missing secret, with the command that sets it", async () => {
        const text = await printed("cluster-01", (o) => {
            delete o.flat["agent-receiver:alertWebhookHeartbeat"];
        });
        assert.strictEqual(
            text,
            'invalid configuration for stack "cluster-01":\n  - agent-receiver:alertWebhookHeartbeat: is required: pulumi config set --secret agent-receiver:alertWebhookHeartbeat --stack cluster-01',
        );
    });

    it("an operator secret the stack does not use, stored in plaintext", async () => {
        const text = await printed("cluster-01", (o) => {
            o.flat["agent-receiver:alertWebhookFoo"] = "https://hooks.example.internal/foo";
        });
        assert.strictEqual(
            text,
            'invalid configuration for stack "cluster-01":\n' +
                "  - agent-receiver:alertWebhookFoo: is stored in plaintext and this stack does not use it " +
                "(no receiver or heartbeat in agent-receiver:central.monitoring.alerting names it): remove it: pulumi config rm agent-receiver:alertWebhookFoo --stack cluster-01",
        );
    });

    it("a dotted key set without --path, with the --path command to use", async () => {
        const text = await printed("cluster-03", (o) => {
            o.flat["agent-receiver:edge.survivableOutage"] = "90m";
        });
        assert.strictEqual(
            text,
            'invalid configuration for stack "cluster-03":\n' +
                '  - agent-receiver:edge.survivableOutage: is one flat key named "edge.survivableOutage", set without --path, ' +
                "so the program does not read it as a nested key. Set it again with --path: " +
                "pulumi config rm agent-receiver:edge.survivableOutage --stack cluster-03 && " +
                "pulumi config set --path agent-receiver:edge.survivableOutage 90m --stack cluster-03",
        );
    });

    it("a config namespace close to the project's", async () => {
        const text = await printed("cluster-03", (o) => {
            o.flat["agent-reciever:edge"] = o.flat["agent-receiver:edge"];
            delete o.flat["agent-receiver:edge"];
        });
        assert.strictEqual(
            text,
            'invalid configuration for stack "cluster-03":\n' +
                '  - agent-reciever:edge: the config namespace "agent-reciever" is not this project\'s: did you mean agent-receiver? ' +
                "The program would ignore this key. Rename it to agent-receiver:edge in Pulumi.cluster-03.yaml\n" +
                "  - agent-receiver:edge: is required when role is edge",
        );
    });

    it("schema problems: every bad key at once, named as the operator types it", async () => {
        const text = await printed("cluster-03", (o) => {
            const edge = JSON.parse(o.flat["agent-receiver:edge"]);
            edge.survivableOutage = "2 hours";
            edge.agnet = {};
            o.flat["agent-receiver:edge"] = JSON.stringify(edge);
        });
        assert.strictEqual(
            text,
            'invalid configuration for stack "cluster-03":\n' +
                "  - agent-receiver:edge.survivableOutage: must be a duration such as 30s, 6h or 90d\n" +
                "  - agent-receiver:edge.agnet: unknown key",
        );
    });

    it("a value that needs a unit, set as a bare number (pulumi config set --path stores 32 as a number)", async () => {
        const text = await printed("cluster-02", (o) => {
            const edge = JSON.parse(o.flat["agent-receiver:edge"]);
            edge.tenants[0].quota.memory = 32;
            edge.tenants[1].quota.cpu = 8; // a number of cores: accepted
            edge.survivableOutage = 2;
            o.flat["agent-receiver:edge"] = JSON.stringify(edge);
        });
        assert.strictEqual(
            text,
            'invalid configuration for stack "cluster-02":\n' +
                "  - agent-receiver:edge.survivableOutage: must be a duration with a unit, such as 2s, 2m or 2h (2 has none)\n" +
                "  - agent-receiver:edge.tenants[0].quota.memory: must be a memory quantity with a unit, such as 32Mi or 32Gi (a bare 32 would be bytes)",
        );
    });

    it("an IPv4 octet over 255", async () => {
        const text = await printed("cluster-01", (o) => {
            const central = JSON.parse(o.flat["agent-receiver:central"]);
            central.receive.loadBalancerIP = "192.168.101.260";
            o.flat["agent-receiver:central"] = JSON.stringify(central);
        });
        assert.strictEqual(text, 'invalid configuration for stack "cluster-01":\n  - agent-receiver:central.receive.loadBalancerIP: must have IPv4 octets of 0-255 (192.168.101.260)');
    });

    it("a MinIO address outside the MinIO CIDR", async () => {
        const text = await printed("cluster-01", (o) => {
            const central = JSON.parse(o.flat["agent-receiver:central"]);
            central.objectStorage.endpoint = "192.168.110.10:9000";
            o.flat["agent-receiver:central"] = JSON.stringify(central);
        });
        assert.strictEqual(
            text,
            'invalid configuration for stack "cluster-01":\n' +
                "  - agent-receiver:central.objectStorage.endpoint: (192.168.110.10) is outside central.objectStorage.cidr (192.168.101.0/24): " +
                "Receive, Store and Compactor may reach MinIO only within that CIDR",
        );
    });

    it("a replica count beyond the schema's maximum", async () => {
        const text = await printed("cluster-01", (o) => {
            const central = JSON.parse(o.flat["agent-receiver:central"]);
            central.receive.replicas = 30;
            o.flat["agent-receiver:central"] = JSON.stringify(central);
        });
        assert.strictEqual(
            text,
            'invalid configuration for stack "cluster-01":\n' +
                "  - agent-receiver:central.receive.replicas: must be at most 20: the hashring's members restart one at a time on a rollout, " +
                "each flushing its head (up to terminationGracePeriodSeconds)",
        );
    });

    it("a namespace the platform does not own, given to a tenant", async () => {
        const text = await printed("cluster-02", (o) => {
            const edge = JSON.parse(o.flat["agent-receiver:edge"]);
            edge.tenants[0].namespaces = ["tenant-a", "kube-system"];
            o.flat["agent-receiver:edge"] = JSON.stringify(edge);
        });
        assert.strictEqual(
            text,
            'invalid configuration for stack "cluster-02":\n' +
                '  - agent-receiver:edge.tenants[0].namespaces[1]: namespace "kube-system" belongs to Kubernetes: the platform locks down every namespace it is given ' +
                '(Pod Security, default-deny NetworkPolicies); choose another for tenant "a"',
        );
    });

    it("two components in one namespace", async () => {
        const text = await printed("cluster-01", (o) => {
            const central = JSON.parse(o.flat["agent-receiver:central"]);
            central.logs.namespace = "thanos";
            o.flat["agent-receiver:central"] = JSON.stringify(central);
        });
        assert.strictEqual(
            text,
            'invalid configuration for stack "cluster-01":\n' +
                '  - agent-receiver:central.logs.namespace: namespace "thanos" is already the namespace of the Thanos components (central.namespace); choose another for OpenSearch',
        );
    });

    it("an edge before the central stack is deployed", async () => {
        const text = await printed("cluster-03", () => {});
        assert.strictEqual(
            text,
            `stack "cluster-03": central stack "${CENTRAL}" (agent-receiver:edge.centralStack) has none of the outputs an edge reads: it is not deployed yet. ` +
                "Deploy it first: pulumi up --stack cluster-01",
        );
    });

    it("a central stack deployed by an older program (an output missing)", async () => {
        const refs = await centralRef((r) => ({ ...r, outputs: Object.fromEntries(Object.entries(r.outputs).filter(([k]) => k !== "logsEndpoint")) }));
        const text = await printed("cluster-04", () => {}, refs);
        assert.strictEqual(
            text,
            `stack "cluster-04": central stack "${CENTRAL}" (agent-receiver:edge.centralStack) lacks the output(s) logsEndpoint: ` +
                "it was deployed by an older version of the program. Run pulumi up --stack cluster-01 first.",
        );
    });

    it("a central stack deployed before the out-of-order window was part of the contract (receiveOutOfOrderWindow missing)", async () => {
        const refs = await centralRef((r) => ({ ...r, outputs: Object.fromEntries(Object.entries(r.outputs).filter(([k]) => k !== "receiveOutOfOrderWindow")) }));
        const text = await printed("cluster-03", () => {}, refs);
        assert.strictEqual(
            text,
            `stack "cluster-03": central stack "${CENTRAL}" (agent-receiver:edge.centralStack) lacks the output(s) receiveOutOfOrderWindow: ` +
                "it was deployed by an older version of the program. Run pulumi up --stack cluster-01 first.",
        );
    });

    it("an edge whose sampleAgeLimit is longer than the central Receive's out-of-order window (two stacks, both keys)", async () => {
        const text = await printed(
            "cluster-03",
            (o) => {
                const edge = JSON.parse(o.flat["agent-receiver:edge"]);
                edge.agent.remoteWrite.sampleAgeLimit = "4h";
                o.flat["agent-receiver:edge"] = JSON.stringify(edge);
            },
            await centralRef(),
        );
        assert.strictEqual(
            text,
            'stack "cluster-03": agent-receiver:edge.agent.remoteWrite.sampleAgeLimit (4h) is longer than agent-receiver:central.receive.outOfOrderWindow (3h) ' +
                `of central stack "${CENTRAL}": Receive would refuse the oldest samples of an outage's backlog. ` +
                'Raise central.receive.outOfOrderWindow to at least 4h in Pulumi.cluster-01.yaml and run pulumi up --stack cluster-01 first, or lower sampleAgeLimit on stack "cluster-03".',
        );
    });

    it("credentials exported in plaintext are refused", async () => {
        const refs = await centralRef((r) => ({ ...r, secretOutputNames: [] }));
        const text = await printed("cluster-03", () => {}, refs);
        assert.strictEqual(
            text,
            `stack "cluster-03": central stack "${CENTRAL}" exports "writerCredentials" in plaintext; it must be a secret output. ` +
                "Run pulumi up --stack cluster-01 with this version of the program.",
        );
    });

    it("an edge cluster missing from the central writers: add the cluster", async () => {
        const refs = await centralRef((r) => ({ ...r, outputs: { ...r.outputs, writers: ["cluster-01", "cluster-03"] } }));
        const text = await printed("cluster-04", () => {}, refs);
        assert.strictEqual(
            text,
            'stack "cluster-04": writer(s) cluster-04 not registered on the central stack (known: cluster-01, cluster-03). ' +
                "To fix: add { cluster: cluster-04 } to agent-receiver:central.writers (Pulumi.cluster-01.yaml), then run pulumi up --stack cluster-01 before this stack.",
        );
    });

    it("an edge tenant missing from the central writers: add the tenant, not the cluster that is already there", async () => {
        const refs = await centralRef((r) => ({ ...r, outputs: { ...r.outputs, writers: ["cluster-01", "cluster-02-a", "cluster-03"] } }));
        const text = await printed("cluster-02", () => {}, refs);
        assert.strictEqual(
            text,
            'stack "cluster-02": writer(s) cluster-02-b not registered on the central stack (known: cluster-01, cluster-02-a, cluster-03). ' +
                "To fix: add tenant(s) b to the tenants of writer cluster-02 in agent-receiver:central.writers (Pulumi.cluster-01.yaml), then run pulumi up --stack cluster-01 before this stack.",
        );
    });

    it("an edge with tenants whose cluster is not a writer at all: add the cluster with its tenants", async () => {
        const refs = await centralRef((r) => ({ ...r, outputs: { ...r.outputs, writers: ["cluster-01", "cluster-03"] } }));
        const text = await printed("cluster-02", () => {}, refs);
        assert.strictEqual(
            text,
            'stack "cluster-02": writer(s) cluster-02-a, cluster-02-b not registered on the central stack (known: cluster-01, cluster-03). ' +
                "To fix: add { cluster: cluster-02, tenants: [a, b] } to agent-receiver:central.writers (Pulumi.cluster-01.yaml), then run pulumi up --stack cluster-01 before this stack.",
        );
    });
});

describe("the central-stack errors the README and docs/ko/deploy.md show are what the CLI prints", () => {
    for (const [doc, text] of [
        ["README.md", readme()],
        ["docs/ko/deploy.md", fs.readFileSync(path.join(ROOT, "docs", "ko", "deploy.md"), "utf8")],
    ] as const) {
        it(`${doc}: each line is the message for its stack and the writers it names as known (none: cluster-01 not deployed)`, async () => {
            const lines = blockAfter("edge-errors:central-stack", text).code.trimEnd().split("\n");
            assert.ok(lines.length >= 4, "the cluster form, the tenant forms and the undeployed central stack");
            for (const line of lines) {
                const stack = /^stack "([^"]+)"/.exec(line)?.[1];
                assert.ok(stack, `no stack in: ${line}`);
                const known = /\(known: ([^)]*)\)/.exec(line)?.[1].split(", ");
                const refs = known ? await centralRef((r) => ({ ...r, outputs: { ...r.outputs, writers: known } })) : {};
                // The edge's own stack file as committed; the central stack's writers output is what differs.
                assert.strictEqual(await printed(stack, () => {}, refs), line);
            }
        });
    }
});

describe("rendering manifests (kubernetes.renderYamlToDirectory)", () => {
    it("is refused on a stack that is not render-only: changing it replaces the provider, which deletes every object of a deployed stack", async () => {
        const text = await printed("cluster-03", (o) => {
            o.flat["agent-receiver:kubernetes"] = JSON.stringify({ ...JSON.parse(o.flat["agent-receiver:kubernetes"]), renderYamlToDirectory: "out/rendered" });
        });
        assert.strictEqual(
            text,
            'invalid configuration for stack "cluster-03":\n' +
                "  - agent-receiver:kubernetes.renderYamlToDirectory: is set on a stack that is not render-only. Changing it replaces the Kubernetes provider, " +
                "and on a deployed stack pulumi up would delete every object from the cluster. Remove it (pulumi config rm --path agent-receiver:kubernetes.renderYamlToDirectory --stack cluster-03) " +
                'and render from a stack of its own named cluster-03-render with the same configuration (README, "Rendering manifests")',
        );
    });

    it("a render-only stack creates nothing on MinIO, names the deployed stack's objstore Secrets, and warns that the YAML holds secrets in plaintext", async () => {
        const file = readStackFile("cluster-01");
        const config = { ...file.flat, "agent-receiver:kubernetes": JSON.stringify({ ...JSON.parse(file.flat["agent-receiver:kubernetes"]), renderYamlToDirectory: "out/rendered" }) };
        const warnings: string[] = [];
        const original = console.warn;
        console.warn = (...a: unknown[]) => void warnings.push(a.join(" "));
        let plan;
        try {
            plan = await runOffline({ project: "agent-receiver", stack: "cluster-01-render", config, secretKeys: file.secretKeys }, program);
        } finally {
            console.warn = original;
        }
        assert.deepStrictEqual(plan.resources.filter((r) => r.type.startsWith("minio:") || r.type === "pulumi:providers:minio").map((r) => r.name), []);
        const provider = plan.resources.find((r) => r.type === "pulumi:providers:kubernetes")!;
        assert.strictEqual((provider.inputs as any).renderYamlToDirectory, "out/rendered");
        const sts = plan.resources.filter((r) => r.type === "kubernetes:apps/v1:StatefulSet").map((r) => r.inputs as any);
        const objstore = sts.flatMap((m) => (m.spec.template.spec.volumes ?? []).filter((v: any) => v.name === "objstore").map((v: any) => v.secret.secretName)).sort();
        assert.deepStrictEqual(objstore, ["thanos-objstore-compactor", "thanos-objstore-receive", "thanos-objstore-store"]);
        assert.ok(warnings.some((w) => /rendered YAML holds every Secret in plaintext/.test(w)), warnings.join("\n"));
    });
});
