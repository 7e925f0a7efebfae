import * as assert from "assert";
import { ConfigError, parseFlatConfig } from "../lib/config";
import { asStackReference, mapSecrets, runOffline } from "../tools/offline";
import { Plan, readStackFile } from "../tools/plan";
import { buildStack } from "../stacks";
import { all, centralSecrets, manifest, planStack } from "./helpers/plan";

/** cluster-01 planned with `central.rotation` set to `rotation`. */
async function centralWith(rotation: unknown): Promise<Plan> {
    const file = readStackFile("cluster-01");
    const raw = JSON.parse(file.flat["agent-receiver:central"]);
    raw.rotation = rotation;
    file.flat["agent-receiver:central"] = JSON.stringify(raw);
    const cfg = parseFlatConfig("cluster-01", file.flat, (k) => file.secretKeys.includes(k));
    return { stack: "cluster-01", ...(await runOffline({ project: "agent-receiver", stack: "cluster-01" }, () => buildStack(cfg, centralSecrets(cfg)))) };
}

/** An edge planned against the given central plan's outputs (as `pulumi up` on the edge would read them). */
async function edgeAgainst(stack: string, central: Plan): Promise<Plan> {
    const file = readStackFile(stack);
    const cfg = parseFlatConfig(stack, file.flat, (k) => file.secretKeys.includes(k));
    const refs = { [cfg.edge!.centralStack]: asStackReference(central.outputs) };
    return { stack, ...(await runOffline({ project: "agent-receiver", stack, stackReferences: refs }, () => buildStack(cfg, {}))) };
}

const names = (p: Plan, type: string) => all(p, type).map((r) => r.name).sort();
const credentials = (p: Plan, output: string) => mapSecrets(p.outputs[output], true) as Record<string, any>;

describe("credential rotation is a configuration change (central.rotation)", () => {
    it("a writer's generation gives that writer, and only it, a new key and certificate, which its edge picks up", async () => {
        const before = await planStack("cluster-01");
        const after = await centralWith({ writers: { "cluster-03": 1 } });
        const keysBefore = names(before, "tls:index/privateKey:PrivateKey");
        const keysAfter = names(after, "tls:index/privateKey:PrivateKey");
        assert.deepStrictEqual(
            keysAfter.filter((n) => !keysBefore.includes(n)),
            ["cluster-01-remote-write-pki-writer-cluster-03-g1-key"],
            "exactly one new key",
        );
        assert.deepStrictEqual(keysBefore.filter((n) => !keysAfter.includes(n)), ["cluster-01-remote-write-pki-writer-cluster-03-key"], "the old key goes");
        const cb = credentials(before, "writerCredentials");
        const ca = credentials(after, "writerCredentials");
        assert.notStrictEqual(ca["cluster-03"].certPem, cb["cluster-03"].certPem);
        for (const w of Object.keys(cb).filter((w) => w !== "cluster-03")) assert.strictEqual(ca[w].certPem, cb[w].certPem, `${w} unchanged`);
        assert.strictEqual(after.outputs.receiveCaCertPem, before.outputs.receiveCaCertPem, "the CA stays");

        // pulumi up on cluster-03 then mounts the new certificate.
        const edge = await edgeAgainst("cluster-03", after);
        const secret = all(edge, "kubernetes:core/v1:Secret").map(manifest).find((m) => m.metadata.name.endsWith("-remote-write"));
        assert.strictEqual(secret.stringData["tls.crt"], ca["cluster-03"].certPem);
    });

    it("the CA generation issues a new CA, server certificate and re-signed client certificates", async () => {
        const before = await planStack("cluster-01");
        const after = await centralWith({ ca: 1 });
        assert.notStrictEqual(after.outputs.receiveCaCertPem, before.outputs.receiveCaCertPem);
        const certs = (p: Plan) =>
            all(p, "tls:index/locallySignedCert:LocallySignedCert")
                .filter((r) => r.name.includes("-remote-write-pki-"))
                .map((r) => (r.inputs as any).caCertPem);
        assert.strictEqual(certs(after).length, certs(before).length);
        assert.ok(certs(after).every((c) => c === after.outputs.receiveCaCertPem), "every remote-write leaf is signed by the new CA");
        assert.ok(names(after, "tls:index/privateKey:PrivateKey").includes("cluster-01-remote-write-pki-server-g1-key"), "new server key");
    });

    it("a cluster's log generation replaces its OpenSearch password only", async () => {
        const before = credentials(await planStack("cluster-01"), "logsCredentials");
        const afterPlan = await centralWith({ logs: { "cluster-04": 2 } });
        const after = credentials(afterPlan, "logsCredentials");
        assert.ok(names(afterPlan, "random:index/randomPassword:RandomPassword").includes("cluster-01-logs-writer-cluster-04-g2"));
        assert.notStrictEqual(after["cluster-04"].password, before["cluster-04"].password);
        for (const c of Object.keys(before).filter((c) => c !== "cluster-04")) assert.strictEqual(after[c].password, before[c].password, `${c} unchanged`);
    });

    it("rejects a generation for an unknown writer or cluster, naming the key and the stack", async () => {
        await assert.rejects(centralWith({ writers: { "cluster-09": 1 } }), (e: unknown) => {
            assert.ok(e instanceof ConfigError);
            assert.match(e.message, /stack "cluster-01"/);
            assert.match(e.message, /agent-receiver:central\.rotation\.writers\.cluster-09: unknown writer "cluster-09"/);
            return true;
        });
        await assert.rejects(centralWith({ logs: { "cluster-02-a": 1 } }), /agent-receiver:central\.rotation\.logs\.cluster-02-a: unknown cluster/);
        await assert.rejects(centralWith({ ca: -1 }), /agent-receiver:central\.rotation\.ca/);
    });
});
