/**
 * `npm run bench`, agents: the generated agent beside a default one in the same run, at two loads, with real
 * Prometheus processes (Debian's 2.42) on loopback.
 *
 * 1. Memory: RSS after a warm-up at each load, against the memory request the program generates for that load (the
 *    stack planned with `edge.agent.expectedSeries` set to it): FAILS when the request is below the measured RSS.
 * 2. Drain: a Receive outage, then its backlog drained: peak RSS against the generated memory limit (FAILS when the
 *    limit is below it), drain speed against the build speed, reshardings, failed samples.
 * 3. Shutdown: SIGTERM during an outage. The generated agent (fixed shards, short flush deadline: option b) against
 *    the settings before (flush deadline = edge.survivableOutage, shards 1-10, grace 120 s: option a): how long each
 *    takes to exit against its grace (FAILS when a generated agent outlives its own), what it drops, and what the
 *    option-a agent does once the receiver is back.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { parseQuantity } from "../../lib/k8s";
import { AGENT_MEMORY, agentMemory } from "../../lib/sizing";
import { ROOT, planStack } from "../../tools/plan";
import { BENCH_INFRA, SERIES_PER_APP_POD, startLoadServer } from "./agentLoad";
import {
    Harness,
    agentArgs,
    currentRss,
    freePort,
    generatedAgentFlags,
    generatedAgentResources,
    generatedAgentShutdown,
    localAgentConfig,
    metricSum,
    peakRss,
    remoteWriteLag,
    sleep,
    waitFor,
} from "./harness";

/** The two loads: expected series per agent, and the application pods that (with the infrastructure shapes) make them. */
export const AGENT_LOADS = [
    { expectedSeries: 27_000, appPods: 4 },
    { expectedSeries: 57_000, appPods: 10 },
] as const;
const WARMUP_S = 600;
const RSS_WINDOW_S = 60;
const OUTAGE_S = 300;
/** An agent has drained when its lag is below this (one scrape interval and the batch deadline). */
const DRAINED_LAG_S = 40;
/** The shutdown: SIGTERM this long into a second outage; the receiver comes back after the option-a agent's grace. */
const STOP_AFTER_S = 30;
/** The grace the agents had before this change (option a keeps it). */
const OPTION_A_GRACE_S = 120;

interface Agent {
    readonly name: string;
    readonly kind: "generated" | "default" | "option-a";
    readonly load: (typeof AGENT_LOADS)[number];
    readonly port: number;
    pid: number;
    child: ReturnType<Harness["start"]>;
    /** What the program generates for this load (generated agents only). */
    readonly request?: number;
    readonly limit?: number;
    steadyRss?: number;
    series?: number;
    steadyShards?: number;
}

const mib = (b: number) => `${(b / 1024 ** 2).toFixed(1)} MiB`;

/** cluster-03 planned with its agent expecting `series` (the stack file, changed in a copy). */
async function planForLoad(series: number) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-receiver-bench-stacks-"));
    for (const f of ["Pulumi.yaml", "Pulumi.cluster-01.yaml"]) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
    const doc = parse(fs.readFileSync(path.join(ROOT, "Pulumi.cluster-03.yaml"), "utf8"));
    doc.config["agent-receiver:edge"].agent.expectedSeries = series;
    fs.writeFileSync(path.join(dir, "Pulumi.cluster-03.yaml"), stringify(doc));
    try {
        return await planStack("cluster-03", { dir });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function reshardings(h: Harness, name: string): number {
    return fs.readFileSync(h.file(`${name}.log`), "utf8").split("\n").filter((l) => l.includes("Remote storage resharding")).length;
}

function droppedOnShutdown(h: Harness, name: string): number {
    const m = /Failed to flush all samples on shutdown" count=(\d+)/.exec(fs.readFileSync(h.file(`${name}.log`), "utf8"));
    return m ? Number(m[1]) : 0;
}

export async function benchAgents(h: Harness): Promise<{ failures: string[] }> {
    const failures: string[] = [];
    const certs = h.certificates("cluster-03");
    const nodePort = await freePort();
    h.start("node-exporter", [`--web.listen-address=127.0.0.1:${nodePort}`], "prometheus-node-exporter");
    const receiverPort = await freePort();
    const receiverArgs = h.receiverArgs(receiverPort, certs);
    let receiver = h.start("receiver", receiverArgs);

    const agents: Agent[] = [];
    let scrapeInterval = "";
    for (const load of AGENT_LOADS) {
        const plan = await planForLoad(load.expectedSeries);
        const generated = (plan.outputs.agentConfigs as Record<string, string>)["cluster-03"];
        scrapeInterval = parse(generated).global.scrape_interval;
        const server = startLoadServer(h, await freePort(), load.appPods);
        const resources = generatedAgentResources(plan);
        const kinds: Agent["kind"][] = load === AGENT_LOADS[0] ? ["generated", "default", "option-a"] : ["generated", "default"];
        for (const kind of kinds) {
            const name = `${kind}-${load.expectedSeries / 1000}k`;
            const port = await freePort();
            const cfg = localAgentConfig(h, generated, {
                exporter: server.address,
                nodeExporter: `127.0.0.1:${nodePort}`,
                agentPort: port,
                receiverPort,
                certs,
                scrapeInterval,
                scrapeTimeout: parse(generated).global.scrape_timeout,
                pods: server.podTargets,
                sdDir: `sd-${name}`,
            });
            cfg.global.external_labels = { cluster: `cluster-03-${name}` };
            let flags = generatedAgentFlags(plan);
            if (kind === "default") {
                // Prometheus' own remote-write defaults and flags: the same scrape jobs, so the same series.
                delete cfg.remote_write[0].queue_config;
                flags = [];
            }
            if (kind === "option-a") {
                // The settings before this change: flush deadline = edge.survivableOutage, shards 1-10 (same grace, 120 s).
                cfg.remote_write[0].queue_config.min_shards = 1;
                cfg.remote_write[0].queue_config.max_shards = 10;
                flags = flags.map((f) => (f.startsWith("--storage.remote.flush-deadline=") ? "--storage.remote.flush-deadline=2h" : f));
            }
            fs.writeFileSync(h.file(`${name}.yml`), stringify(cfg));
            const child = h.start(name, agentArgs(h, name, port, flags));
            agents.push({
                name,
                kind,
                load,
                port,
                pid: child.pid as number,
                child,
                ...(kind === "generated"
                    ? { request: parseQuantity(resources.requests.memory), limit: parseQuantity(resources.limits.memory) }
                    : {}),
            });
        }
        const s = server.series;
        console.log(
            `  load ${load.expectedSeries.toLocaleString("en")}: ${load.appPods} application pods × ${SERIES_PER_APP_POD.toLocaleString("en")} series (70 % histogram buckets, 30 % counters) + cAdvisor ${s.cadvisor}, ` +
                `kubelet ${s.kubelet}, kube-state-metrics ${s.kubeStateMetrics} series before the drop lists (${BENCH_INFRA.containers} containers, ${BENCH_INFRA.pods} pods, ${BENCH_INFRA.objects} objects) + a real node-exporter`,
        );
    }
    const generatedShutdown = generatedAgentShutdown(await planForLoad(AGENT_LOADS[0].expectedSeries));
    const intervalS = Number(/^(\d+)s$/.exec(scrapeInterval)?.[1] ?? NaN);
    if (!Number.isFinite(intervalS)) throw new Error(`scrape interval ${scrapeInterval}: expected whole seconds`);
    console.log(`  every agent scrapes every ${scrapeInterval} (the generated interval), writes to one receiver over mTLS; agents: ${agents.map((a) => a.name).join(", ")}`);

    // 1. Memory after the warm-up.
    h.log(`warm-up ${WARMUP_S}s ...`);
    await waitFor("agents sending", 120, () => agents.every((a) => metricSum(a.port, "prometheus_remote_storage_samples_total") > 0));
    await sleep((WARMUP_S - RSS_WINDOW_S) * 1000);
    const rss = new Map<string, number>();
    for (let t = 0; t < RSS_WINDOW_S; t += 10) {
        for (const a of agents) rss.set(a.name, Math.max(rss.get(a.name) ?? 0, currentRss(a.pid)));
        await sleep(10000);
    }
    console.log(`\n## 2. Agent memory: RSS (highest VmRSS over the last ${RSS_WINDOW_S} s of a ${WARMUP_S / 60}-minute warm-up), generated vs default agent, same run`);
    console.log(`  (lib/sizing.ts's figures were measured the same way: ${AGENT_MEMORY.measuredWith})`);
    for (const a of agents) {
        a.steadyRss = rss.get(a.name) ?? 0;
        a.series = metricSum(a.port, "prometheus_agent_active_series", { required: true });
        a.steadyShards = metricSum(a.port, "prometheus_remote_storage_shards", { required: true });
        const gen = a.request === undefined ? "" : ` | generated request ${mib(a.request)}, limit ${mib(a.limit!)}`;
        console.log(`  ${a.name.padEnd(14)} ${String(a.series).padStart(6)} series  ${String(a.steadyShards).padStart(2)} shards  RSS ${mib(a.steadyRss).padStart(8)}  ${(a.steadyRss / a.series).toFixed(0)} B/series${gen}`);
        if (a.request !== undefined && a.request < a.steadyRss) failures.push(`${a.name}: generated memory request ${mib(a.request)} is below the measured RSS ${mib(a.steadyRss)}`);
    }
    // RSS = fixed + per series × series + per shard × shards: the series term from the two default agents, the shard
    // term from each generated agent over the default one at the same load.
    const [dLo, dHi] = agents.filter((a) => a.kind === "default");
    const perSeries = (dHi.steadyRss! - dLo.steadyRss!) / (dHi.series! - dLo.series!);
    const perShard = agents
        .filter((a) => a.kind === "generated")
        .map((g) => {
            const d = g.load === dLo.load ? dLo : dHi;
            return (g.steadyRss! - d.steadyRss! - perSeries * (g.series! - d.series!)) / (g.steadyShards! - d.steadyShards!);
        });
    const fixed = dLo.steadyRss! - perSeries * dLo.series! - Math.max(...perShard) * dLo.steadyShards!;
    console.log(
        `  fitted: ${perSeries.toFixed(0)} B per series, ${perShard.map((b) => mib(b)).join(" and ")} per shard, ${mib(fixed)} fixed ` +
            `(lib/sizing.ts AGENT_MEMORY: ${AGENT_MEMORY.bytesPerSeries} B, ${mib(AGENT_MEMORY.bytesPerShard)}, ${mib(AGENT_MEMORY.fixedBytes)}; request = that × ${AGENT_MEMORY.v3Margin} for v3, limit = request × ${AGENT_MEMORY.drainPeakRatio} for the drain)`,
    );
    for (const a of agents.filter((x) => x.kind === "generated")) {
        console.log(`  lib/sizing.ts for the measured ${a.series} series and ${a.steadyShards} shards: request ${mib(agentMemory(a.series!, a.steadyShards!).requestBytes)} (planned for ${a.load.expectedSeries}: ${mib(a.request!)})`);
    }

    // 2. An outage, then the drain.
    await h.stop(receiver);
    h.log(`receiver down for ${OUTAGE_S}s ...`);
    await sleep(OUTAGE_S * 1000);
    const sent0 = new Map(agents.map((a) => [a.name, metricSum(a.port, "prometheus_remote_storage_samples_total")]));
    receiver = h.start("receiver", receiverArgs);
    const t0 = Date.now();
    const drained = new Map<string, { seconds: number; sent: number }>();
    await waitFor("every backlog drained", 600, () => {
        for (const a of agents) {
            if (drained.has(a.name) || remoteWriteLag(a.port) >= DRAINED_LAG_S) continue;
            drained.set(a.name, { seconds: (Date.now() - t0) / 1000, sent: metricSum(a.port, "prometheus_remote_storage_samples_total") - sent0.get(a.name)! });
        }
        return drained.size === agents.length;
    });
    await sleep(60000);
    console.log(`\n## 3. Drain: ${OUTAGE_S} s of Receive outage, then its backlog (includes the receiver's start-up; timing disturbed by a shared machine)`);
    for (const a of agents) {
        const peak = peakRss(a.pid);
        const { seconds: drainS, sent } = drained.get(a.name)!;
        const ratio = sent / Math.max(drainS, 1) / (a.series! / intervalS);
        const gen = a.limit === undefined ? "" : ` | generated limit ${mib(a.limit)}`;
        console.log(
            `  ${a.name.padEnd(14)} peak RSS ${mib(peak).padStart(8)} (${(peak / a.steadyRss!).toFixed(2)} × steady)  drained in ${drainS.toFixed(0)} s, ${ratio.toFixed(0)} × the build rate  ` +
                `reshardings ${reshardings(h, a.name)}  failed ${metricSum(a.port, "prometheus_remote_storage_samples_failed_total")}${gen}`,
        );
        if (a.limit !== undefined && a.limit < peak) failures.push(`${a.name}: generated memory limit ${mib(a.limit)} is below the drain's peak RSS ${mib(peak)}`);
    }

    // 3. SIGTERM during an outage.
    await h.stop(receiver);
    await sleep(STOP_AFTER_S * 1000);
    const graceOf = (a: Agent) => (a.kind === "option-a" ? OPTION_A_GRACE_S : generatedShutdown.graceSeconds);
    console.log(
        `\n## 6. Shutdown: SIGTERM ${STOP_AFTER_S} s into an outage; generated (option b): flush deadline ${generatedShutdown.flushDeadlineSeconds} s, grace ${generatedShutdown.graceSeconds} s; ` +
            `option a: flush deadline 2h, grace ${OPTION_A_GRACE_S} s; default: flush deadline 1m (measured against the generated grace)`,
    );
    const sigtermAt = Date.now();
    const exits = agents.map((a) => new Promise<number>((r) => a.child.once("exit", () => r((Date.now() - sigtermAt) / 1000))));
    for (const a of agents) a.child.kill("SIGTERM");
    const longest = Math.max(...agents.map(graceOf)) * 1000;
    const within = await Promise.all(exits.map((e) => Promise.race([e, sleep(longest).then(() => undefined)])));
    const running = agents.filter((_, i) => within[i] === undefined);
    if (running.length > 0) {
        h.log(`${running.map((a) => a.name).join(", ")} still running ${longest / 1000} s after SIGTERM; receiver back`);
        receiver = h.start("receiver", receiverArgs);
    }
    const exitS = await Promise.all(exits.map((e) => Promise.race([e, sleep(300000).then(() => Infinity)])));
    agents.forEach((a, i) => {
        const inGrace = exitS[i] <= graceOf(a);
        const how =
            within[i] !== undefined
                ? `exited by itself after ${exitS[i].toFixed(0)} s (${inGrace ? "within" : "BEYOND"} its ${graceOf(a)} s grace${inGrace ? "" : ": the kubelet would kill it"})`
                : `still running ${longest / 1000} s after SIGTERM (the kubelet kills it at ${graceOf(a)} s); exited ${exitS[i].toFixed(0)} s after SIGTERM, once the receiver was back`;
        console.log(`  ${a.name.padEnd(14)} ${how}; dropped on shutdown: ${droppedOnShutdown(h, a.name)} samples${/Failed to flush metadata/.test(fs.readFileSync(h.file(`${a.name}.log`), "utf8")) ? "; waited for a metadata send too" : ""}`);
        if (a.kind === "generated" && !inGrace) failures.push(`${a.name}: exited ${exitS[i].toFixed(0)} s after SIGTERM, beyond its ${graceOf(a)} s grace`);
    });
    await h.stop(receiver);
    return { failures };
}
