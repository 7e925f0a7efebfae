/**
 * `npm run e2e`: the edge agent's configuration, as the program generates it for cluster-03, run by a real
 * Prometheus in agent mode (Debian's 2.42, with the compatibility rendering of lib/agentConfig.ts), writing over
 * mTLS to a real Prometheus with the remote-write receiver standing in for Thanos Receive. Loopback only.
 *
 * What is kept exactly as generated: external labels, remote_write (queue settings, write relabelling, TLS client
 * certificate), every job's relabel and metric_relabel rules (the keep-lists). What is changed, and why:
 * - scrape targets come from file_sd files pointing at a local exposition server (no Kubernetes here), with the
 *   `__meta_kubernetes_*` labels the jobs' relabel rules read;
 * - kubelet/cAdvisor jobs scrape plain HTTP (no kubelet certificates here); node-exporter's port is the local one;
 * - the scrape interval is 5 s (timeout 4 s) instead of the configured one, so that an outage of a minute holds a
 *   dozen samples;
 * - the remote-write URL is the local receiver, and the certificate files are ones made here with openssl.
 *
 * Shown: samples arrive with the cluster label; dropped metrics never arrive; a 65 s outage of the receiver with the
 * agent running loses nothing and drains within DRAIN_BOUND_S (each scrape of the synthetic target carries a sequence
 * number); a second outage with a configuration change reloaded in the middle (what the agent's config-reloader
 * sidecar does on `pulumi up`): nothing is lost, because a reload keeps the remote-write queue and its backlog; a third
 * outage with the agent stopped in the middle (SIGTERM, what the kubelet sends; then started again, as its StatefulSet
 * does): the agent exits by itself within the pod's termination grace (its flush deadline, read from the plan, then
 * the drop of what it still holds), scrapes nothing while it stops, and every sample taken after the restart arrives.
 * What it loses is counted and must be exactly what the README says ("Shutdown"): the samples taken from the last one
 * the receiver accepted before the outage until the stop — Prometheus does not re-send a WAL's unsent samples after a
 * restart (upstream prometheus/prometheus#8809), which is why the program reloads instead of restarting.
 * Last, an existing Prometheus outside the stacks, configured with the README's remote_write block, writes as its own
 * tenant through a stand-in for Receive's tenancy (`externalWriterWritesAsItsOwnTenant`).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { stringify } from "yaml";
import { externalWriterRemoteWrite } from "../lib/externalWriter";
import { usedMetrics } from "../lib/usedMetrics";
import { EXTERNAL_WRITER_EXAMPLE, centralWithExtensions } from "../tools/extensionExamples";
import { planStack } from "../tools/plan";
import { Certificates, Harness, agentArgs, freePort, generatedAgentFlags, generatedAgentShutdown, getJson, keepAlso, localAgentConfig, metricSum, sleep, waitFor } from "./lib/harness";
import { RECEIVE_PATH, startTenantRouter } from "./lib/tenantRouter";

const STACK = "cluster-03";
const OUTAGE_S = 65;
const RELOAD_OUTAGE_S = 45;
/** The third outage: the agent is stopped this long after it began, and runs again this long before it ends. */
const STOP_AFTER_S = 20;
const RUN_AFTER_RESTART_S = 30;
/** The backlog of a 65 s outage (about 13 scrapes of each target) must be sent within this many seconds. */
const DRAIN_BOUND_S = 60;
/** The external writer's case, from its plan to its series in its own tenant. */
const EXTERNAL_WRITER_BOUND_S = 60;
/** About 4 minutes on an idle machine; the bound leaves room for a loaded one, well under CI's 10 minutes. */
const TOTAL_BOUND_S = 480 + EXTERNAL_WRITER_BOUND_S;

const h = new Harness("e2e");
const log = (m: string) => h.log(m);

/**
 * The synthetic targets: shaped like cAdvisor and kube-state-metrics output (with series the drop lists target),
 * and a sequence number per scrape of kube-state-metrics that proves no scraped sample is lost.
 */
function startExporter(port: number): { served: number[]; servedAt: number[] } {
    const served: number[] = [];
    const servedAt: number[] = [];
    const server = http.createServer((req, res) => {
        const lines: string[] = [];
        if (req.url === "/cadvisor") {
            lines.push('container_cpu_usage_seconds_total{container="app",namespace="default",pod="p"} 12.5');
            lines.push('container_tasks_state{container="app",namespace="default",pod="p",state="sleeping"} 3');
            lines.push('container_memory_failures_total{container="app",namespace="default",pod="p",failure_type="pgfault",scope="container"} 9');
        } else if (req.url === "/ksm") {
            served.push(served.length + 1);
            servedAt.push(Date.now());
            lines.push(`e2e_scrape_sequence ${served.length}`);
            lines.push('kube_pod_container_status_restarts_total{namespace="default",pod="p",container="app"} 0');
            lines.push('kube_replicaset_owner{namespace="default",replicaset="r",owner_kind="Deployment",owner_name="d"} 1');
            lines.push('kube_secret_info{namespace="default",secret="s"} 1');
        } else {
            lines.push("node_load1 0.5");
        }
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
        res.end(lines.join("\n") + "\n");
    });
    server.listen(port, "127.0.0.1");
    h.onCleanup(() => server.close());
    return { served, servedAt };
}

async function main(): Promise<void> {
    const plan = await planStack(STACK);
    const generated = (plan.outputs.agentConfigs as Record<string, string>)[STACK];
    const writer = STACK;
    const certs = h.certificates(writer);
    const ports = { exporter: await freePort(), agent: await freePort(), receiver: await freePort() };
    const exporter = startExporter(ports.exporter);
    const local = `127.0.0.1:${ports.exporter}`;
    const cfg = localAgentConfig(h, generated, {
        exporter: local,
        nodeExporter: local,
        agentPort: ports.agent,
        receiverPort: ports.receiver,
        certs,
        // 5 s instead of the configured interval, so that an outage of a minute holds a dozen samples.
        scrapeInterval: "5s",
        scrapeTimeout: "4s",
    });
    // The sequence is no metric the platform uses: kept as edge.agent.keepMetrics would keep it.
    keepAlso(cfg, ["e2e_scrape_sequence"]);
    fs.writeFileSync(h.file("agent.yml"), stringify(cfg));
    const tls = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
    const rx = `https://127.0.0.1:${ports.receiver}`;
    const query = async (q: string) => (getJson(`${rx}/api/v1/query?query=${encodeURIComponent(q)}`, tls)).data.result as any[];

    // The receiver requires a client certificate signed by the CA, as Receive does.
    const receiverArgs = h.receiverArgs(ports.receiver, certs);
    const agentArgv = agentArgs(h, "agent", ports.agent, generatedAgentFlags(plan));
    const shutdown = generatedAgentShutdown(plan);
    let receiver = h.start("receiver", receiverArgs);
    const agent = h.start("agent", agentArgv);

    await waitFor("samples with cluster=cluster-03 at the receiver", 60, async () => (await query('count({cluster="cluster-03"})')).length > 0);
    log("samples arrive at the receiver with cluster=\"cluster-03\"");
    await sleep(10000);

    // Served here and read by no rule or dashboard: the keep-lists drop them.
    const unused = ["container_tasks_state", "container_memory_failures_total", "kube_secret_info"];
    if (unused.some((n) => usedMetrics().has(n))) throw new Error(`${unused.join(", ")}: one is used now; pick metrics no rule or dashboard reads`);
    const dropped = unused.join("|");
    const leaked = await query(`count by (__name__) ({__name__=~"${dropped}"})`);
    if (leaked.length > 0) throw new Error(`dropped metrics arrived: ${leaked.map((r) => r.metric.__name__).join(", ")}`);
    for (const kept of ["container_cpu_usage_seconds_total", "kube_pod_container_status_restarts_total", "node_load1", "e2e_scrape_sequence"]) {
        if ((await query(`count(${kept}{cluster="cluster-03"})`)).length === 0) throw new Error(`kept metric ${kept} did not arrive`);
    }
    const tenantLeak = await query('count({tenant_id!=""})');
    if (tenantLeak.length > 0) throw new Error("a tenant_id label arrived: the write relabelling must drop it");
    log("keep-lists hold: container_tasks_state, container_memory_failures_total, kube_secret_info never arrive; used metrics do");

    const agentCtl = { child: agent };
    const sequence = async () => {
        const window = Math.ceil((Date.now() - h.started) / 1000) + 60;
        const raw = await query(`e2e_scrape_sequence{cluster="cluster-03"}[${window}s]`);
        return new Set<number>(raw.flatMap((s) => s.values.map((v: [number, string]) => Number(v[1]))));
    };

    // Outage 1: the receiver is down for OUTAGE_S while the agent keeps running: every sample must arrive.
    const o1 = await outage(OUTAGE_S, "none");
    const got1 = await sequence();
    const missing1 = exporter.served.filter((n) => n <= o1.servedAtEnd && !got1.has(n));
    if (missing1.length > 0) throw new Error(`outage 1: samples taken but missing at the receiver: sequence ${missing1.join(", ")}`);
    log(`outage 1 (${OUTAGE_S}s, agent running): no sample missing (sequence 1..${o1.servedAtEnd}); drained in ${o1.drainS.toFixed(0)}s (bound ${DRAIN_BOUND_S}s)`);

    // Outage 2: a configuration change (a new scrape job; remote_write and external labels unchanged) is reloaded in
    // the middle, as the config-reloader sidecar does: the queue and its backlog survive, so nothing may be missing.
    const oReload = await outage(RELOAD_OUTAGE_S, "reload");
    const gotReload = await sequence();
    const missingReload = exporter.served.filter((n) => n <= oReload.servedAtEnd && !gotReload.has(n));
    if (missingReload.length > 0) throw new Error(`outage with a reload: samples missing: sequence ${missingReload.join(", ")}`);
    log(`outage 2 (${RELOAD_OUTAGE_S}s, config reloaded): no sample missing (sequence 1..${oReload.servedAtEnd}); drained in ${oReload.drainS.toFixed(0)}s`);
    // The agent's own account: nothing dropped as non-recoverable through both outages (a resharding early in an
    // outage would drop what the old shards hold once the flush deadline passes; the generated shards are fixed).
    const failed = metricSum(ports.agent, "prometheus_remote_storage_samples_failed_total", { required: true });
    if (failed !== 0) throw new Error(`the agent dropped ${failed} samples as non-recoverable during the outages`);
    log("agent counted 0 failed samples through outages 1 and 2");

    // Outage 3: the agent is stopped in the middle (SIGTERM) and started again. It must exit by itself within the
    // pod's termination grace; it scrapes nothing while it stops; every sample taken after the restart arrives; and it
    // loses exactly the samples taken from the last one the receiver accepted before the outage until the stop (the
    // README's "Shutdown"): Prometheus does not re-send them after a restart (upstream prometheus/prometheus#8809).
    const o3 = await outage(0, "stop");
    const stop = o3.stop!;
    const got3 = await sequence();
    const after = exporter.served.filter((n) => n <= o3.servedAtEnd && exporter.servedAt[n - 1] > stop.restartedAt);
    const missingAfter = after.filter((n) => !got3.has(n));
    if (missingAfter.length > 0) throw new Error(`outage 3: samples taken after the agent restart are missing: ${missingAfter.join(", ")}`);
    const whileStopping = exporter.served.filter((n) => exporter.servedAt[n - 1] > stop.sigtermAt && exporter.servedAt[n - 1] < stop.exitedAt);
    if (whileStopping.length > 0) throw new Error(`outage 3: the stopping agent still scraped (sequence ${whileStopping.join(", ")}): the README says it scrapes nothing while it stops`);
    const lost = exporter.served.filter((n) => n <= o3.servedAtEnd && !got3.has(n));
    const lastBeforeStop = exporter.served.filter((n) => exporter.servedAt[n - 1] <= stop.sigtermAt).length;
    const firstInOutage = exporter.served.find((n) => exporter.servedAt[n - 1] >= o3.start) ?? lastBeforeStop + 1;
    // Exactly the README's loss: one run of sequence numbers that ends with the last sample taken before the stop and
    // starts after the last one the receiver had before the outage, and no later than the first taken during it (a
    // sample in flight when the receiver stopped may or may not have been accepted).
    const expectedFrom = (k: number) => Array.from({ length: lastBeforeStop - k + 1 }, (_, i) => k + i);
    const starts = Array.from({ length: Math.max(0, firstInOutage - stop.deliveredBefore) }, (_, i) => stop.deliveredBefore + 1 + i);
    const matches = starts.some((k) => JSON.stringify(lost) === JSON.stringify(expectedFrom(k)));
    if (!matches) {
        throw new Error(
            `outage 3: lost sequence [${lost.join(", ")}], expected exactly the samples from after ${stop.deliveredBefore} (the receiver's last before the outage) to ${lastBeforeStop} (the last before the stop)`,
        );
    }
    log(`outage 3 (agent stopped ${STOP_AFTER_S}s into it): exited by itself after ${stop.exitS.toFixed(0)}s (flush deadline ${shutdown.flushDeadlineSeconds}s, grace ${shutdown.graceSeconds}s), scraped nothing while stopping; ` +
        `${after.length} samples taken after the restart all arrived; lost ${lost.length}, exactly the samples ${lost[0]}..${lastBeforeStop} taken between the receiver's last before the outage and the stop (README, "Shutdown"; prometheus/prometheus#8809)`);

    async function outage(seconds: number, change: "none" | "reload" | "stop") {
        const deliveredBefore = change === "stop" ? Number((await query(`max_over_time(e2e_scrape_sequence{cluster="cluster-03"}[10m])`))[0].value[1]) : 0;
        const t0 = Date.now();
        let stop: { deliveredBefore: number; sigtermAt: number; exitedAt: number; exitS: number; restartedAt: number } | undefined;
        await h.stop(receiver);
        log(change === "stop" ? `receiver stopped: the agent is stopped ${STOP_AFTER_S}s into the outage, which ends ${RUN_AFTER_RESTART_S}s after it runs again` : `receiver stopped: outage of ${seconds}s${change === "none" ? "" : ` with an agent ${change}`}`);
        if (change === "reload") {
            await sleep((seconds / 2) * 1000);
            const changed = { ...cfg, scrape_configs: [...cfg.scrape_configs, { job_name: "e2e-reload", static_configs: [{ targets: [local] }] }] };
            fs.writeFileSync(h.file("agent.yml"), stringify(changed));
            const res = await fetch(`http://127.0.0.1:${ports.agent}/-/reload`, { method: "POST" });
            if (!res.ok) throw new Error(`reload refused: HTTP ${res.status} ${await res.text()}`);
            const loaded = getJson(`http://127.0.0.1:${ports.agent}/api/v1/status/config`).data.yaml as string;
            if (!loaded.includes("job_name: e2e-reload")) throw new Error("the reloaded configuration is not the new one");
            log("configuration changed and reloaded during the outage (a new scrape job)");
        }
        if (change === "stop") {
            await sleep(STOP_AFTER_S * 1000);
            const child = agentCtl.child;
            const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
            const sigtermAt = Date.now();
            child.kill("SIGTERM");
            // The kubelet kills the container when the grace period ends: the agent must be gone before.
            const result = await Promise.race([exited, sleep(shutdown.graceSeconds * 1000).then(() => undefined)]);
            const exitedAt = Date.now();
            if (result === undefined) {
                child.kill("SIGKILL");
                throw new Error(`outage 3: the agent did not exit within its termination grace (${shutdown.graceSeconds}s) after SIGTERM; the kubelet would kill it`);
            }
            if (result.code !== 0) throw new Error(`outage 3: the agent exited with code ${result.code} (signal ${result.signal}) after SIGTERM`);
            agentCtl.child = h.start("agent", agentArgv);
            await waitFor("agent ready after restart", 60, async () => (await fetch(`http://127.0.0.1:${ports.agent}/-/ready`)).ok);
            const restartedAt = Date.now();
            stop = { deliveredBefore, sigtermAt, exitedAt, exitS: (exitedAt - sigtermAt) / 1000, restartedAt };
            log(`agent stopped during the outage (SIGTERM): exited after ${stop.exitS.toFixed(0)}s; started again, WAL replayed`);
            await sleep(RUN_AFTER_RESTART_S * 1000);
        }
        await sleep(Math.max(0, seconds * 1000 - (Date.now() - t0)));
        const servedAtEnd = exporter.served.length;
        receiver = h.start("receiver", receiverArgs);
        const drainS = await waitFor(`backlog drained within ${DRAIN_BOUND_S}s`, DRAIN_BOUND_S, async () => {
            const r = await query(`max_over_time(e2e_scrape_sequence{cluster="cluster-03"}[10m])`);
            return r.length > 0 && Number(r[0].value[1]) >= servedAtEnd;
        });
        return { start: t0, servedAtEnd, drainS, stop };
    }

    await h.stop(agentCtl.child);
    await externalWriterWritesAsItsOwnTenant();

    const total = (Date.now() - h.started) / 1000;
    if (total > TOTAL_BOUND_S) throw new Error(`e2e took ${total.toFixed(0)}s, over its ${TOTAL_BOUND_S}s bound`);
    await h.stop(receiver);
    log(`PASS in ${total.toFixed(0)}s`);
}

/**
 * An existing Prometheus outside the stacks as a writer (README, "An existing Prometheus as a writer"). cluster-01 is
 * planned with the README's `central.externalWriters` entry; a plain Prometheus 2.42 (server mode, scraping itself)
 * runs the `remote_write` entry lib/externalWriter.ts renders, the README's block, with:
 * - a client certificate whose subject and usage are those of the plan's CertRequest and LocallySignedCert for that
 *   writer (made here with openssl from the CA of the first case: the mock runtime issues no real certificate);
 * - the plan's remote-write path at a local address, where a stand-in for Receive's tenancy (scripts/lib/tenantRouter.ts)
 *   requires the client certificate, takes the tenant from its Organization and stores into that tenant's TSDB (one
 *   for each writer the plan issued a certificate to).
 * Shown: its series arrive in its own tenant's TSDB (with `cluster` set to its id by the block's relabelling, no
 * `tenant_id` of its own), no request came in under another tenant, the writer counts no failed sample, and a client
 * without a certificate is refused.
 */
async function externalWriterWritesAsItsOwnTenant(): Promise<void> {
    const t0 = Date.now();
    const id = EXTERNAL_WRITER_EXAMPLE.id;
    const plan = await planStack("cluster-01", { dir: centralWithExtensions({ externalWriter: true }) });
    const issued = (suffix: string) => plan.resources.filter((r) => r.name.endsWith(suffix));
    const csr = issued(`-remote-write-pki-writer-${id}-csr`)[0]?.inputs as { subject: { organization: string; commonName: string } } | undefined;
    const signed = issued(`-remote-write-pki-writer-${id}-cert`)[0]?.inputs as { allowedUses: string[] } | undefined;
    if (!csr || !signed) throw new Error(`the plan issues no client certificate to ${id}`);
    if (!signed.allowedUses.includes("client_auth")) throw new Error(`${id}'s certificate is not for client authentication: ${signed.allowedUses.join(", ")}`);
    const client = h.clientCertificate(id, csr.subject, ["clientAuth"]);
    // One TSDB per tenant the plan issued a client certificate to: the writers Receive knows.
    const writers = plan.resources
        .filter((r) => r.type === "tls:index/certRequest:CertRequest" && /-remote-write-pki-writer-.+-csr$/.test(r.name))
        .map((r) => (r.inputs as { subject: { organization: string } }).subject.organization);
    if (!writers.includes(id)) throw new Error(`${id} is not among the writers the plan issued certificates to: ${writers.join(", ")}`);
    const ports = { router: await freePort(), tsdb: await freePort(), writer: await freePort() };
    // The first case's CA and server certificate (127.0.0.1), the writer's own client certificate.
    const certs: Certificates = { ca: h.file("ca.crt"), serverCert: h.file("server.crt"), serverKey: h.file("server.key"), clientCert: client.cert, clientKey: client.key };
    fs.writeFileSync(h.file("tenant-tsdb.yml"), "global: {}\n");
    const tsdb = h.start("tenant-tsdb", [
        `--config.file=${h.file("tenant-tsdb.yml")}`,
        `--storage.tsdb.path=${h.file("tenant-tsdb-data")}`,
        `--web.listen-address=127.0.0.1:${ports.tsdb}`,
        "--web.enable-remote-write-receiver",
    ]);
    const router = await startTenantRouter(ports.router, certs, { [id]: ports.tsdb });
    h.onCleanup(() => void router.close());

    const url = new URL(plan.outputs.receiveRemoteWriteUrl as string);
    if (url.pathname !== RECEIVE_PATH) throw new Error(`the plan's remote-write URL ${url} is not Receive's path ${RECEIVE_PATH}`);
    const config = {
        global: { scrape_interval: "5s", scrape_timeout: "4s" },
        scrape_configs: [{ job_name: "prometheus", static_configs: [{ targets: [`127.0.0.1:${ports.writer}`] }] }],
        remote_write: [externalWriterRemoteWrite({ writerId: id, url: `https://127.0.0.1:${ports.router}${url.pathname}`, files: { ca: h.file("ca.crt"), cert: client.cert, key: client.key } })],
    };
    fs.writeFileSync(h.file("external-writer.yml"), stringify(config));
    execFileSync("promtool", ["check", "config", h.file("external-writer.yml")], { stdio: "pipe" });
    const writer = h.start("external-writer", [
        `--config.file=${h.file("external-writer.yml")}`,
        `--storage.tsdb.path=${h.file("external-writer-data")}`,
        `--web.listen-address=127.0.0.1:${ports.writer}`,
    ]);
    const inTenant = async (q: string) => getJson(`http://127.0.0.1:${ports.tsdb}/api/v1/query?query=${encodeURIComponent(q)}`).data.result as any[];
    const seen = () => `stored ${JSON.stringify([...router.accepted])}, refused under ${[...new Set(router.refused)].join(", ") || "no tenant"}`;
    await waitFor(`the external writer's series in tenant ${id}'s TSDB`, EXTERNAL_WRITER_BOUND_S / 2, async () => (await inTenant(`count(up{job="prometheus", cluster="${id}"})`)).length > 0).catch((e: Error) => {
        throw new Error(`${e.message} (${seen()})`);
    });
    if ((await inTenant('count({tenant_id!=""})')).length > 0) throw new Error("a tenant_id label arrived from the writer: the block's relabelling must drop it");
    if (router.refused.length > 0 || [...router.accepted.keys()].join() !== id) {
        throw new Error(`requests came in under other tenants: ${seen()}`);
    }
    let refusedWithoutCertificate = false;
    try {
        execFileSync("curl", ["-sf", "--max-time", "5", "--cacert", h.file("ca.crt"), "-X", "POST", `https://127.0.0.1:${ports.router}${RECEIVE_PATH}`], { stdio: "pipe" });
    } catch {
        refusedWithoutCertificate = true;
    }
    if (!refusedWithoutCertificate) throw new Error("a client without a certificate was let in");
    const failed = metricSum(ports.writer, "prometheus_remote_storage_samples_failed_total", { required: true });
    if (failed !== 0) throw new Error(`the external writer counted ${failed} failed samples`);
    await h.stop(writer);
    await h.stop(tsdb);
    await router.close();
    const took = (Date.now() - t0) / 1000;
    log(`external writer ${id}: a plain Prometheus with the README's remote_write block writes as tenant ${id} over mTLS ` +
        `(${router.accepted.get(id)} requests, none under another tenant; a client without a certificate refused) in ${took.toFixed(0)}s`);
    if (took > EXTERNAL_WRITER_BOUND_S) throw new Error(`the external writer's case took ${took.toFixed(0)}s, over its ${EXTERNAL_WRITER_BOUND_S}s bound`);
}

// Exit explicitly: the exposition servers and keep-alive sockets would keep Node running after the last step, and
// the exit handler stops every process and server the harness started.
main().then(() => process.exit(0), (e) => {
    log(`FAIL: ${e instanceof Error ? e.message : e}`);
    for (const f of ["agent", "receiver", "external-writer", "tenant-tsdb"]) console.log(`--- last lines of ${f}.log\n${h.tail(f)}`);
    process.exit(1);
});
