/**
 * `npm run verify`: its Kubernetes checks against a fake API server (test/helpers/fakeKube.ts) holding what the
 * stacks' plans would leave on the clusters, reached with a kubeconfig as an operator's (HTTPS, CA, token), through the
 * WebSocket port-forward the API server speaks. Each check passes on the planned cluster and fails, for its own reason,
 * on a cluster broken one way. The checks that read Thanos Query and Alertmanager run against real Prometheus and
 * Alertmanager processes in test/verify.e2e.ts (`npm run test:verify`).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { producedMetricNames } from "../lib/producedMetrics";
import { stackConfig } from "../tools/stacks";
import { ROOT } from "../tools/plan";
import {
    CHECK_NAMES,
    CheckName,
    FLUENT_BIT_COUNTERS,
    Line,
    bucketUploadQuery,
    checksFor,
    expositionSum,
    formatSeconds,
    freshnessLimits,
    runCheck,
    verifyRbac,
    writerFreshnessQuery,
} from "../scripts/lib/verify/checks";
import { parseArgs, verify } from "../scripts/verify";
import { FakeKube, FakeRequest, serverCertificate, writeKubeconfig } from "./helpers/fakeKube";
import { parsePromQL } from "./helpers/promql";
import { tmpDir } from "./helpers/plan";
import { fillCentral, fillEdge, fluentBitExposition } from "./helpers/verifyClusters";

/** Run one check of a stack against the fakes; its lines. */
async function run(stack: string, name: CheckName, kubeconfig: string, logWindowMs = 200): Promise<Line[]> {
    const check = checksFor(stack, { kubeconfig, logWindowMs }).find((c) => c.name === name);
    assert.ok(check, `${stack} has no check ${name}`);
    return runCheck(check, 20000);
}

const oks = (lines: Line[]) => lines.map((l) => l.ok);
const texts = (lines: Line[]) => lines.map((l) => l.text).join("\n");

describe("npm run verify: Kubernetes checks against a fake API server", function () {
    this.timeout(60000);
    const dir = tmpDir("verify-");
    const tls = serverCertificate(dir);
    const central = new FakeKube(tls);
    const edge = new FakeKube(tls);
    let kubeconfig = "";
    /** One rising exposition per Fluent Bit pod (each pod's counters are its own). */
    let rising: { port: number; close(): void }[] = [];
    let stuck: { port: number; close(): void };
    let dropping: { port: number; close(): void };

    before(async () => {
        await Promise.all([central.start(), edge.start()]);
        kubeconfig = writeKubeconfig(path.join(dir, "kubeconfig"), [
            { context: stackConfig("cluster-01").kubernetes.context, fake: central },
            { context: stackConfig("cluster-02").kubernetes.context, fake: edge },
        ]);
        rising = await Promise.all([0, 1, 2].map(() => fluentBitExposition({ step: 50 })));
        [stuck, dropping] = await Promise.all([fluentBitExposition({ step: 0 }), fluentBitExposition({ step: 50, droppedStep: 1 })]);
    });
    after(async () => {
        await Promise.all([central.close(), edge.close()]);
        for (const s of [...rising, stuck, dropping]) s.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });
    beforeEach(async () => {
        await fillCentral(central, { alertmanagers: [undefined, undefined], fluentBits: [rising[0].port, rising[1].port] });
        await fillEdge(edge, "cluster-02", rising.map((r) => r.port));
        central.requests.length = 0;
        edge.requests.length = 0;
    });

    describe("receive-ring", () => {
        it("passes on cluster-01 as planned: every replica ready, the hashring lists each pod", async () => {
            const lines = await run("cluster-01", "receive-ring", kubeconfig);
            assert.deepStrictEqual(oks(lines), [true, true], texts(lines));
            assert.match(lines[0].text, /StatefulSet thanos\/thanos-receive: 3\/3 replicas ready/);
            assert.match(lines[1].text, /hashring thanos\/thanos-receive-hashring: the 3 configured endpoints, each a ready pod/);
        });

        it("fails when a replica is not ready: the StatefulSet's count and the pod by name", async () => {
            const sts = central.objects.find((o) => o.kind === "StatefulSet");
            sts.status.readyReplicas = 2;
            central.pods.find((p) => p.name === "thanos-receive-2")!.ready = false;
            const lines = await run("cluster-01", "receive-ring", kubeconfig);
            assert.deepStrictEqual(oks(lines), [false, false]);
            assert.match(lines[0].text, /2\/3 ready/);
            assert.match(lines[1].text, /thanos-receive-2 not ready/);
        });

        it("fails when the hashring ConfigMap misses an endpoint, or the rollout is not finished", async () => {
            const cm = central.objects.find((o) => o.kind === "ConfigMap");
            const ring = JSON.parse(cm.data["hashrings.json"]);
            ring[0].endpoints.pop();
            cm.data["hashrings.json"] = JSON.stringify(ring);
            central.objects.find((o) => o.kind === "StatefulSet").status.updateRevision = "thanos-receive-new";
            const lines = await run("cluster-01", "receive-ring", kubeconfig);
            assert.deepStrictEqual(oks(lines), [false, false]);
            assert.match(lines[0].text, /rollout not finished/);
            assert.match(lines[1].text, /^hashring thanos\/thanos-receive-hashring: missing thanos-receive-2\.thanos-receive-headless\.thanos\.svc\.cluster\.local:10901$/);
        });

        it("fails naming the StatefulSet when it does not exist", async () => {
            central.objects = central.objects.filter((o) => o.kind !== "StatefulSet");
            const lines = await run("cluster-01", "receive-ring", kubeconfig);
            assert.deepStrictEqual(lines, [{ check: "receive-ring", ok: false, text: "StatefulSet thanos/thanos-receive: not found" }]);
        });
    });

    describe("tenant-placement (cluster-02)", () => {
        it("passes as planned: each tenant's nodes labelled and tainted, its policy bound with Deny", async () => {
            const lines = await run("cluster-02", "tenant-placement", kubeconfig);
            assert.deepStrictEqual(oks(lines), [true, true, true, true], texts(lines));
            assert.strictEqual(
                lines[0].text,
                "tenant a nodes: cluster-02-worker-1, cluster-02-worker-2 labelled node-restriction.kubernetes.io/tenant=a,tenant=a and tainted tenant=a:NoSchedule",
            );
            assert.strictEqual(lines[1].text, "tenant a admission: tenant-placement-a (no type-check warning) denies in tenant-a");
        });

        it("fails on a node without its taint, and on a node labelled for the other tenant", async () => {
            edge.objects.find((o) => o.metadata.name === "cluster-02-worker-2").spec.taints = [];
            edge.objects.find((o) => o.metadata.name === "cluster-02-worker-3").metadata.labels["node-restriction.kubernetes.io/tenant"] = "a";
            const lines = await run("cluster-02", "tenant-placement", kubeconfig);
            assert.deepStrictEqual(oks(lines), [false, true, false, true]);
            assert.strictEqual(lines[0].text, "tenant a nodes: node cluster-02-worker-2: no taint tenant=a:NoSchedule");
            assert.strictEqual(lines[2].text, "tenant b nodes: node cluster-02-worker-3: label node-restriction.kubernetes.io/tenant=a, want b");
        });

        it("fails when the policy is missing, a binding only audits, or Kubernetes reports a type-check warning", async () => {
            edge.objects = edge.objects.filter((o) => !(o.kind === "ValidatingAdmissionPolicy" && o.metadata.name === "tenant-placement-a"));
            const bindingB = edge.objects.find((o) => o.kind === "ValidatingAdmissionPolicyBinding" && o.metadata.name === "tenant-placement-b-tenant-b");
            bindingB.spec.validationActions = ["Audit"];
            const lines = await run("cluster-02", "tenant-placement", kubeconfig);
            assert.match(lines[1].text, /^tenant a admission: ValidatingAdmissionPolicy tenant-placement-a: not found$/);
            assert.match(lines[3].text, /binding tenant-placement-b-tenant-b does not Deny \(validationActions \["Audit"\]\)/);
            edge.objects.find((o) => o.kind === "ValidatingAdmissionPolicy").status.typeChecking = {
                expressionWarnings: [{ fieldRef: "spec.validations[0].expression", warning: "no such key: nodeSelector" }],
            };
            const again = await run("cluster-02", "tenant-placement", kubeconfig);
            assert.match(again[3].text, /type-check warnings: spec\.validations\[0\]\.expression: no such key: nodeSelector/);
            assert.deepStrictEqual(oks(again), [true, false, true, false]);
        });

        it("an edge without tenants has no tenant-placement check", () => {
            assert.deepStrictEqual(
                checksFor("cluster-03", { logWindowMs: 1 }).map((c) => c.name),
                ["writers", "log-shipping"],
            );
        });
    });

    describe("log-shipping", () => {
        it("passes when the delivered counters rise, read through the port-forward to every Fluent Bit pod", async () => {
            const lines = await run("cluster-02", "log-shipping", kubeconfig);
            assert.deepStrictEqual(oks(lines), [true], texts(lines));
            // Three pods, 50 records each between the two reads; the errors counter stays at 2 each.
            assert.strictEqual(lines[0].text, "Fluent Bit (3/3 pods in logging-node): 150 records delivered in 0s, 0 output errors (retried)");
            assert.ok(edge.requests.some((r) => r.resource === "pods/portforward" && r.name === "fluent-bit-ax2k9"));
        });

        it("fails when nothing is delivered, or chunks are dropped after their retries", async () => {
            edge.pods.forEach((p) => (p.forward = { 2020: stuck.port }));
            assert.match((await run("cluster-02", "log-shipping", kubeconfig))[0].text, /: no record delivered in 0s; 0 output errors$/);
            edge.pods[0].forward = { 2020: dropping.port };
            const lines = await run("cluster-02", "log-shipping", kubeconfig);
            assert.deepStrictEqual(oks(lines), [false]);
            assert.match(lines[0].text, /1 chunk\(s\) dropped after their retries \(logs lost\)/);
        });

        it("fails when no Fluent Bit pod is ready, and with the kubelet's error when the port-forward is refused", async () => {
            edge.pods.forEach((p) => (p.ready = false));
            assert.strictEqual(
                (await run("cluster-02", "log-shipping", kubeconfig))[0].text,
                "no ready pod of Fluent Bit in namespace logging-node (selector app.kubernetes.io/name=fluent-bit): 3 not ready",
            );
            edge.pods.forEach((p) => ((p.ready = true), (p.forward = {})));
            const [line] = await run("cluster-02", "log-shipping", kubeconfig);
            assert.match(line.text, /^GET \/api\/v1\/metrics\/prometheus on logging-node\/fluent-bit-\w+:2020 through a port-forward failed: an error occurred forwarding 2020 -> 2020: .*connection refused/);
        });
    });

    describe("the command", () => {
        it("--wait runs a failing check again until it passes; without it the FAIL stands (exit 1)", async () => {
            central.pods.find((p) => p.name === "thanos-receive-1")!.ready = false;
            const args = { stack: "cluster-01", only: ["receive-ring" as const], skip: [], logWindowMs: 1, waitMs: 0 };
            const once: string[] = [];
            assert.strictEqual(await verify(args, (l) => once.push(l), { kubeconfig, retryMs: 100 }), 1);
            assert.match(once.join("\n"), /^FAIL  receive-ring +hashring thanos\/thanos-receive-hashring: thanos-receive-1 not ready$/m);
            // The replica becomes ready while verify waits (a rollout finishing after pulumi up).
            setTimeout(() => (central.pods.find((p) => p.name === "thanos-receive-1")!.ready = true), 300);
            const waited: string[] = [];
            assert.strictEqual(await verify({ ...args, waitMs: 5000 }, (l) => waited.push(l), { kubeconfig, retryMs: 100 }), 0);
            assert.deepStrictEqual(waited.slice(-1), ["verify cluster-01: 2 passed, 0 failed, 4 checks skipped"]);
        });

        it("writers fails with the port-forward's error when Thanos Query cannot be reached", async () => {
            const [line] = await run("cluster-01", "writers", kubeconfig);
            assert.match(line.text, /^GET \/api\/v1\/query\?query=\S+ on thanos\/thanos-query-\S+:10902 through a port-forward failed: an error occurred forwarding 10902 -> 10902/);
        });
    });

    describe("reaching the cluster", () => {
        it("a kubeconfig without the stack's context fails every check, naming the config key", async () => {
            const only01 = writeKubeconfig(path.join(dir, "only-01"), [{ context: "cluster-01", fake: central }]);
            const lines = await run("cluster-02", "log-shipping", only01);
            assert.strictEqual(lines[0].text, 'the kubeconfig has no context "cluster-02" (agent-receiver:kubernetes.context of Pulumi.cluster-02.yaml); it has: cluster-01');
            const writers = await run("cluster-03", "writers", path.join(dir, "only-02"));
            assert.match(writers[0].text, /cannot read the kubeconfig/);
        });

        it("credentials the API server refuses fail with its answer", async () => {
            const wrong = new FakeKube(tls);
            await wrong.start();
            try {
                const file = writeKubeconfig(path.join(dir, "wrong-token"), [{ context: "cluster-01", fake: wrong }]);
                const lines = await run("cluster-01", "receive-ring", file);
                assert.deepStrictEqual(lines, [{ check: "receive-ring", ok: false, text: "StatefulSet thanos/thanos-receive: not found" }]);
                // The same fake, now with another token than the kubeconfig's.
                (wrong as { token: string }).token = "another";
                const refused = await run("cluster-01", "receive-ring", file);
                assert.match(refused[0].text, /^StatefulSet thanos\/thanos-receive: HTTP 401/);
            } finally {
                await wrong.close();
            }
        });
    });

    it("a port-forward the API server forbids (RBAC without create on pods/portforward) fails with its status", async () => {
        edge.forbidPortForward = true;
        try {
            const [line] = await run("cluster-02", "log-shipping", kubeconfig);
            assert.match(line.text, /^GET \/api\/v1\/metrics\/prometheus on logging-node\/fluent-bit-\w+:2020 through a port-forward failed: port-forward refused: Unexpected server response: 403$/);
        } finally {
            edge.forbidPortForward = false;
        }
    });

    it("asks for no more than the documented RBAC, and uses all of it (cluster-01 and cluster-02, every check)", async () => {
        const allChecks = async (stack: string) => Promise.all(checksFor(stack, { kubeconfig, logWindowMs: 50 }).map((c) => runCheck(c, 20000)));
        await allChecks("cluster-01");
        await allChecks("cluster-02");
        const covers = (rules: ReturnType<typeof verifyRbac>[string], r: FakeRequest) =>
            rules.some(
                (rule) =>
                    rule.apiGroup === r.apiGroup &&
                    rule.resource === r.resource &&
                    rule.verbs.includes(r.verb) &&
                    (rule.namespaces === undefined ? r.namespace === undefined : rule.namespaces.includes(r.namespace as string)) &&
                    (rule.names === undefined || rule.names.includes(r.name as string)),
            );
        // Every verb of a rule, in each of its namespaces and on each object it names, was asked for.
        const used = (rule: ReturnType<typeof verifyRbac>[string][number], reqs: FakeRequest[]) =>
            rule.verbs.every((v) =>
                (rule.namespaces ?? [undefined]).every((ns) =>
                    (rule.names ?? [undefined]).every((name) =>
                        reqs.some((r) => r.apiGroup === rule.apiGroup && r.resource === rule.resource && r.verb === v && r.namespace === ns && (name === undefined || r.name === name)),
                    ),
                ),
            );
        const rbac01 = verifyRbac("cluster-01");
        const rbac02 = verifyRbac("cluster-02");
        // cluster-01's own verify and cluster-02's writers both read cluster-01.
        const centralRules = [...rbac01["cluster-01"], ...rbac02["cluster-01"]];
        assert.deepStrictEqual(central.requests.filter((r) => !covers(centralRules, r)), []);
        assert.deepStrictEqual(edge.requests.filter((r) => !covers(rbac02["cluster-02"], r)), []);
        assert.deepStrictEqual(rbac01["cluster-01"].filter((rule) => !used(rule, central.requests)), []);
        assert.deepStrictEqual(rbac02["cluster-02"].filter((rule) => !used(rule, edge.requests)), []);
        // The rules name namespaces and objects, never `*`; nothing is written.
        for (const rule of [...centralRules, ...rbac02["cluster-02"]]) assert.ok(rule.verbs.every((v) => ["get", "list", "create"].includes(v)) && (rule.verbs.includes("create") ? rule.resource === "pods/portforward" : true));
    });

    it("the README shows the RBAC verifyRbac lists, as Role and ClusterRole objects (kubectl apply -f takes its Lists)", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const section = readme.slice(readme.indexOf("## Verifying a deployment"), readme.indexOf("\n## ", readme.indexOf("## Verifying a deployment") + 5));
        const docs = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m) => {
            const doc = parse(m[1]);
            return doc?.kind === "List" ? doc.items : [doc];
        });
        const shown = (context: string, kind: string) => docs.filter((d) => d?.kind === kind && d.metadata.annotations?.["agent-receiver/context"] === context);
        for (const [stack, context] of [["cluster-01", "cluster-01"], ["cluster-02", "cluster-02"], ["cluster-02", "cluster-01"]]) {
            const rules = verifyRbac(stack)[context];
            for (const rule of rules) {
                const objects = rule.namespaces ? rule.namespaces.flatMap((ns) => shown(context, "Role").filter((r) => r.metadata.namespace === ns)) : shown(context, "ClusterRole");
                const granted = objects.some((o) =>
                    o.rules.some(
                        (r: any) =>
                            r.apiGroups.includes(rule.apiGroup) &&
                            r.resources.includes(rule.resource) &&
                            rule.verbs.every((v) => r.verbs.includes(v)) &&
                            (rule.names ? rule.names.every((n) => (r.resourceNames ?? []).includes(n)) : r.resourceNames === undefined),
                    ),
                );
                assert.ok(granted, `README: ${context} grants ${rule.verbs.join("/")} ${rule.resource} ${rule.names?.join(",") ?? ""} in ${rule.namespaces?.join(",") ?? "the cluster"} (${stack})`);
            }
        }
    });
});

describe("npm run verify: queries, parsing and arguments", () => {
    it("every query the checks send parses, and reads only metrics the platform produces (lib/producedMetrics.ts)", () => {
        const c = stackConfig("cluster-01").central!;
        const queries = [...c.writers.flatMap((w) => (w.tenants.length ? w.tenants.map((t) => `${w.cluster}-${t}`) : [w.cluster])).map(writerFreshnessQuery), bucketUploadQuery()];
        const produced = producedMetricNames();
        for (const q of queries) {
            const p = parsePromQL(q);
            assert.deepStrictEqual(p.errors, [], q);
            assert.ok(p.metricNames.length > 0 && p.metricNames.every((n) => produced.has(n)), `${q}: ${p.metricNames.join()}`);
        }
        assert.strictEqual(writerFreshnessQuery("cluster-02-a"), 'max(timestamp(up{tenant_id="cluster-02-a"}))');
        for (const name of Object.values(FLUENT_BIT_COUNTERS)) assert.ok(produced.has(name), name);
    });

    it("Fluent Bit's exposition is summed by value, not by its trailing timestamp", () => {
        const text = ['# TYPE x counter', 'fluentbit_output_proc_records_total{name="a.0"} 10 1700000000000', 'fluentbit_output_proc_records_total{name="b.1"} 5', "fluentbit_output_proc_records_totalx 99"].join("\n");
        assert.strictEqual(expositionSum(text, "fluentbit_output_proc_records_total"), 15);
        assert.strictEqual(expositionSum(text, "fluentbit_output_errors_total"), 0);
    });

    it("each writer's freshness limit is 3 of its cluster's scrape intervals", () => {
        const limits = freshnessLimits(stackConfig("cluster-01"));
        assert.deepStrictEqual(limits, { "cluster-01": 90, "cluster-02-a": 90, "cluster-02-b": 90, "cluster-03": 90, "cluster-04": 90 });
        assert.strictEqual(formatSeconds(90), "1m30s");
        assert.strictEqual(formatSeconds(4 * 3600 + 5), "4h5s");
    });

    it("arguments: a stack, --only/--skip by check name, --log-window; clear errors otherwise", () => {
        assert.deepStrictEqual(parseArgs(["cluster-02", "--skip", "writers", "--log-window=5s"]), { stack: "cluster-02", only: undefined, skip: ["writers"], logWindowMs: 5000, waitMs: 0 });
        assert.deepStrictEqual(parseArgs(["--only", "writers,watchdog", "cluster-01"]), { stack: "cluster-01", only: ["writers", "watchdog"], skip: [], logWindowMs: 30000, waitMs: 0 });
        assert.deepStrictEqual(parseArgs(["cluster-09"]), { error: 'no stack "cluster-09": the stacks are cluster-01, cluster-02, cluster-03, cluster-04 (one per Pulumi.<stack>.yaml)' });
        assert.match((parseArgs(["cluster-01", "--skip", "writer"]) as { error: string }).error, /--skip takes check names \(writers, receive-ring/);
        assert.deepStrictEqual(parseArgs(["--help"]), { help: true });
        assert.deepStrictEqual(parseArgs([]), { error: "which stack?" });
        assert.match((parseArgs(["cluster-01", "--log-window", "soon"]) as { error: string }).error, /--log-window takes a duration/);
        assert.strictEqual((parseArgs(["cluster-01", "--wait", "5m"]) as { waitMs: number }).waitMs, 300000);
        assert.match((parseArgs(["cluster-01", "--wait"]) as { error: string }).error, /--wait takes a duration/);
        assert.deepStrictEqual([...CHECK_NAMES].sort(), ["bucket-upload", "log-shipping", "receive-ring", "tenant-placement", "watchdog", "writers"]);
    });
});
