/**
 * `npm run test:verify`: `npm run verify` against real processes on loopback. Thanos Query is stood in for by
 * Debian's Prometheus 2.42 (the same instant-query API), fed by scraping a local exposition of the series the
 * checks read (`up` per writer with its tenant_id, Receive's last upload time; explicit timestamps make a writer
 * stale); Alertmanager is Debian's Alertmanager 0.25 with the Watchdogs posted to its API. The Kubernetes side is the
 * fake API server of test/verify.test.ts, holding what the plans would leave on the clusters, and every endpoint is
 * reached the way the command reaches a real one: a port-forward through the API server.
 *
 * Shown: a passing run of the command for cluster-01 and cluster-02 (exit 0, every line PASS), and each of the
 * checks that read these APIs failing for its own reason (a writer stale, a writer silent, a Watchdog missing on a
 * replica, a Watchdog silenced, the newest block older than the upload window), with exit code 1.
 *
 * Not in `npm test` (a Prometheus takes seconds to start and scrape on this machine): `.ci/run` runs it.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { stringify } from "yaml";
import { writerIds } from "../lib/config";
import { stackConfig } from "../tools/stacks";
import { ROOT } from "../tools/plan";
import { Harness, freePort, waitFor } from "../scripts/lib/harness";
import { CheckName, Line, checksFor, runCheck } from "../scripts/lib/verify/checks";
import { FakeKube, serverCertificate, writeKubeconfig } from "./helpers/fakeKube";
import { fillCentral, fillEdge, fluentBitExposition } from "./helpers/verifyClusters";
import { tool } from "./helpers/plan";

const h = new Harness("verify");
const central = stackConfig("cluster-01");
const WRITERS = central.central!.writers.flatMap(writerIds);

/** Series a Query stand-in scrapes: per writer, its `up` `ageS` seconds old (absent: not listed); Receive's last upload. */
interface Feed {
    readonly writerAge: Record<string, number | undefined>;
    readonly uploadAgeS: number;
}

function exposition(feed: Feed): string {
    const now = Date.now();
    const lines: string[] = [];
    for (const [id, age] of Object.entries(feed.writerAge)) {
        if (age === undefined) continue;
        const cluster = WRITERS.includes(id) ? central.central!.writers.find((w) => writerIds(w).includes(id))!.cluster : id;
        // An explicit timestamp (honor_timestamps) makes the writer's newest sample exactly that old.
        lines.push(`up{tenant_id="${id}",cluster="${cluster}",job="prometheus-agent"} 1${age > 0 ? ` ${now - age * 1000}` : ""}`);
    }
    lines.push(`thanos_objstore_bucket_last_successful_upload_time{job="thanos-receive",pod="thanos-receive-0",bucket="thanos-metrics"} ${now / 1000 - feed.uploadAgeS}`);
    return lines.join("\n") + "\n";
}

async function serve(body: () => string): Promise<{ port: number; close(): void }> {
    const server = http.createServer((_, res) => {
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
        res.end(body());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/** A Prometheus scraping `target` every second, keeping its labels and timestamps. */
async function queryStandIn(name: string, target: number): Promise<number> {
    const port = await freePort();
    fs.writeFileSync(
        h.file(`${name}.yml`),
        stringify({ global: { scrape_interval: "1s", scrape_timeout: "1s" }, scrape_configs: [{ job_name: "feed", honor_labels: true, honor_timestamps: true, static_configs: [{ targets: [`127.0.0.1:${target}`] }] }] }),
    );
    h.start(name, [`--config.file=${h.file(`${name}.yml`)}`, `--storage.tsdb.path=${h.file(`${name}-data`)}`, `--web.listen-address=127.0.0.1:${port}`], tool("prometheus"));
    return port;
}

async function alertmanager(name: string): Promise<number> {
    const port = await freePort();
    fs.writeFileSync(h.file(`${name}.yml`), stringify({ route: { receiver: "null" }, receivers: [{ name: "null" }] }));
    h.start(
        name,
        [`--config.file=${h.file(`${name}.yml`)}`, `--storage.path=${h.file(`${name}-data`)}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address="],
        tool("prometheus-alertmanager"),
    );
    return port;
}

async function post(port: number, p: string, body: unknown): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${port}${p}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const text = await res.text();
    assert.ok(res.ok, `POST ${p}: ${res.status} ${text}`);
    return text;
}

/** The Watchdogs as the Ruler and the central Prometheus send them (always firing: endsAt ahead). */
async function postWatchdogs(port: number): Promise<void> {
    const endsAt = new Date(Date.now() + 3600_000).toISOString();
    await post(
        port,
        "/api/v2/alerts",
        ["Watchdog", "SelfMonitoringWatchdog"].map((alertname) => ({ labels: { alertname, severity: "none", cluster: "cluster-01" }, annotations: {}, endsAt })),
    );
}

function runCli(args: string[], kubeconfig: string): Promise<{ code: number; out: string }> {
    return new Promise((resolve) => {
        execFile(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "scripts", "verify.ts"), ...args], { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 120000 }, (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
        );
    });
}

async function check(stack: string, name: CheckName, kubeconfig: string): Promise<Line[]> {
    const c = checksFor(stack, { kubeconfig, logWindowMs: 200 }).find((x) => x.name === name)!;
    return runCheck(c, 30000);
}

describe("npm run verify against Prometheus 2.42 and Alertmanager 0.25 on loopback, through a fake API server", function () {
    this.timeout(120000);
    const tls = serverCertificate(h.dir);
    const fakeCentral = new FakeKube(tls);
    const fakeEdge = new FakeKube(tls);
    let kubeconfig = "";
    const ports = { healthy: 0, broken: 0, amFull: 0, amEmpty: 0, amSilenced: 0 };
    const closers: (() => void)[] = [];
    /** One Fluent Bit exposition per pod: two on cluster-01, three on cluster-02 (each pod's counters are its own). */
    const fluentBits: number[] = [];

    before(async () => {
        const fresh = Object.fromEntries(WRITERS.map((id) => [id, 0]));
        const healthy = await serve(() => exposition({ writerAge: fresh, uploadAgeS: 600 }));
        // cluster-03 stale (3 minutes, inside Query's 5m lookback), cluster-02-b and cluster-04 silent; the newest block 4h old.
        const broken = await serve(() => exposition({ writerAge: { ...fresh, "cluster-02-b": undefined, "cluster-03": 180, "cluster-04": undefined }, uploadAgeS: 4 * 3600 }));
        closers.push(healthy.close, broken.close);
        for (let i = 0; i < 5; i++) {
            const fb = await fluentBitExposition({ step: 20 });
            closers.push(fb.close);
            fluentBits.push(fb.port);
        }
        [ports.healthy, ports.broken, ports.amFull, ports.amEmpty, ports.amSilenced] = await Promise.all([
            queryStandIn("query-healthy", healthy.port),
            queryStandIn("query-broken", broken.port),
            alertmanager("am-full"),
            alertmanager("am-empty"),
            alertmanager("am-silenced"),
        ]);
        await Promise.all([fakeCentral.start(), fakeEdge.start()]);
        kubeconfig = writeKubeconfig(h.file("kubeconfig"), [
            { context: "cluster-01", fake: fakeCentral },
            { context: "cluster-02", fake: fakeEdge },
        ]);
        for (const am of [ports.amFull, ports.amEmpty, ports.amSilenced]) await waitFor(`alertmanager :${am}`, 30, async () => (await fetch(`http://127.0.0.1:${am}/-/ready`)).ok);
        await postWatchdogs(ports.amFull);
        await postWatchdogs(ports.amSilenced);
        const now = Date.now();
        await post(ports.amSilenced, "/api/v2/silences", {
            matchers: [{ name: "alertname", value: "Watchdog", isRegex: false, isEqual: true }],
            startsAt: new Date(now).toISOString(),
            endsAt: new Date(now + 3600_000).toISOString(),
            createdBy: "test",
            comment: "a silence on the heartbeat",
        });
        // Both stand-ins have scraped every series the checks read.
        for (const port of [ports.healthy, ports.broken]) {
            await waitFor(`prometheus :${port} scraped the feed`, 60, async () => {
                const r = (await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent("count(up{tenant_id!=''}) and count(thanos_objstore_bucket_last_successful_upload_time)")}`)).json()) as any;
                return r.data.result.length === 1;
            });
        }
    });
    after(async () => {
        await Promise.all([fakeCentral.close(), fakeEdge.close()]);
        for (const c of closers) c();
        h.cleanup();
    });
    beforeEach(async () => {
        await fillCentral(fakeCentral, { query: ports.healthy, alertmanagers: [ports.amFull, ports.amFull], fluentBits: fluentBits.slice(0, 2) });
        await fillEdge(fakeEdge, "cluster-02", fluentBits.slice(2));
    });

    it("a passing run: npm run verify -- cluster-01 and -- cluster-02 exit 0 with every line PASS", async () => {
        const [c01, c02] = await Promise.all([runCli(["cluster-01", "--log-window", "1s"], kubeconfig), runCli(["cluster-02", "--log-window=1s"], kubeconfig)]);
        for (const [r, count] of [[c01, 11], [c02, 7]] as const) {
            assert.strictEqual(r.code, 0, r.out);
            const lines = r.out.trim().split("\n");
            assert.deepStrictEqual(lines.filter((l) => /^(PASS|FAIL|SKIP) /.test(l) && !l.startsWith("PASS ")), [], r.out);
            assert.strictEqual(lines.filter((l) => l.startsWith("PASS ")).length, count, r.out);
            assert.match(lines[lines.length - 1], new RegExp(`: ${count} passed, 0 failed$`));
        }
        // cluster-01: a line per writer of central.writers, its freshness against 3 scrape intervals.
        for (const id of WRITERS) assert.match(c01.out, new RegExp(`^PASS  writers +${id}: newest sample \\d+s old in Query \\(limit 1m30s\\)$`, "m"));
        assert.match(c01.out, /^PASS  watchdog +Watchdog \(Thanos Ruler\): active on 2\/2 Alertmanager replicas$/m);
        assert.match(c01.out, /^PASS  watchdog +SelfMonitoringWatchdog \(central Prometheus\): active on 2\/2 Alertmanager replicas$/m);
        assert.match(c01.out, /^PASS  bucket-upload +Receive's newest block reached the bucket 10m\d*s? ago \(window 3h\)$/m);
        assert.match(c01.out, /^PASS  log-shipping +Fluent Bit \(2\/2 pods in logging-node\): 40 records delivered in 1s/m);
        // cluster-02: its own writers, asked of cluster-01's Query through the cluster-01 context.
        assert.match(c02.out, /^verify cluster-02: kube contexts cluster-01, cluster-02$/m);
        assert.deepStrictEqual(c02.out.match(/^PASS  writers +\S+/gm)?.map((l) => l.split(/ +/)[2]), ["cluster-02-a:", "cluster-02-b:"]);
        assert.strictEqual(c02.out.match(/^PASS  tenant-placement /gm)?.length, 4);
    });

    it("writers: a stale writer and silent ones fail, each with its age or its absence", async () => {
        fakeCentral.pods.filter((p) => p.name.startsWith("thanos-query-")).forEach((p) => (p.forward = { 10902: ports.broken }));
        const lines = await check("cluster-01", "writers", kubeconfig);
        const byWriter = Object.fromEntries(lines.map((l) => [l.text.split(":")[0], l]));
        assert.deepStrictEqual(Object.keys(byWriter), WRITERS);
        assert.deepStrictEqual(
            WRITERS.filter((id) => !byWriter[id].ok),
            ["cluster-02-b", "cluster-03", "cluster-04"],
        );
        assert.match(byWriter["cluster-03"].text, /^cluster-03: newest sample 3m\d*s? old in Query \(limit 1m30s\)$/);
        assert.match(byWriter["cluster-04"].text, /^cluster-04: no sample in Query thanos\/thanos-query-\S+ within its lookback: the writer sends nothing, or Receive refuses it$/);
        // The edge's own verify sees its silent tenant the same way, in the central Query.
        const edgeLines = await check("cluster-02", "writers", kubeconfig);
        assert.deepStrictEqual(
            edgeLines.map((l) => [l.ok, l.text.split(":")[0]]),
            [
                [true, "cluster-02-a"],
                [false, "cluster-02-b"],
            ],
        );
    });

    it("watchdog: a replica that never got it fails, and so does a silenced Watchdog (the heartbeat would page)", async () => {
        fakeCentral.pods.find((p) => p.name === "alertmanager-kps-alertmanager-1")!.forward = { 9093: ports.amEmpty };
        const missing = await check("cluster-01", "watchdog", kubeconfig);
        assert.deepStrictEqual(
            missing.map((l) => [l.ok, l.text]),
            [
                [false, "Watchdog (Thanos Ruler): alertmanager-kps-alertmanager-1 has none"],
                [false, "SelfMonitoringWatchdog (central Prometheus): alertmanager-kps-alertmanager-1 has none"],
            ],
        );
        fakeCentral.pods.find((p) => p.name === "alertmanager-kps-alertmanager-1")!.forward = { 9093: ports.amSilenced };
        const silenced = await check("cluster-01", "watchdog", kubeconfig);
        assert.deepStrictEqual(silenced.map((l) => l.ok), [false, true]);
        assert.match(silenced[0].text, /^Watchdog \(Thanos Ruler\): alertmanager-kps-alertmanager-1 has it suppressed \(silence [0-9a-f-]+\): the heartbeat receives nothing$/);
    });

    it("bucket-upload: the newest block older than the upload window fails with its age", async () => {
        fakeCentral.pods.filter((p) => p.name.startsWith("thanos-query-")).forEach((p) => (p.forward = { 10902: ports.broken }));
        const [line] = await check("cluster-01", "bucket-upload", kubeconfig);
        assert.strictEqual(line.ok, false);
        assert.match(line.text, /^Receive's newest block reached the bucket 4h\d*s? ago \(window 3h\)$/);
    });

    it("a failing run exits 1; --only and --skip say what was not run", async () => {
        fakeCentral.pods.filter((p) => p.name.startsWith("thanos-query-")).forEach((p) => (p.forward = { 10902: ports.broken }));
        const r = await runCli(["cluster-01", "--only", "writers,bucket-upload"], kubeconfig);
        assert.strictEqual(r.code, 1, r.out);
        assert.match(r.out, /^FAIL  bucket-upload +Receive's newest block reached the bucket 4h/m);
        for (const c of ["receive-ring", "watchdog", "log-shipping"]) assert.match(r.out, new RegExp(`^SKIP  ${c} +not run \\(--only\\)$`, "m"));
        assert.match(r.out, /^verify cluster-01: 2 passed, 4 failed, 3 checks skipped$/m);
    });
});
