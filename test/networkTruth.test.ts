/**
 * Network truth: the policies each stack declares, evaluated (tools/networkPolicyEvaluator.ts) on the stack's real
 * pods, allow exactly the flow table of stacks/network.ts: every flow in it, no other pair of platform workloads,
 * nothing outside the cluster but the named addresses, nothing between tenants. A self-test shows the check failing
 * on a policy that misses a flow and on an allow-all.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { Endpoint as TableEndpoint, Flow, Workload, centralNetwork, edgeNetwork } from "../stacks/network";
import { Endpoint, Pod, World, connection, side } from "../tools/networkPolicyEvaluator";
import { stackConfig } from "../tools/stacks";
import { podsOf, worldOf } from "./helpers/network";
import { NETWORK_PAGES, withNetworkSection } from "../scripts/network-docs";
import { ROOT } from "../tools/plan";
import { STACKS, planStack } from "./helpers/plan";
import { EXTERNAL_WRITER_EXAMPLE, TRACING_EXAMPLE, centralWithExtensions } from "../tools/extensionExamples";

/** The flow table the program built for this stack, from its configuration (and, on an edge, the contract). */
async function tableOf(stack: string): Promise<Flow[]> {
    const cfg = stackConfig(stack);
    if (cfg.central) return centralNetwork(cfg.central).flows;
    const central = await planStack(cfg.edge!.centralStack.split("/").pop()!);
    const o = central.outputs as Record<string, string>;
    return edgeNetwork(cfg.clusterName, cfg.edge!, { centralStack: cfg.edge!.centralStack, receiveLoadBalancerIP: o.receiveLoadBalancerIP, logsLoadBalancerIP: o.logsLoadBalancerIP }).flows;
}

function selects(w: Workload, p: Pod): boolean {
    return p.namespace === w.namespace && Object.entries(w.labels ?? {}).every(([k, v]) => p.labels[k] === v);
}

/** A port to try on a destination: the flow's ports, or for "any port" the destination's first container port. */
function portsOf(f: Flow, dst?: Pod): number[] {
    return f.ports ? [...f.ports] : [dst?.ports?.[0]?.containerPort ?? 8080];
}

function firstAddress(cidr: string): string {
    const [base, bits] = cidr.split("/");
    if (bits === "32") return base;
    const parts = base.split(".").map(Number);
    parts[3] += 1;
    return parts.join(".");
}

/** Every way the world differs from the table; empty when the policies implement it exactly. */
function violations(world: World, pods: Pod[], flows: Flow[]): string[] {
    const out: string[] = [];
    // A flow from outside the cluster (the edges through a LoadBalancer) covers no pod: Cilium matches an ipBlock to
    // outside addresses only.
    const from = (f: Flow, p: Pod) => f.from.kind === "pods" && selects(f.from, p);
    const covered = (src: Pod, dst: Pod, port: number) =>
        flows.some((f) => from(f, src) && f.to.kind === "pods" && selects(f.to, dst) && (f.ports === undefined || f.ports.includes(port)));
    // 1. Every flow in the table is allowed.
    for (const f of flows) {
        // A flow from outside (the edges through a LoadBalancer): an address in each range reaches the port.
        if (f.from.kind !== "pods") {
            const dsts = pods.filter((p) => selects(f.to as Workload, p));
            for (const dst of dsts) for (const cidr of f.from.cidrs) for (const port of f.ports ?? []) {
                const v = side(world, dst, "Ingress", { ip: firstAddress(cidr) }, { pod: dst }, port);
                if (v.isolated && v.allowedBy.length === 0) out.push(`denied, but in the table: ${firstAddress(cidr)} → ${dst.name}:${port} (${f.purpose})`);
            }
            for (const dst of dsts) for (const port of f.ports ?? []) {
                const v = side(world, dst, "Ingress", { ip: "203.0.113.10" }, { pod: dst }, port);
                if (!v.isolated || v.allowedBy.length > 0) out.push(`an address outside ${f.from.id} reaches ${dst.name}:${port} (by ${v.allowedBy.join(", ") || "no ingress policy"})`);
            }
            continue;
        }
        const sources = pods.filter((p) => selects(f.from as Workload, p));
        if (sources.length === 0) out.push(`no pod runs ${f.from.id} (${f.from.namespace})`);
        for (const src of sources) {
            const targets: { ep: Endpoint; name: string; pod?: Pod }[] =
                f.to.kind === "pods"
                    ? pods.filter((p) => selects(f.to as Workload, p)).map((p) => ({ ep: { pod: p }, name: p.name, pod: p }))
                    : f.to.kind === "entity"
                      ? f.to.entities.map((entity) => ({ ep: { entity }, name: entity }))
                      : f.to.cidrs.map((c) => ({ ep: { ip: firstAddress(c) }, name: firstAddress(c) }));
            if (targets.length === 0) out.push(`no destination for ${f.from.id} → ${(f.to as TableEndpoint).id}`);
            for (const t of targets) {
                for (const port of portsOf(f, t.pod)) {
                    if (!connection(world, src, t.ep, port).allowed) out.push(`denied, but in the table: ${src.name} → ${t.name}:${port} (${f.purpose})`);
                }
            }
        }
    }
    // 2. No other pair of platform pods: every port a destination exposes, from every other pod.
    for (const src of pods) {
        for (const dst of pods) {
            for (const port of (dst.ports ?? []).map((p) => p.containerPort)) {
                if (covered(src, dst, port)) continue;
                const v = connection(world, src, { pod: dst }, port);
                if (v.allowed) out.push(`allowed, but not in the table: ${src.name} → ${dst.name}:${port} (by ${[...v.egress.allowedBy, ...(v.ingress?.allowedBy ?? [])].join(", ") || "no policy"})`);
            }
        }
    }
    // 3. Outside the cluster: only the named addresses, only for the workloads the table names.
    const externals = flows.filter((f) => f.to.kind === "external");
    for (const src of pods) {
        for (const port of [80, 443, 9000, 9200, 8080, 6443]) {
            const probe = connection(world, src, { ip: "203.0.113.10" }, port);
            if (probe.allowed) out.push(`reaches the internet: ${src.name} → 203.0.113.10:${port} (by ${probe.egress.allowedBy.join(", ") || "no egress policy"})`);
            for (const f of externals) {
                for (const cidr of (f.to as { cidrs: readonly string[] }).cidrs) {
                    const mine = externals.some((g) => from(g, src) && g.to.id === f.to.id && (g.ports ?? []).includes(port));
                    if (!mine && connection(world, src, { ip: firstAddress(cidr) }, port).allowed) out.push(`reaches ${f.to.id} without a flow: ${src.name} → ${firstAddress(cidr)}:${port}`);
                }
            }
        }
    }
    return out;
}

describe("network truth: the declared policies allow exactly the flow table", () => {
    for (const stack of STACKS) {
        it(`${stack}: every flow allowed, no other pair of platform pods, nothing outside but the named addresses`, async () => {
            const plan = await planStack(stack);
            const found = violations(worldOf(plan), podsOf(plan), await tableOf(stack));
            assert.deepStrictEqual(found, []);
        });
    }

    it("cluster-02: tenant A's and B's workloads cannot reach each other, and each agent sees only its own tenant", async () => {
        const plan = await planStack("cluster-02");
        const world = worldOf(plan);
        const pods = podsOf(plan);
        const cfg = stackConfig("cluster-02");
        const o = (await planStack("cluster-01")).outputs as Record<string, string>;
        const net = edgeNetwork("cluster-02", cfg.edge!, { centralStack: cfg.edge!.centralStack, receiveLoadBalancerIP: o.receiveLoadBalancerIP, logsLoadBalancerIP: o.logsLoadBalancerIP });
        const tenantPods = (t: string) => {
            const w = net.scopes.find((x) => x.tenant === t)!.w;
            const workloads = [w.agent, w.kubeStateMetrics, w.taintJob!, ...w.tenantNamespaces];
            return pods.filter((p) => workloads.some((x) => selects(x, p)));
        };
        const a = tenantPods("a");
        const b = tenantPods("b");
        assert.strictEqual(a.length, 4, a.map((p) => p.name).join());
        assert.strictEqual(b.length, 4, b.map((p) => p.name).join());
        for (const [x, y] of [[a, b], [b, a]]) {
            for (const src of x) for (const dst of y) for (const port of [8080, 9090, ...(dst.ports ?? []).map((p) => p.containerPort)]) {
                assert.ok(!connection(world, src, { pod: dst }, port).allowed, `${src.name} → ${dst.name}:${port}`);
            }
        }
    });

    it("cluster-01: the exposed UIs reach only their backends: Grafana not Alertmanager's API nor Prometheus, Dashboards only OpenSearch", async () => {
        const plan = await planStack("cluster-01");
        const world = worldOf(plan);
        const pods = podsOf(plan);
        const byName = (n: string) => pods.find((p) => p.name === n)!;
        const grafana = byName("monitoring/grafana");
        const dashboards = byName("logging/opensearch-dashboards");
        for (const [dst, port] of [["monitoring/alertmanager", 9093], ["monitoring/prometheus", 9090], ["thanos/thanos-query", 10902], ["thanos/thanos-receive", 19291]] as const) {
            assert.ok(!connection(world, grafana, { pod: byName(dst) }, port).allowed, `grafana → ${dst}:${port}`);
        }
        assert.ok(connection(world, grafana, { pod: byName("thanos/thanos-query-frontend") }, 10902).allowed);
        for (const p of pods.filter((x) => x.name !== "logging/opensearch")) {
            for (const port of (p.ports ?? []).map((x) => x.containerPort)) assert.ok(!connection(world, dashboards, { pod: p }, port).allowed, `dashboards → ${p.name}:${port}`);
        }
    });

    it("cluster-01 with the README's external writer and tracing: its range reaches Receive's remote-write port only, the Thanos components the collector, nothing else", async () => {
        const dir = centralWithExtensions();
        const plan = await planStack("cluster-01", { dir });
        const flows = centralNetwork(stackConfig("cluster-01", dir).central!).flows;
        // The table holds the extension flows, so the check below covers them.
        assert.deepStrictEqual(flows.filter((f) => f.from.id === "external-writers").map((f) => `${(f.to as Workload).id}:${f.ports}`), ["receive:19291"]);
        assert.deepStrictEqual(flows.filter((f) => f.purpose === "tracing").map((f) => `${(f.from as Workload).id}:${f.ports}`), ["receive:4317", "query:4317", "query-frontend:4317", "store:4317", "compactor:4317", "ruler:4317"]);
        const world = worldOf(plan);
        const pods = podsOf(plan);
        assert.deepStrictEqual(violations(world, pods, flows), []);
        // Its range reaches no other exposed port (the edges' OpenSearch flow is not its).
        const writer = { ip: firstAddress(EXTERNAL_WRITER_EXAMPLE.sourceRanges[0]) };
        const byName = (n: string) => pods.find((p) => p.name === n)!;
        for (const [dst, port] of [["logging/opensearch", 9200], ["thanos/thanos-receive", 10901], ["thanos/thanos-receive", 10902]] as const) {
            const v = side(world, byName(dst), "Ingress", writer, { pod: byName(dst) }, port);
            assert.ok(v.isolated && v.allowedBy.length === 0, `${writer.ip} → ${dst}:${port} (by ${v.allowedBy.join(", ")})`);
        }
        // The collector's port (which the generic probes above do not try): the Thanos pods only, and only there.
        const collector = { ip: firstAddress(TRACING_EXAMPLE.cidr) };
        const thanos = new Set(flows.filter((f) => f.purpose === "tracing").map((f) => (f.from as Workload).id));
        for (const src of pods) {
            const traced = flows.some((f) => f.purpose === "tracing" && selects(f.from as Workload, src));
            assert.strictEqual(connection(world, src, collector, 4317).allowed, traced, `${src.name} → ${collector.ip}:4317`);
            assert.ok(!connection(world, src, { ip: "203.0.113.10" }, 4317).allowed, `${src.name} → 203.0.113.10:4317`);
        }
        assert.strictEqual(thanos.size, 6);
    });

    it("self-test: the check fails on a policy that misses a needed flow, and on an allow-all", async () => {
        const plan = await planStack("cluster-03");
        const pods = podsOf(plan);
        const flows = await tableOf("cluster-03");
        const world = worldOf(plan);
        const missing: World = { ...world, policies: world.policies.filter((p) => p.name !== "kube-state-metrics") };
        assert.ok(violations(missing, pods, flows).some((v) => v.startsWith("denied, but in the table:") && v.includes("kube-state-metrics:8080")));
        const allowAll: World = { ...world, policies: [...world.policies, { kind: "NetworkPolicy", namespace: "monitoring", name: "allow-all", spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{}], egress: [{}] } }] };
        const found = violations(allowAll, pods, flows);
        assert.ok(found.some((v) => v.startsWith("reaches the internet:")), "an allow-all reaches the internet");
        assert.ok(found.some((v) => v.startsWith("allowed, but not in the table:")), "and pairs outside the table");
    });
});

describe("the flow table in the docs", () => {
    for (const rel of NETWORK_PAGES) {
        it(`${rel} shows the flow table as generated (npm run docs:network)`, () => {
            const page = fs.readFileSync(path.join(ROOT, rel), "utf8");
            assert.strictEqual(page, withNetworkSection(page, rel), `${rel} differs from stacks/network.ts: run npm run docs:network`);
            assert.match(page, /```mermaid\nflowchart LR/);
        });
    }
});
