/**
 * Running real Prometheus processes on loopback for `npm run e2e` and `npm run bench`: a temporary directory,
 * processes that are killed on exit, test certificates, and the generated agent configuration pointed at local
 * targets (see `localAgentConfig` for exactly what changes).
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { compatAgentConfig } from "../../lib/agentConfig";
import type { Plan } from "../../tools/plan";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Certificates {
    readonly ca: string;
    readonly serverCert: string;
    readonly serverKey: string;
    readonly clientCert: string;
    readonly clientKey: string;
}

export class Harness {
    readonly dir: string;
    readonly started = Date.now();
    private readonly children = new Set<ChildProcess>();
    private readonly closers: (() => void)[] = [];

    constructor(readonly label: string) {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `agent-receiver-${label}-`));
        process.on("exit", () => this.cleanup());
        for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));
    }

    log(msg: string): void {
        console.log(`[${this.label} ${((Date.now() - this.started) / 1000).toFixed(1).padStart(6)}s] ${msg}`);
    }

    onCleanup(fn: () => void): void {
        this.closers.push(fn);
    }

    cleanup(): void {
        for (const c of this.children) c.kill("SIGKILL");
        for (const fn of this.closers) fn();
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    file(name: string): string {
        return path.join(this.dir, name);
    }

    /** Start a binary with its output in `<name>.log` under the temporary directory. */
    start(name: string, args: string[], binary = "prometheus"): ChildProcess {
        const out = fs.openSync(this.file(`${name}.log`), "a");
        const child = spawn(binary, args, { stdio: ["ignore", out, out] });
        this.children.add(child);
        child.on("exit", () => this.children.delete(child));
        return child;
    }

    async stop(child: ChildProcess, waitMs = 20000): Promise<void> {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, sleep(waitMs)]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }

    tail(name: string, lines = 15): string {
        const p = this.file(`${name}.log`);
        return fs.existsSync(p) ? fs.readFileSync(p, "utf8").split("\n").slice(-lines).join("\n") : "";
    }

    /** CA, a server certificate for 127.0.0.1, and a client certificate with Organization = the writer. */
    certificates(writer: string): Certificates {
        const f = (n: string) => this.file(n);
        const ssl = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
        const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        ssl(["req", "-x509", ...ec, "-keyout", f("ca.key"), "-out", f("ca.crt"), "-days", "1", "-subj", "/O=agent-receiver/CN=test CA"]);
        const leaf = (name: string, subj: string, ext: string) => {
            ssl(["req", ...ec, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", subj]);
            fs.writeFileSync(f(`${name}.ext`), ext);
            ssl(["x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f(`${name}.crt`), "-days", "1", "-extfile", f(`${name}.ext`)]);
        };
        leaf("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        leaf("client", `/O=${writer}/CN=${writer}`, "extendedKeyUsage=clientAuth\n");
        return { ca: f("ca.crt"), serverCert: f("server.crt"), serverKey: f("server.key"), clientCert: f("client.crt"), clientKey: f("client.key") };
    }

    /**
     * One more client certificate from the CA of `certificates` (call that first), with the subject and extended key
     * usage given (the e2e takes them from the plan's CertRequest and LocallySignedCert of a writer). Files
     * `<name>.crt`, `<name>.key`.
     */
    clientCertificate(name: string, subject: { organization: string; commonName: string }, extendedKeyUsage: string[]): { cert: string; key: string } {
        const f = (n: string) => this.file(n);
        if (!fs.existsSync(f("ca.key"))) throw new Error("clientCertificate: call certificates() first, it makes the CA");
        const ssl = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
        ssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", `/O=${subject.organization}/CN=${subject.commonName}`]);
        fs.writeFileSync(f(`${name}.ext`), `extendedKeyUsage=${extendedKeyUsage.join(",")}\n`);
        ssl(["x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f(`${name}.crt`), "-days", "1", "-extfile", f(`${name}.ext`)]);
        return { cert: f(`${name}.crt`), key: f(`${name}.key`) };
    }

    /** A Prometheus with the remote-write receiver behind mTLS (the stand-in for Receive). Returns its arguments. */
    receiverArgs(port: number, certs: Certificates): string[] {
        fs.writeFileSync(this.file("receiver.yml"), "global: {}\n");
        fs.writeFileSync(
            this.file("web.yml"),
            stringify({ tls_server_config: { cert_file: certs.serverCert, key_file: certs.serverKey, client_auth_type: "RequireAndVerifyClientCert", client_ca_file: certs.ca } }),
        );
        return [
            `--config.file=${this.file("receiver.yml")}`,
            `--storage.tsdb.path=${this.file("receiver-data")}`,
            `--web.listen-address=127.0.0.1:${port}`,
            `--web.config.file=${this.file("web.yml")}`,
            "--web.enable-remote-write-receiver",
        ];
    }
}

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
        s.on("error", reject);
    });
}

export function getJson(url: string, tls?: { ca: string; cert: string; key: string }): any {
    const args = ["-sf", "--max-time", "10", url];
    if (tls) args.unshift("--cacert", tls.ca, "--cert", tls.cert, "--key", tls.key);
    return JSON.parse(execFileSync("curl", args).toString());
}

/**
 * Sum of every series of a metric on a local process's /metrics (0 when it has none). `required`: throw instead
 * when it has none, so that a misspelt name cannot pass a check for zero.
 */
export function metricSum(port: number, name: string, opts: { required?: boolean } = {}): number {
    return sumOf(scrape(port), name, port, opts);
}

function scrape(port: number): string {
    return execFileSync("curl", ["-sf", "--max-time", "10", `http://127.0.0.1:${port}/metrics`]).toString();
}

function seriesOf(text: string, name: string): string[] {
    return text.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

function sumOf(text: string, name: string, port: number, opts: { required?: boolean } = {}): number {
    const lines = seriesOf(text, name);
    if (opts.required && lines.length === 0) throw new Error(`127.0.0.1:${port} exposes no ${name}`);
    return lines.reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}

/**
 * The newest sample a Prometheus has enqueued for remote write: per queue since Prometheus 3.7 (`current`), as one
 * global gauge before, which v3.14 deprecates (`deprecated`). Debian's 2.42, which the scripts run, has only the
 * deprecated one; the pinned agents have both (test/metricNames.test.ts checks both against the definitions kept
 * for each version).
 */
export const HIGHEST_ENQUEUED_TIMESTAMP = {
    current: "prometheus_remote_storage_queue_highest_timestamp_seconds",
    deprecated: "prometheus_remote_storage_highest_timestamp_in_seconds",
} as const;

/**
 * Remote-write lag of a local Prometheus in seconds (newest sample enqueued minus newest sent, the most of any
 * queue): from the per-queue metrics when it exposes them, else from the deprecated global one, so the figure is
 * right on Debian's 2.42 and on the pinned version alike. Throws when neither is exposed.
 */
export function remoteWriteLag(port: number): number {
    return remoteWriteLagOf(scrape(port), `127.0.0.1:${port}`);
}

/** remoteWriteLag from an exposition text. */
export function remoteWriteLagOf(text: string, where = "the exposition"): number {
    const sent = "prometheus_remote_storage_queue_highest_sent_timestamp_seconds";
    const perQueue = (name: string) => new Map(seriesOf(text, name).map((l) => [l.slice(name.length, l.lastIndexOf(" ")), Number(l.split(" ").pop())]));
    if (seriesOf(text, HIGHEST_ENQUEUED_TIMESTAMP.current).length > 0) {
        const enqueued = perQueue(HIGHEST_ENQUEUED_TIMESTAMP.current);
        const done = perQueue(sent);
        return Math.max(...[...enqueued].map(([labels, t]) => t - (done.get(labels) ?? 0)));
    }
    const highest = seriesOf(text, HIGHEST_ENQUEUED_TIMESTAMP.deprecated);
    if (highest.length === 0) throw new Error(`${where} exposes neither ${HIGHEST_ENQUEUED_TIMESTAMP.current} nor ${HIGHEST_ENQUEUED_TIMESTAMP.deprecated}`);
    // One gauge for every queue: the lag is that of the queue that has sent least (2.42 exposes a queue's sent
    // timestamp only once it has sent something: none yet counts as 0, everything behind).
    const done = [...perQueue(sent).values()];
    return Number(highest[0].split(" ").pop()) - (done.length === 0 ? 0 : Math.min(...done));
}

/** Poll `check` once a second; returns the seconds it took, throws after `timeoutS`. */
export async function waitFor(what: string, timeoutS: number, check: () => Promise<boolean> | boolean): Promise<number> {
    const t0 = Date.now();
    for (;;) {
        try {
            if (await check()) return (Date.now() - t0) / 1000;
        } catch {
            /* not up yet */
        }
        if (Date.now() - t0 > timeoutS * 1000) throw new Error(`timed out after ${timeoutS}s waiting for ${what}`);
        await sleep(1000);
    }
}

/** Peak resident memory (VmHWM) of a process, in bytes. */
export function peakRss(pid: number): number {
    return procStatus(pid, "VmHWM");
}

/** Resident memory now (VmRSS) of a process, in bytes: what the kubelet's memory accounting and an OOM kill see. */
export function currentRss(pid: number): number {
    return procStatus(pid, "VmRSS");
}

function procStatus(pid: number, field: "VmHWM" | "VmRSS"): number {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
}

export interface LocalTargets {
    /** `host:port` of the local exposition server; each job gets its own path. */
    readonly exporter: string;
    /** node-exporter `host:port` (a real one in the benchmark; the exposition server in the e2e run). */
    readonly nodeExporter: string;
    readonly agentPort: number;
    readonly receiverPort: number;
    readonly certs: Certificates;
    readonly scrapeInterval: string;
    readonly scrapeTimeout: string;
    /** Targets of the `pods` job (application pods, with the `__meta_kubernetes_pod_*` labels); default none. */
    readonly pods?: { targets: string[]; labels: Record<string, string> }[];
    /** Directory (under the harness's) of this agent's file_sd files, when several agents run different loads. */
    readonly sdDir?: string;
}

/**
 * The generated agent configuration, with Debian 2.42's compatibility rendering, pointed at local targets.
 * Unchanged: external labels, remote_write queue settings and write relabelling, and every job's relabel and
 * metric_relabel rules (the drop lists). Changed: targets come from file_sd files carrying the `__meta_kubernetes_*`
 * labels the relabel rules read; kubelet/cAdvisor are scraped over plain HTTP; the scrape interval; the remote-write
 * URL and the certificate files.
 */
export function localAgentConfig(h: Harness, generated: string, t: LocalTargets): Record<string, any> {
    const sdDir = h.file(t.sdDir ?? "sd");
    fs.mkdirSync(sdDir, { recursive: true });
    const cfg = compatAgentConfig(parse(generated), sdDir) as any;
    cfg.global.scrape_interval = t.scrapeInterval;
    cfg.global.scrape_timeout = t.scrapeTimeout;
    const sd = (job: string, labels: Record<string, string>, target = t.exporter) =>
        fs.writeFileSync(path.join(sdDir, `${job}.json`), JSON.stringify([{ targets: [target], labels }]));
    const [neHost, nePort] = t.nodeExporter.split(":");
    for (const job of cfg.scrape_configs) {
        switch (job.job_name) {
            case "kubelet":
            case "cadvisor":
                delete job.scheme;
                delete job.authorization;
                delete job.tls_config;
                job.metrics_path = job.job_name === "cadvisor" ? "/cadvisor" : "/kubelet";
                sd(job.job_name, { __meta_kubernetes_node_name: "edge-node-1" });
                break;
            case "node-exporter":
                for (const r of job.relabel_configs) if (r.target_label === "__address__") r.replacement = `$1:${nePort}`;
                sd(job.job_name, { __meta_kubernetes_node_address_InternalIP: neHost, __meta_kubernetes_node_name: "edge-node-1" });
                break;
            case "kube-state-metrics":
                job.static_configs = [{ targets: [t.exporter] }];
                job.metrics_path = "/ksm";
                break;
            case "prometheus-agent":
                job.static_configs = [{ targets: [`127.0.0.1:${t.agentPort}`] }];
                break;
            case "pods":
                fs.writeFileSync(path.join(sdDir, "pods.json"), JSON.stringify(t.pods ?? []));
                break;
            default:
                // fluent-bit (and pods without a load): no such pods here; an empty file keeps the job and its rules loaded.
                fs.writeFileSync(path.join(sdDir, `${job.job_name}.json`), "[]");
        }
    }
    const rw = cfg.remote_write[0];
    rw.url = `https://127.0.0.1:${t.receiverPort}/api/v1/write`;
    rw.tls_config = { ca_file: t.certs.ca, cert_file: t.certs.clientCert, key_file: t.certs.clientKey, server_name: "127.0.0.1" };
    return cfg;
}

/**
 * Keeps `names` in every infrastructure job of a rendered agent configuration, as `edge.agent.keepMetrics` does for
 * names of no exporter family (lib/agentConfig.ts infraKeepLists): for a script's own synthetic metric (the e2e
 * run's scrape sequence), which no rule or dashboard reads. test/metricFilter.test.ts checks it against the generator.
 */
export function keepAlso(cfg: Record<string, any>, names: string[]): void {
    for (const job of cfg.scrape_configs) {
        const keep = (job.metric_relabel_configs ?? []).find((r: any) => r.action === "keep" && r.source_labels?.join() === "__name__");
        if (keep) keep.regex = `(${[...keep.regex.slice(1, -1).split("|"), ...names].sort().join("|")})`;
    }
}

/**
 * Flags of the generated agent StatefulSet that change remote-write behaviour; the harness runs them as generated
 * (the flush deadline bounds a stop: the e2e run stops the agent during an outage).
 */
const GENERATED_FLAGS = ["--web.enable-lifecycle", "--storage.remote.flush-deadline="];

/** The first agent StatefulSet of a plan (its inputs). */
function agentStatefulSet(plan: Plan): any {
    const sts = plan.resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.name.endsWith("-agent-statefulset"));
    if (!sts) throw new Error(`${plan.stack} plans no agent StatefulSet`);
    return sts.inputs;
}

/**
 * How the generated agent stops: its flush deadline (seconds) and the pod's termination grace, after which the
 * kubelet kills it. Read from the plan, so the e2e run checks what is deployed.
 */
export function generatedAgentShutdown(plan: Plan): { flushDeadlineSeconds: number; graceSeconds: number } {
    const spec = agentStatefulSet(plan).spec.template.spec;
    const deadline = (spec.containers[0].args as string[]).find((a) => a.startsWith("--storage.remote.flush-deadline="));
    if (!deadline) throw new Error("the agent StatefulSet sets no --storage.remote.flush-deadline");
    const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
    const flushDeadlineSeconds = [...deadline.split("=")[1].matchAll(/(\d+)(ms|s|m|h)/g)].reduce((t, m) => t + Number(m[1]) * unit[m[2]], 0);
    return { flushDeadlineSeconds, graceSeconds: Number(spec.terminationGracePeriodSeconds) };
}

/** The generated agent container's resources (requests and limits, Kubernetes quantities). */
export function generatedAgentResources(plan: Plan): { requests: Record<string, string>; limits: Record<string, string> } {
    return agentStatefulSet(plan).spec.template.spec.containers[0].resources;
}

/** Those flags, read from the first agent StatefulSet of a plan. */
export function generatedAgentFlags(plan: Plan): string[] {
    const args = (agentStatefulSet(plan).spec?.template?.spec?.containers?.[0]?.args ?? []) as string[];
    const flags = args.filter((a) => GENERATED_FLAGS.some((f) => a === f || (f.endsWith("=") && a.startsWith(f))));
    if (flags.length !== GENERATED_FLAGS.length) throw new Error(`the agent StatefulSet lacks ${GENERATED_FLAGS.join(", ")}: ${args.join(" ")}`);
    return flags;
}

/**
 * Arguments of a local agent: Debian 2.42's agent-mode switch, local paths and port, and the generated flags (the
 * lifecycle API the config-reloader uses, the flush deadline that keeps a resharding from dropping batches).
 */
export function agentArgs(h: Harness, name: string, port: number, generated: string[]): string[] {
    return [
        "--enable-feature=agent",
        `--config.file=${h.file(`${name}.yml`)}`,
        `--storage.agent.path=${h.file(`${name}-wal`)}`,
        `--web.listen-address=127.0.0.1:${port}`,
        ...generated,
    ];
}
