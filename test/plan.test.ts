/**
 * The offline plan as an operator runs it (`npm run plan`): the workloads it counts, from the program's manifests and
 * from the pinned charts' defaults merged with the values the program passes; the summary; `--diff` against the
 * committed plan; and the errors outside the config schema. The CLI's `main` runs in-process with its arguments and
 * streams injected (plans are cached per process); one test spawns the real script for its exit status.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseQuantity } from "../lib/k8s";
import { charts } from "../lib/versions";
import { chartMeta } from "../tools/charts";
import { chartWorkloads } from "../tools/chartWorkloads";
import { SecretValue, mapSecrets } from "../tools/offline";
import { Plan, PlanError, ROOT, formatTotals, isHelmChart, listedNodes, readStackFile, resourceSummary, resourceTotals } from "../tools/plan";
import { EXIT, PlanIo, main } from "../scripts/plan";
import { stackConfig } from "../tools/stacks";
import { UPSTREAM_DIR } from "../tools/upstream";
import { manifest, planStack, tmpDir } from "./helpers/plan";

const GiB = 1024 ** 3;
const q = (x: unknown) => parseQuantity(String(x));
const fixtureValues = (chart: string): any => parse(fs.readFileSync(path.join(UPSTREAM_DIR, chart, "values.yaml"), "utf8"));
// The pinned charts' folders, and those of kube-prometheus-stack's subcharts at the versions its Chart.yaml names.
const { kubePrometheusStack: KPS, openSearch: OPENSEARCH, openSearchDashboards: DASHBOARDS, fluentBit: FLUENT_BIT } = charts;
const KPS_FOLDER = `${KPS.chart}-${KPS.version}`;
const kpsSubchart = (name: string) => `${name}-${chartMeta(KPS.chart, KPS.version).dependencies!.find((d) => d.name === name)!.version}`;

/** The values the plan passes to the chart whose `chart` input is `chart` (secrets revealed). */
function chartValues(plan: Plan, chart: string, release?: string): any {
    const found = plan.resources.filter(isHelmChart).map((r) => mapSecrets(r.inputs, true) as any).filter((i) => i.chart === chart && (release === undefined || i.name === release));
    assert.strictEqual(found.length, 1, `one ${chart} chart in ${plan.stack}`);
    return found[0].values;
}

function workload(plan: Plan, name: string) {
    const t = resourceTotals(plan);
    const w = t.workloads.find((x) => x.name === name);
    assert.ok(w, `workload ${name} in ${plan.stack}: ${t.workloads.map((x) => x.name).join(", ")}`);
    return w;
}

/** A stream that records what is written to it. */
function recorder(isTTY = false) {
    const chunks: string[] = [];
    return { write: (s: string) => chunks.push(s), isTTY, get text() { return chunks.join(""); } };
}

function run(argv: string[], opts: Partial<PlanIo> & { tty?: boolean; env?: Record<string, string> } = {}) {
    const stdout = recorder(opts.tty);
    const stderr = recorder();
    const outRoot = tmpDir("plan-out-");
    return main(argv, { stdout, stderr, env: opts.env ?? {}, outRoot, dir: opts.dir, goldenDir: opts.goldenDir }).then((status) => {
        fs.rmSync(outRoot, { recursive: true, force: true });
        return { status, stdout: stdout.text, stderr: stderr.text };
    });
}

/** A copy of the stack files with `edit` applied to one of them. */
function stackFilesWith(stack: string, edit: (text: string) => string): string {
    const dir = tmpDir("stack-files-");
    for (const f of fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    const before = fs.readFileSync(file, "utf8");
    const after = edit(before);
    assert.notStrictEqual(after, before, "the edit changed the stack file");
    fs.writeFileSync(file, after);
    return dir;
}

describe("plan: workloads counted, the charts' included", () => {
    it("OpenSearch: its replicas × the request the program passes, from the chart's StatefulSet", async () => {
        const plan = await planStack("cluster-01");
        const values = chartValues(plan, "opensearch");
        const w = workload(plan, "opensearch-cluster-master");
        assert.strictEqual(w.kind, "StatefulSet");
        assert.strictEqual(w.replicas, values.replicas);
        assert.strictEqual(w.replicas, 3);
        const main = w.containers.find((c) => c.name === "opensearch");
        assert.deepStrictEqual(main?.requests, { cpu: values.resources.requests.cpu, memory: values.resources.requests.memory });
        assert.strictEqual(q(main?.requests.memory), 4 * GiB);
    });

    it("kube-prometheus-stack: the Prometheus pair and Alertmanager with their config-reloader, the operator, Grafana and kube-state-metrics", async () => {
        const plan = await planStack("cluster-01");
        const values = chartValues(plan, "kube-prometheus-stack", "kps");
        const prometheus = workload(plan, "prometheus-kps-prometheus");
        assert.strictEqual(prometheus.replicas, values.prometheus.prometheusSpec.replicas);
        assert.deepStrictEqual(prometheus.containers.map((c) => c.name), ["prometheus", "config-reloader"]);
        assert.strictEqual(prometheus.containers[0].requests.memory, values.prometheus.prometheusSpec.resources.requests.memory);
        // The chart passes --config-reloader-cpu-request=0 etc. when its values leave them unset (the operator then sets
        // none): the program's values set them, and both pods' reloaders run with them.
        assert.deepStrictEqual(fixtureValues(KPS_FOLDER).prometheusOperator.prometheusConfigReloader.resources, {});
        const reloader = values.prometheusOperator.prometheusConfigReloader.resources;
        assert.deepStrictEqual(prometheus.containers[1], { name: "config-reloader", requests: reloader.requests, limits: reloader.limits });
        const alertmanager = workload(plan, "alertmanager-kps-alertmanager");
        assert.strictEqual(alertmanager.replicas, values.alertmanager.alertmanagerSpec.replicas);
        assert.strictEqual(alertmanager.containers[0].requests.memory, values.alertmanager.alertmanagerSpec.resources.requests.memory);
        // The operator, Grafana and kube-state-metrics: the chart's defaults are empty, the program's values set them.
        for (const [name, defaults, ours] of [
            ["kps-operator", fixtureValues(KPS_FOLDER).prometheusOperator.resources, values.prometheusOperator.resources],
            ["kps-grafana", fixtureValues(kpsSubchart("grafana")).resources, values.grafana.resources],
            ["kps-kube-state-metrics", fixtureValues(kpsSubchart("kube-state-metrics")).resources, values["kube-state-metrics"].resources],
        ] as const) {
            assert.deepStrictEqual(defaults, {});
            assert.deepStrictEqual(workload(plan, name).containers.map((c) => c.requests), [ours.requests], name);
        }
        // Grafana's sidecars are off in the program's values (kube-prometheus-stack's defaults turn two on).
        assert.strictEqual(values.grafana.sidecar.dashboards.enabled, false);
        assert.strictEqual(workload(plan, "kps-grafana").containers.length, 1);
    });

    it("merges like Helm: a map key the program leaves out keeps the chart's default, a null deletes it (OpenSearch Dashboards' CPU limit)", async () => {
        const plan = await planStack("cluster-01");
        const values = chartValues(plan, "opensearch-dashboards");
        const chartLimits = fixtureValues(`${DASHBOARDS.chart}-${DASHBOARDS.version}`).resources.limits;
        assert.ok(chartLimits.cpu, "the chart's default has a CPU limit");
        assert.strictEqual(values.resources.limits.cpu, null, "the program deletes it");
        const dashboards = workload(plan, "opensearch-dashboards").containers[0];
        assert.strictEqual(dashboards.limits.cpu, undefined);
        assert.strictEqual(dashboards.limits.memory, values.resources.limits.memory);
        // Without the null, Helm's merge would keep the chart's 100m.
        const withoutNull = Object.fromEntries(Object.entries(values.resources.limits).filter(([k]) => k !== "cpu"));
        const kept = chartWorkloads({ chart: "opensearch-dashboards", version: charts.openSearchDashboards.version, values: { ...values, resources: { ...values.resources, limits: withoutNull } }, release: "x", namespace: "ns" });
        assert.strictEqual(kept.workloads[0].containers[0].limits.cpu, chartLimits.cpu);
    });

    it("DaemonSets × cluster-02's tenant nodes; per node where the config lists none", async () => {
        const plan02 = await planStack("cluster-02");
        const nodes = listedNodes(stackConfig("cluster-02")).length;
        assert.strictEqual(nodes, 4);
        const t02 = resourceTotals(plan02);
        assert.strictEqual(t02.nodes, nodes);
        const fluentBit = chartValues(plan02, "fluent-bit");
        const nodeExporter = chartValues(plan02, "prometheus-node-exporter");
        const daemonSetMemory = nodes * (q(fluentBit.resources.requests.memory) + q(nodeExporter.resources.requests.memory));
        const standing = t02.workloads.filter((w) => w.replicas !== undefined);
        const standingMemory = standing.reduce((sum, w) => sum + w.replicas! * w.containers.reduce((s, c) => s + q(c.requests.memory ?? 0), 0), 0);
        assert.strictEqual(t02.memoryRequests, standingMemory + daemonSetMemory);
        assert.strictEqual(t02.perNode.containers, 0);

        const t03 = resourceTotals(await planStack("cluster-03"));
        assert.strictEqual(t03.nodes, undefined);
        assert.strictEqual(t03.perNode.memoryRequests, q(fluentBit.resources.requests.memory) + q(nodeExporter.resources.requests.memory));
        assert.match(formatTotals(t03), /\n {2}\+ per node, × nodes \(2 DaemonSets; this stack's config does not list its nodes\): requests: cpu [\d.]+ cores, memory \d+Mi; limits: no CPU limit, memory \d+Mi$/);
        // An explicit node count (the bench assumes one) counts them in.
        assert.strictEqual(resourceTotals(await planStack("cluster-03"), { nodes: 3 }).memoryRequests, t03.memoryRequests + 3 * t03.perNode.memoryRequests);
    });

    it("cluster-01's total is the program's workloads plus every chart's, sidecars included; its Job is named as not counted", async () => {
        const plan = await planStack("cluster-01");
        // The program's own pods, from their manifests: replicas × every container.
        let own = 0;
        for (const r of plan.resources) {
            const m = manifest(r);
            if (!["Deployment", "StatefulSet"].includes(m?.kind)) continue;
            for (const c of m.spec.template.spec.containers) own += (m.spec.replicas ?? 1) * q(c.resources?.requests?.memory ?? 0);
        }
        const memcached = plan.resources.map(manifest).find((m) => m?.kind === "StatefulSet" && m.metadata.name === "cluster-01-memcached");
        assert.deepStrictEqual(memcached.spec.template.spec.containers.map((c: any) => c.name), ["memcached", "exporter"], "the exporter sidecar is a container of the pod");
        const os = chartValues(plan, "opensearch");
        const kps = chartValues(plan, "kube-prometheus-stack", "kps");
        const dashboards = chartValues(plan, "opensearch-dashboards");
        const charts =
            os.replicas * q(os.resources.requests.memory) +
            kps.prometheus.prometheusSpec.replicas * q(kps.prometheus.prometheusSpec.resources.requests.memory) +
            kps.alertmanager.alertmanagerSpec.replicas * q(kps.alertmanager.alertmanagerSpec.resources.requests.memory) +
            dashboards.replicaCount * q(dashboards.resources.requests.memory) +
            // The config reloader of every Prometheus and Alertmanager pod.
            (kps.prometheus.prometheusSpec.replicas + kps.alertmanager.alertmanagerSpec.replicas) * q(kps.prometheusOperator.prometheusConfigReloader.resources.requests.memory) +
            // One copy each of the operator, Grafana and kube-state-metrics.
            q(kps.prometheusOperator.resources.requests.memory) +
            q(kps.grafana.resources.requests.memory) +
            q(kps["kube-state-metrics"].resources.requests.memory);
        const t = resourceTotals(plan);
        assert.strictEqual(t.memoryRequests, own + charts);
        assert.ok(t.memoryRequests > own + 16 * GiB, "OpenSearch alone asks 12Gi beyond the program's own");
        assert.deepStrictEqual(t.uncounted.map((u) => u.name), [`Job logging/${plan.resources.map(manifest).find((m) => m?.kind === "Job").metadata.name}`]);
    });

    it('"no CPU limit", never "0.00 cores"', async () => {
        const text = formatTotals(resourceTotals(await planStack("cluster-03")));
        // No container of cluster-03 sets a CPU limit; every one sets a memory limit.
        assert.match(text, /^Total requests: cpu [\d.]+ cores, memory \d+Mi; limits: no CPU limit, memory \d+Mi\n/);
        assert.ok(!/0\.00 cores/.test(text), text);
    });

    it("lists by name what it cannot count: a chart without a model, extra containers given as a template string, an autoscaled Deployment", () => {
        const none = chartWorkloads({ chart: "some-chart", version: "1.0.0", release: "foo", namespace: "ns", values: {} });
        assert.deepStrictEqual(none, { workloads: [], uncounted: [{ source: "chart some-chart 1.0.0", name: "release foo", why: "no workload model for chart some-chart in tools/chartWorkloads.ts: its pods are not in the totals" }] });
        const templated = chartWorkloads({ chart: OPENSEARCH.chart, version: OPENSEARCH.version, release: "opensearch", namespace: "logging", values: { extraContainers: "- name: {{ .Values.x }}" } });
        assert.deepStrictEqual(templated.uncounted.map((u) => u.name), ["opensearch-cluster-master (extraContainers)"]);
        const scaled = chartWorkloads({ chart: FLUENT_BIT.chart, version: FLUENT_BIT.version, release: "fluent-bit", namespace: "logging", values: { kind: "Deployment", autoscaling: { enabled: true } } });
        assert.deepStrictEqual(scaled, { workloads: [], uncounted: [{ source: `chart fluent-bit ${FLUENT_BIT.version}`, name: "fluent-bit", why: "autoscaling.enabled: a HorizontalPodAutoscaler decides its replicas" }] });
    });

    it("counts sidecars the values turn on, and the operator's 200Mi memory request of an Alertmanager that sets none", () => {
        const kps = chartWorkloads({
            chart: KPS.chart,
            version: KPS.version,
            release: "kps",
            namespace: "monitoring",
            values: {
                fullnameOverride: "kps",
                alertmanager: { alertmanagerSpec: { resources: { limits: { cpu: "1" } } } },
                grafana: { sidecar: { resources: { requests: { cpu: "10m", memory: "20Mi" } } } },
                prometheusOperator: { prometheusConfigReloader: { resources: { requests: { cpu: "5m" } } } },
            },
        });
        const am = kps.workloads.find((w) => w.name === "alertmanager-kps-alertmanager");
        assert.deepStrictEqual(am?.containers, [
            { name: "alertmanager", requests: { cpu: "1", memory: "200Mi" }, limits: { cpu: "1" } },
            { name: "config-reloader", requests: { cpu: "5m" }, limits: {} },
        ]);
        // kube-prometheus-stack's defaults turn on Grafana's dashboards and datasources sidecars.
        const grafana = kps.workloads.find((w) => w.name === "kps-grafana");
        assert.deepStrictEqual(grafana?.containers.map((c) => [c.name, c.requests.memory]), [["grafana", undefined], ["grafana-sc-dashboards", "20Mi"], ["grafana-sc-datasources", "20Mi"]]);
        // With the defaults, node-exporter is a subchart DaemonSet too.
        assert.ok(kps.workloads.some((w) => w.kind === "DaemonSet" && w.name === "kps-prometheus-node-exporter"));
    });

    it("counts a native sidecar of the program's pods (an init container that keeps running), not a one-shot init container", () => {
        const deployment = {
            kind: "Deployment",
            metadata: { name: "app", namespace: "ns" },
            spec: {
                replicas: 2,
                template: {
                    spec: {
                        initContainers: [
                            { name: "setup", resources: { requests: { cpu: "1" } } },
                            { name: "proxy", restartPolicy: "Always", resources: { requests: { cpu: "100m", memory: new SecretValue("64Mi") } } },
                        ],
                        containers: [{ name: "app", resources: { limits: { cpu: "500m", memory: "1Gi" } } }],
                    },
                },
            },
        };
        const plan = { stack: "x", outputs: {}, resources: [{ urn: "u", type: "kubernetes:apps/v1:Deployment", name: "app", parent: "", custom: true, inputs: deployment, protect: false, retainOnDelete: false, ignoreChanges: [], dependencies: [] }] } as Plan;
        const t = resourceTotals(plan);
        assert.strictEqual(t.cpuRequests, 2 * (0.5 + 0.1)); // a limit without a request is requested at the limit
        assert.strictEqual(t.memoryRequests, 2 * (GiB + 64 * 1024 ** 2));
        assert.strictEqual(t.withoutCpuLimit, 2);
    });
});

describe("plan: the command", () => {
    it("prints the summary like pulumi preview, says the edge planned cluster-01 first, and reports progress on stderr", async () => {
        const r = await run(["cluster-03"]);
        assert.strictEqual(r.status, EXIT.ok, r.stderr);
        const plan = await planStack("cluster-03");
        assert.ok(r.stdout.includes(resourceSummary(plan)));
        assert.match(r.stdout, new RegExp(`\nResources:\n {4}\\+ ${plan.resources.length} to create\n`));
        assert.match(r.stdout, / {6}3 kubernetes:helm\.sh\/v4:Chart\n/);
        assert.ok(r.stdout.includes("Planned cluster-01 first: cluster-03 reads its outputs through the stack reference organization/agent-receiver/cluster-01"), r.stdout);
        assert.ok(r.stdout.includes("logging-node/fluent-bit"), "the chart workloads are in the table");
        assert.match(r.stderr, /^plan: planning cluster-03\n/);
        assert.ok(!r.stdout.includes("plan: "), "progress stays off stdout");
    });

    it("--help prints the usage and plans nothing; it is never taken for a stack", async () => {
        for (const flag of ["--help", "-h"]) {
            const r = await run([flag, "cluster-03"]);
            assert.strictEqual(r.status, EXIT.ok);
            assert.match(r.stdout, /^usage: npm run plan -- \[--diff\] <stack>/);
            assert.match(r.stdout, /\n {2}1 {2}with --diff: differs from the committed plan\n/);
            assert.strictEqual(r.stderr, "");
        }
        const bad = await run(["--verbose", "cluster-03"]);
        assert.strictEqual(bad.status, EXIT.error);
        assert.match(bad.stderr, /^unknown option --verbose\n\nusage: /);
    });

    it("an unknown stack names the stacks that exist (exit 2, no stack trace, from the real script)", () => {
        const r = spawnSync(process.execPath, ["--require", "tsx/cjs", path.join(ROOT, "scripts", "plan.ts"), "cluster-9"], { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(r.status, EXIT.error);
        assert.strictEqual(r.stdout, "");
        assert.strictEqual(r.stderr, 'error: unknown stack "cluster-9": there is no Pulumi.cluster-9.yaml. Stacks (one per Pulumi.<stack>.yaml): cluster-01, cluster-02, cluster-03, cluster-04\n');
    });

    it("a YAML mistake in cluster-01's file while planning cluster-03 names that file, its line, and why it was read", async () => {
        const dir = stackFilesWith("cluster-01", (t) => t.replace(/^ {4}writers:$/m, "    writers: x: y"));
        const line = fs.readFileSync(path.join(dir, "Pulumi.cluster-01.yaml"), "utf8").split("\n").indexOf("    writers: x: y") + 1;
        const r = await run(["cluster-03"], { dir });
        assert.strictEqual(r.status, EXIT.error);
        assert.strictEqual(
            r.stderr.split("\n").slice(2).join("\n"),
            `error: ${dir}/Pulumi.cluster-01.yaml:${line}:14: Nested mappings are not allowed in compact mappings (not valid YAML)\n\n` +
                "    writers: x: y\n             ^\n" +
                `(while planning cluster-03: cluster-03 reads cluster-01's outputs through the stack reference organization/agent-receiver/cluster-01 ` +
                `(agent-receiver:edge.centralStack in ${dir}/Pulumi.cluster-03.yaml), so cluster-01's stack file ${dir}/Pulumi.cluster-01.yaml is read and planned first)\n`,
        );
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("a stack file without a config map is named, not parsed into nonsense", () => {
        const dir = tmpDir("stack-files-");
        fs.writeFileSync(path.join(dir, "Pulumi.cluster-07.yaml"), "config:\n  - agent-receiver:role\n");
        assert.throws(() => readStackFile("cluster-07", dir), (e: Error) => {
            assert.ok(e instanceof PlanError);
            assert.strictEqual(e.message, `${dir}/Pulumi.cluster-07.yaml: expected a map with the stack's settings under "config:" (as pulumi config set writes it)`);
            return true;
        });
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("an edge tenant missing from the central writers is named as the tenant to add (the real files, end to end)", async () => {
        const dir = stackFilesWith("cluster-01", (t) => t.replace("        tenants: [a, b]", "        tenants: [a]").replace("tenants: [cluster-02-b]", "tenants: [cluster-02-a]"));
        let unhandled: unknown;
        const listener = (reason: unknown) => (unhandled = reason);
        process.on("unhandledRejection", listener);
        try {
            const r = await run(["cluster-02"], { dir });
            await new Promise((resolve) => setTimeout(resolve, 50));
            assert.strictEqual(r.status, EXIT.error);
            const progress = r.stderr.split("\n").filter((l) => l.startsWith("plan: "));
            assert.deepStrictEqual(progress.slice(0, 3), [
                "plan: planning cluster-02",
                "plan: cluster-02: planning cluster-01 first: cluster-02 reads its outputs through the stack reference organization/agent-receiver/cluster-01 (agent-receiver:edge.centralStack)",
                "plan: cluster-01: running the program under the mock runtime",
            ]);
            assert.match(progress[3], /^plan: cluster-01: \d+ resources in \d+\.\d s$/);
            assert.strictEqual(
                r.stderr.split("\n").filter((l) => !l.startsWith("plan: ")).join("\n"),
                'error: stack "cluster-02": writer(s) cluster-02-b not registered on the central stack (known: cluster-01, cluster-02-a, cluster-03, cluster-04). ' +
                    "To fix: add tenant(s) b to the tenants of writer cluster-02 in agent-receiver:central.writers (Pulumi.cluster-01.yaml), then run pulumi up --stack cluster-01 before this stack.\n",
            );
            // The refusal is reported once: no copy of it escapes as an unhandled rejection (a stack trace, then exit).
            assert.strictEqual(unhandled, undefined);
        } finally {
            process.off("unhandledRejection", listener);
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    describe("--diff against the committed plan", () => {
        function goldenWith(edit: (text: string) => string): string {
            const dir = tmpDir("golden-");
            const text = fs.readFileSync(path.join(ROOT, "plans", "cluster-03.yaml"), "utf8");
            const changed = edit(text);
            assert.notStrictEqual(changed, text);
            fs.writeFileSync(path.join(dir, "cluster-03.yaml"), changed);
            return dir;
        }

        it("the same plan: exit 0", async () => {
            const r = await run(["--diff", "cluster-03"]);
            assert.strictEqual(r.status, EXIT.ok);
            assert.match(r.stdout, /\nNo differences from plans\/cluster-03\.yaml\.\n/);
        });

        it("a difference: exit 1, each resource with the lines that differ; colour only on a terminal without NO_COLOR", async () => {
            // The agent's memory request as planned (derived from its expected series), changed in the committed plan.
            const sts = (await planStack("cluster-03")).resources.map(manifest).find((m) => m?.kind === "StatefulSet" && m.metadata.name === "prometheus-agent");
            const request: string = sts.spec.template.spec.containers[0].resources.requests.memory;
            const goldenDir = goldenWith((t) => t.replace(`memory: ${request}`, "memory: 180Mi"));
            const r = await run(["--diff", "cluster-03"], { goldenDir });
            assert.strictEqual(r.status, EXIT.differs);
            assert.match(
                r.stdout,
                new RegExp(
                    "  ~ kubernetes:apps/v1:StatefulSet  cluster-03-agent-statefulset\n" +
                        "      @@ -\\d+,\\d+ \\+\\d+,\\d+ @@\n" +
                        "(?:      .*\n)*?" +
                        "      -                memory: 180Mi\n" +
                        `      \\+                memory: ${request}\n`,
                ),
            );
            assert.match(r.stdout, /\n {2}0 to create, 0 to delete, 1 to update\n/);
            assert.ok(!r.stdout.includes("\x1b["), "no colour into a pipe");
            const tty = await run(["--diff", "cluster-03"], { goldenDir, tty: true });
            assert.ok(tty.stdout.includes("\x1b[31m      -") || tty.stdout.includes("      \x1b[31m-                memory: 180Mi\x1b[39m"), tty.stdout);
            const noColour = await run(["--diff", "cluster-03"], { goldenDir, tty: true, env: { NO_COLOR: "1" } });
            assert.strictEqual(noColour.stdout, r.stdout);
            fs.rmSync(goldenDir, { recursive: true, force: true });
        });

        it("a resource only in this checkout is one to create, one only in the committed plan one to delete", async () => {
            const goldenDir = goldenWith((t) => {
                const doc = parse(t);
                const i = doc.resources.findIndex((r: any) => r.type === "kubernetes:core/v1:ServiceAccount");
                doc.resources[i] = { ...doc.resources[i], urn: doc.resources[i].urn.replace(/::([^:]+)$/, "::old-$1"), name: `old-${doc.resources[i].name}` };
                return JSON.stringify(doc);
            });
            const r = await run(["--diff", "cluster-03"], { goldenDir });
            assert.strictEqual(r.status, EXIT.differs);
            assert.match(r.stdout, /\n {2}\+ kubernetes:core\/v1:ServiceAccount {2}cluster-03-\S+\n {2}- kubernetes:core\/v1:ServiceAccount {2}old-cluster-03-\S+\n {2}1 to create, 1 to delete, 0 to update\n/);
            fs.rmSync(goldenDir, { recursive: true, force: true });
        });
    });
});
