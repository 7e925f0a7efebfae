/**
 * `npm run bench`: figures, and two failures: a generated agent memory request below the RSS measured at its load,
 * or a generated limit below the drain's peak (exit 1). Needs Debian's prometheus and prometheus-node-exporter.
 * About 25 minutes (a 10-minute warm-up and a 5-minute outage dominate).
 *
 * 1. Plan time of each stack and of all four (`npm run plan`, a fresh process each).
 * 2-3, 6. The generated agent beside a default one, at two loads, at the generated scrape interval
 *    (scripts/lib/benchAgents.ts): RSS after a warm-up against the generated request; a Receive outage drained, peak
 *    RSS against the generated limit; SIGTERM during an outage, generated (option b) against option a.
 * 4. Filtering: samples/s and bytes/s sent with the generated drop lists vs the same config without them, scraping a
 *    real node-exporter plus synthetic expositions shaped like cAdvisor, kubelet and kube-state-metrics output.
 * 5. Resource budget per cluster from the plans at the stated load, beside the design notes' "After" figures.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { parse, stringify } from "yaml";
import { allWriterIds, parseFlatConfig } from "../lib/config";
import { parseQuantity } from "../lib/k8s";
import { centralSizing } from "../lib/sizing";
import { ROOT, planStack, readStackFile, resourceTotals } from "../tools/plan";
import { STACKS } from "../tools/stacks";
import { benchAgents } from "./lib/benchAgents";
import { Harness, agentArgs, freePort, generatedAgentFlags, localAgentConfig, metricSum, sleep, waitFor } from "./lib/harness";

const STEADY_S = 90;
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

/** Expositions shaped like the real ones the drop lists target: per container, pod, ReplicaSet, ConfigMap, Secret. */
function startExporter(port: number, scale: { containers: number; pods: number; objects: number }): void {
    const cadvisor: string[] = [];
    const kubelet: string[] = [];
    const ksm: string[] = [];
    for (let i = 0; i < scale.containers; i++) {
        const l = `container="c${i}",namespace="ns${i % 20}",pod="p${i}",id="/kubepods/pod${i}/c${i}",image="registry.example/app:${i % 7}"`;
        for (const m of ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes", "container_network_receive_bytes_total", "container_network_transmit_bytes_total", "container_fs_usage_bytes"]) cadvisor.push(`${m}{${l}} ${i}`);
        for (const st of ["sleeping", "running", "stopped", "uninterruptible", "iowaiting"]) cadvisor.push(`container_tasks_state{${l},state="${st}"} 0`);
        for (const [ft, sc] of [["pgfault", "container"], ["pgfault", "hierarchy"], ["pgmajfault", "container"], ["pgmajfault", "hierarchy"]]) cadvisor.push(`container_memory_failures_total{${l},failure_type="${ft}",scope="${sc}"} 1`);
        for (const m of ["container_fs_reads_merged_total", "container_fs_writes_merged_total", "container_fs_sector_reads_total", "container_fs_sector_writes_total", "container_fs_io_time_seconds_total", "container_sockets", "container_threads", "container_threads_max", "container_file_descriptors", "container_last_seen", "container_spec_memory_swap_limit_bytes"]) cadvisor.push(`${m}{${l}} 1`);
    }
    for (const verb of ["GET", "PUT", "POST", "PATCH"]) {
        for (let host = 0; host < 5; host++) {
            for (const le of ["0.005", "0.025", "0.1", "0.25", "0.5", "1", "2", "4", "8", "15", "30", "60", "+Inf"]) kubelet.push(`rest_client_request_duration_seconds_bucket{verb="${verb}",host="h${host}",le="${le}"} 1`);
        }
    }
    kubelet.push('kubelet_volume_stats_used_bytes{namespace="ns0",persistentvolumeclaim="data"} 1');
    for (let i = 0; i < scale.pods; i++) {
        const l = `namespace="ns${i % 20}",pod="p${i}"`;
        ksm.push(`kube_pod_info{${l},node="n${i % 8}"} 1`, `kube_pod_container_status_restarts_total{${l},container="c"} 0`, `kube_pod_owner{${l},owner_kind="ReplicaSet"} 1`);
        for (const ph of ["Pending", "Running", "Succeeded", "Failed", "Unknown"]) ksm.push(`kube_pod_status_phase{${l},phase="${ph}"} ${ph === "Running" ? 1 : 0}`);
        for (const r of ["cpu", "memory"]) ksm.push(`kube_pod_container_resource_requests{${l},container="c",resource="${r}"} 1`);
        ksm.push(`kube_pod_tolerations{${l},key="node.kubernetes.io/not-ready"} 1`, `kube_pod_tolerations{${l},key="node.kubernetes.io/unreachable"} 1`, `kube_pod_created{${l}} 1`, `kube_pod_status_scheduled_time{${l}} 1`);
    }
    for (let i = 0; i < scale.objects; i++) {
        const n = `namespace="ns${i % 20}"`;
        for (const m of ["kube_replicaset_owner", "kube_replicaset_spec_replicas", "kube_replicaset_status_replicas", "kube_replicaset_metadata_generation", "kube_replicaset_created", "kube_replicaset_labels"]) ksm.push(`${m}{${n},replicaset="rs${i}"} 1`);
        for (const m of ["kube_configmap_info", "kube_configmap_created", "kube_configmap_metadata_resource_version"]) ksm.push(`${m}{${n},configmap="cm${i}"} 1`);
        for (const m of ["kube_secret_info", "kube_secret_type", "kube_secret_created", "kube_secret_metadata_resource_version"]) ksm.push(`${m}{${n},secret="s${i}"} 1`);
    }
    const bodies: Record<string, string> = { "/cadvisor": cadvisor.join("\n") + "\n", "/kubelet": kubelet.join("\n") + "\n", "/ksm": ksm.join("\n") + "\n" };
    const server = http.createServer((req, res) => {
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
        res.end(bodies[req.url ?? ""] ?? "\n");
    });
    server.listen(port, "127.0.0.1");
    h.onCleanup(() => server.close());
    console.log(`  synthetic series: cAdvisor ${cadvisor.length}, kubelet ${kubelet.length}, kube-state-metrics ${ksm.length}`);
}

/** Filtering: the same scrape jobs with and without the drop lists. */
async function benchFiltering(): Promise<void> {
    const plan03 = await planStack("cluster-03");
    const generated = (plan03.outputs.agentConfigs as Record<string, string>)["cluster-03"];
    const flags = generatedAgentFlags(plan03);
    const certs = h.certificates("cluster-03");
    const p = { exporter: await freePort(), node: await freePort(), receiver: await freePort(), filtered: await freePort(), unfiltered: await freePort() };
    console.log("\n## Targets");
    startExporter(p.exporter, { containers: 400, pods: 400, objects: 300 });
    h.start("node-exporter", [`--web.listen-address=127.0.0.1:${p.node}`], "prometheus-node-exporter");
    // The generated scrape interval and timeout.
    const global = (parse(generated) as { global: { scrape_interval: string; scrape_timeout: string } }).global;
    const base = { exporter: `127.0.0.1:${p.exporter}`, nodeExporter: `127.0.0.1:${p.node}`, receiverPort: p.receiver, certs, scrapeInterval: global.scrape_interval, scrapeTimeout: global.scrape_timeout, sdDir: "sd-filtering" };

    const filtered = localAgentConfig(h, generated, { ...base, agentPort: p.filtered });
    const unfiltered = localAgentConfig(h, generated, { ...base, agentPort: p.unfiltered });
    unfiltered.global.external_labels = { cluster: "cluster-03-unfiltered" };
    for (const job of unfiltered.scrape_configs) job.metric_relabel_configs = [];
    fs.writeFileSync(h.file("filtered.yml"), stringify(filtered));
    fs.writeFileSync(h.file("unfiltered.yml"), stringify(unfiltered));

    const receiverArgs = h.receiverArgs(p.receiver, certs);
    const receiver = h.start("receiver", receiverArgs);
    h.start("filtered", agentArgs(h, "filtered", p.filtered, flags));
    h.start("unfiltered", agentArgs(h, "unfiltered", p.unfiltered, flags));
    await waitFor("agents sending", 60, () => metricSum(p.filtered, "prometheus_remote_storage_samples_total") > 0);
    h.log(`steady state for ${STEADY_S}s ...`);
    await sleep(30000);
    const t0 = Date.now();
    const s0 = { f: metricSum(p.filtered, "prometheus_remote_storage_samples_total"), u: metricSum(p.unfiltered, "prometheus_remote_storage_samples_total") };
    const b0 = { f: metricSum(p.filtered, "prometheus_remote_storage_bytes_total"), u: metricSum(p.unfiltered, "prometheus_remote_storage_bytes_total") };
    await sleep((STEADY_S - 30) * 1000);
    const dt = (Date.now() - t0) / 1000;
    const rate = (a: number, b: number) => (b - a) / dt;
    const sF = rate(s0.f, metricSum(p.filtered, "prometheus_remote_storage_samples_total"));
    const sU = rate(s0.u, metricSum(p.unfiltered, "prometheus_remote_storage_samples_total"));
    const bF = rate(b0.f, metricSum(p.filtered, "prometheus_remote_storage_bytes_total"));
    const bU = rate(b0.u, metricSum(p.unfiltered, "prometheus_remote_storage_bytes_total"));

    console.log("\n## 4. Filtering (drop lists), steady state over the last 60 s");
    console.log(`  with drop lists    ${sF.toFixed(0)} samples/s, ${(bF / 1024).toFixed(1)} KiB/s`);
    console.log(`  without            ${sU.toFixed(0)} samples/s, ${(bU / 1024).toFixed(1)} KiB/s`);
    console.log(`  reduction          samples ${(100 * (1 - sF / sU)).toFixed(0)} %, bytes ${(100 * (1 - bF / bU)).toFixed(0)} %  (design notes: -${SEED_AFTER.networkReduction * 100} % network)`);
    console.log("  (the share depends on how much of a cluster's series the listed metrics are; the synthetic shape is above)");

    await h.stop(receiver);
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
    console.log("\n## Filtering targets");
    await benchFiltering();
    h.log(`done in ${((Date.now() - h.started) / 60000).toFixed(0)} minutes`);
    if (failures.length > 0) throw new Error(`the generated agent's memory does not hold what was measured:\n  ${failures.join("\n  ")}`);
}

// Exit explicitly: the exposition servers and keep-alive sockets would keep Node running after the last step, and
// the exit handler stops every process and server the harness started.
main().then(() => process.exit(0), (e) => {
    h.log(`FAILED: ${e instanceof Error ? e.message : e}`);
    for (const f of ["filtered", "unfiltered", "receiver"]) console.log(`--- ${f}.log\n${h.tail(f, 8)}`);
    process.exit(1);
});
