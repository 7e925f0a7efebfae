/**
 * `npm run bench`: figures, and two failures: a generated agent memory request below the RSS measured at its load,
 * or a generated limit below the drain's peak (exit 1). Needs Debian's prometheus and prometheus-node-exporter.
 * About 25 minutes (a 10-minute warm-up and a 5-minute outage dominate).
 *
 * 1. Plan time of each stack and of all four (`npm run plan`, a fresh process each).
 * 2-3, 6. The generated agent beside a default one, at two loads, at the generated scrape interval
 *    (scripts/lib/benchAgents.ts): RSS after a warm-up against the generated request; a Receive outage drained, peak
 *    RSS against the generated limit; SIGTERM during an outage, generated (option b) against option a.
 * 4. Filtering (scripts/lib/benchFiltering.ts): bytes and samples per infrastructure job with the generated keep-lists
 *    vs the same config without them, a real node-exporter plus cAdvisor/kubelet/kube-state-metrics-shaped targets.
 * 5. Resource budget per cluster from the plans at the stated load, beside the design notes' "After" figures.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { allWriterIds, parseFlatConfig } from "../lib/config";
import { parseQuantity } from "../lib/k8s";
import { centralSizing } from "../lib/sizing";
import { ROOT, planStack, readStackFile, resourceTotals } from "../tools/plan";
import { STACKS } from "../tools/stacks";
import { benchAgents } from "./lib/benchAgents";
import { benchFiltering } from "./lib/benchFiltering";
import { Harness } from "./lib/harness";

/** The design notes' "After" figures (platform-design-notes.ko.md, "After (최적화 후)"). */
const SEED_AFTER = { central: { cpu: 9.7, memoryGi: 22 }, edge: { cpu: 0.5, memoryGi: 0.55 }, networkReduction: 0.46 };

const h = new Harness("bench");

function has(bin: string): boolean {
    try {
        execFileSync("sh", ["-c", `command -v ${bin}`]);
        return true;
    } catch {
        return false;
    }
}

function timeIt(fn: () => void): number {
    const t0 = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t0) / 1e9;
}

function benchPlans(): void {
    console.log("\n## 1. Plan time (npm run plan, fresh process, includes TypeScript start-up)");
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    const run = (stacks: string[]) => timeIt(() => execFileSync(tsx, [path.join(ROOT, "scripts", "plan.ts"), ...stacks], { cwd: ROOT, stdio: "ignore" }));
    for (const s of STACKS) console.log(`  ${s.padEnd(12)} ${run([s]).toFixed(2)} s`);
    console.log(`  ${"all".padEnd(12)} ${run([...STACKS]).toFixed(2)} s`);
}

async function benchBudget(): Promise<void> {
    console.log("\n## 5. Resource budget per cluster (requests: the program's workloads + what the charts' values set, DaemonSets x nodes)");
    const central = readStackFile("cluster-01");
    const c = parseFlatConfig("cluster-01", central.flat, (k) => central.secretKeys.includes(k)).central!;
    const sizing = centralSizing(c, allWriterIds(c));
    console.log(
        `  stated load (the committed stack files): ${Object.entries(sizing.expectedSeries).map(([w, n]) => `${w} ${n}`).join(", ")} expected series ` +
            `(central.expectedSeries, each edge's edge.agent.expectedSeries): ${sizing.totalExpectedSeries} at Receive, ${Math.round(sizing.receive.inMemorySeries.expected)} head series per receiver (RF ${c.receive.replicationFactor} over ${c.receive.replicas})`,
    );
    for (const stack of STACKS) {
        const plan = await planStack(stack);
        // Node counts: cluster-02's tenant nodes from its config; otherwise an assumed 3 (an untenanted cluster's
        // config does not list its nodes).
        const file = readStackFile(stack);
        const cfg = parseFlatConfig(stack, file.flat, (k) => file.secretKeys.includes(k));
        const tenantNodes = (cfg.edge?.tenants ?? []).flatMap((t) => t.nodes).length;
        const cfgNodes = tenantNodes > 0 ? tenantNodes : 3;
        // Every workload, the charts' included (their pinned defaults merged with our values), DaemonSets x nodes.
        const t = resourceTotals(plan, { nodes: cfgNodes });
        const cpu = t.cpuRequests;
        const mem = t.memoryRequests;
        const role = stack === "cluster-01" ? "central" : "edge";
        const seed = SEED_AFTER[role];
        console.log(`  ${stack} (${role}, ${cfgNodes} nodes${cfgNodes === 3 ? " assumed" : ""}): cpu ${cpu.toFixed(2)} cores, memory ${(mem / 1024 ** 3).toFixed(2)} Gi   | design notes "After": cpu ${seed.cpu}, memory ${seed.memoryGi} Gi`);
        for (const u of t.uncounted) console.log(`    not counted: ${u.name} (${u.source}): ${u.why}`);
        const unset = t.workloads.filter((w) => w.containers.every((c) => !c.requests.cpu && !c.requests.memory)).map((w) => w.name);
        if (unset.length > 0) console.log(`    no requests set (counted as 0): ${unset.join(", ")}`);
        // What the budget is made of: each workload's requests times its copies, largest first.
        const copies = (w: (typeof t.workloads)[number]) => w.replicas ?? cfgNodes;
        const sum = (w: (typeof t.workloads)[number], k: "cpu" | "memory") => copies(w) * w.containers.reduce((x, c) => x + parseQuantity(c.requests[k] ?? "0"), 0);
        const parts = [...t.workloads].sort((a, b) => sum(b, "memory") - sum(a, "memory"));
        console.log(`    made of: ${parts.map((w) => `${w.name}×${copies(w)} ${sum(w, "cpu").toFixed(2)} cpu ${(sum(w, "memory") / 1024 ** 3).toFixed(2)} Gi`).join("; ")}`);
    }
}

async function main(): Promise<void> {
    benchPlans();
    await benchBudget();
    if (!has("prometheus") || !has("prometheus-node-exporter")) {
        console.log("\n## 2-4, 6. skipped: install Debian's prometheus and prometheus-node-exporter (apt-get install prometheus prometheus-node-exporter)");
        return;
    }
    console.log("\n## Agents at two loads (scripts/lib/benchAgents.ts)");
    const { failures } = await benchAgents(h);
    // Filtering: bytes and samples per infrastructure job with and without the generated keep-lists
    // (scripts/lib/benchFiltering.ts, its own processes; README, "Metric filtering").
    console.log("\n## Filtering per infrastructure job (scripts/lib/benchFiltering.ts)");
    await benchFiltering();
    h.log(`done in ${((Date.now() - h.started) / 60000).toFixed(0)} minutes`);
    if (failures.length > 0) throw new Error(`the generated agent's memory does not hold what was measured:\n  ${failures.join("\n  ")}`);
}

// Exit explicitly: the exposition servers and keep-alive sockets would keep Node running after the last step, and
// the exit handler stops every process and server the harness started.
main().then(() => process.exit(0), (e) => {
    h.log(`FAILED: ${e instanceof Error ? e.message : e}`);
    for (const f of ["receiver"]) console.log(`--- ${f}.log\n${h.tail(f, 8)}`);
    process.exit(1);
});
