/**
 * Every argument of every container the program declares, in every stack, is one the pinned version of its binary
 * accepts — the flag lists are upstream's, kept in test/fixtures/upstream/<project>-<version>/ — and so are the
 * arguments the central Prometheus gets through kube-prometheus-stack's `additionalArgs`. An unknown flag is a
 * container that exits at start (kingpin, pflag and getopt all refuse one), so one wrong flag is a crash loop.
 * Thanos containers are checked by thanosFlags.test.ts. Where a real binary is installed here (Debian's memcached,
 * older than the pin), it also runs with the generated arguments.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as net from "net";
import { parse } from "yaml";
import { charts, imageName, images } from "../lib/versions";
import { isHelmChart } from "../tools/plan";
import { mapSecrets } from "../tools/offline";
import { freePort } from "../scripts/lib/harness";
import { CliStyle, readArgs } from "./helpers/cliArgs";
import { STACKS, k8sObjects, manifest, planStack, tool } from "./helpers/plan";
import { FlagList, parseFlagsTxt, prometheusDocFlags, upstreamFile, upstreamFolder, upstreamSource } from "./helpers/upstream";

type ImageKey = keyof typeof images;
type Plan = Awaited<ReturnType<typeof planStack>>;

/** How to fill a folder whose flags.txt is derived from upstream code (the code itself is never copied). */
function derive(what: string): string {
    return (
        `Derive flags.txt from ${what} at that tag (one line per flag: its spellings, \` <value>\` if it takes one, a tab, ` +
        "the upstream file:line that defines it; see the other folders' flags.txt and SOURCE.json) — never copy the code."
    );
}

/**
 * Bools that Prometheus' flag table shows without a default (it shows `true`/`false` for every other Bool), each
 * with its definition at the pinned tag.
 */
const PROMETHEUS_BOOLEANS: Record<string, string> = {
    agent: 'cmd/prometheus/main.go:648: a.Flag("agent", "Run Prometheus in \'Agent mode\'.").BoolVar(&agentMode)',
    help: "kingpin's --help (github.com/alecthomas/kingpin/v2 app.go:64-65, .Bool())",
    version: "kingpin's --version (app.go:265-270, .Bool())",
};

interface Binary {
    readonly image: ImageKey;
    /** The fixture folder is `<project>-<version>`. */
    readonly project: string;
    readonly style: CliStyle;
    readonly refresh: string;
    readonly flags: (dir: string) => FlagList;
    /** For an image run with `command` (its executable, then its arguments) instead of `args`. */
    readonly executable?: string;
    /** kubectl: the subcommand the flag list is for; its operands are positional and not checked. */
    readonly subcommand?: string;
}

const flagsTxt = (dir: string) => parseFlagsTxt(upstreamFile(dir, "flags.txt"), `${dir}/flags.txt`);

/** Every binary the program runs from an image of lib/versions.ts, with where its flag list comes from. */
const BINARIES: readonly Binary[] = [
    {
        image: "prometheus",
        project: "prometheus",
        style: "kingpin",
        refresh: "Copy docs/command-line/prometheus.md of github.com/prometheus/prometheus at that tag (a first line naming the source) and name it in SOURCE.json.",
        flags: (dir) => prometheusDocFlags(upstreamFile(dir, "prometheus.md"), PROMETHEUS_BOOLEANS, `${dir}/prometheus.md`),
    },
    {
        image: "configReloader",
        project: "prometheus-config-reloader",
        style: "kingpin",
        refresh: derive("cmd/prometheus-config-reloader/main.go (and pkg/versionutil/cli.go) of github.com/prometheus-operator/prometheus-operator"),
        flags: flagsTxt,
    },
    {
        image: "memcached",
        project: "memcached",
        style: "getopt",
        refresh: derive("the longopts[]/shortopts tables of memcached.c in github.com/memcached/memcached"),
        flags: flagsTxt,
    },
    {
        image: "memcachedExporter",
        project: "memcached-exporter",
        style: "kingpin",
        refresh: derive("cmd/memcached_exporter/main.go of github.com/prometheus/memcached_exporter, with the exporter-toolkit and prometheus/common versions of its go.mod"),
        flags: flagsTxt,
    },
    {
        image: "kubectl",
        project: "kubectl",
        style: "pflag",
        refresh: derive("kubectl's taint command and global flags (k8s.io/kubectl, k8s.io/cli-runtime, k8s.io/component-base at the matching v0.x tag)"),
        flags: flagsTxt,
        executable: "kubectl",
        subcommand: "taint",
    },
    {
        image: "openSearchExporter",
        project: "elasticsearch-exporter",
        style: "kingpin",
        refresh: derive("main.go and collector/*.go of github.com/prometheus-community/elasticsearch_exporter, with the exporter-toolkit and prometheus/common versions of its go.mod"),
        flags: flagsTxt,
    },
];

/**
 * Images without a flag list here, each with the reason. Anything else the plan runs must be in BINARIES. Images
 * the charts render (node-exporter, kube-state-metrics, Grafana, OpenSearch, Fluent Bit, the operator) are not in the
 * plan at all — the mock runtime does not render charts — so neither their images nor their arguments are seen here.
 */
const UNCHECKED: Partial<Record<ImageKey, string>> = {
    thanos: "checked by test/thanosFlags.test.ts against the pinned Thanos --help",
    openSearch:
        "the configuration Job runs `/bin/bash -c <script>` (securityadmin.sh and curl, shipped in the OpenSearch image); " +
        "no flag list of those is kept here; test/logs.test.ts checks the script's commands",
};

/**
 * A pin whose upstream data is kept under another version, with the reason. Kept to this one table; an entry whose
 * pin has moved fails (see the test), so it cannot outlive the pin it was written for.
 */
const FOLDER_EXCEPTIONS: Partial<Record<ImageKey, { readonly pin: string; readonly folder: string; readonly reason: string }>> = {
    configReloader: {
        pin: "v0.93.1",
        folder: "v0.93.0",
        reason:
            "no v0.93.1 tag was available (the snapshot's release-0.93 branch ends at v0.93.0); cmd/prometheus-config-reloader/ and " +
            "pkg/versionutil/ have no change from v0.93.0 to main at 6adcebc (2026-08-08), so v0.93.1 is expected to take the same flags",
    },
};

/** The version in an image tag: `1.6.39-alpine` → `1.6.39`, `v3.14.0-distroless` → `v3.14.0`. */
function versionOfTag(tag: string): string {
    const m = /^(v?\d+(?:\.\d+)+)(?:-[a-z]+)?$/.exec(tag);
    if (!m) throw new Error(`cannot read a version from the image tag ${tag}`);
    return m[1];
}

function binaryFolder(b: Binary, tag: string = images[b.image].tag): { dir: string; version: string } {
    const pinned = versionOfTag(tag);
    const ex = FOLDER_EXCEPTIONS[b.image];
    const version = ex && ex.pin === pinned ? ex.folder : pinned;
    return { dir: upstreamFolder(b.project, version, b.refresh), version };
}

const flagCache = new Map<string, FlagList>();
function flagsOf(b: Binary, tag?: string): { flags: FlagList; version: string } {
    const { dir, version } = binaryFolder(b, tag);
    if (!flagCache.has(dir)) flagCache.set(dir, b.flags(dir));
    return { flags: flagCache.get(dir)!, version };
}

const binary = (image: ImageKey) => BINARIES.find((b) => b.image === image)!;

/** What the binary's parser refuses in `args` (and, for Prometheus, flags of the other mode). */
function problemsOf(b: Binary, flags: FlagList, args: readonly string[]): string[] {
    const r = readArgs(args, flags, b.style);
    const problems = [...r.problems];
    if (b.subcommand !== undefined && r.positionals[0] !== b.subcommand) {
        problems.push(`subcommand ${r.positionals[0] ?? "(none)"}: the flag list is for \`${b.executable} ${b.subcommand}\` only`);
    }
    if (b.image === "prometheus") {
        // serverOnlyFlag/agentOnlyFlag (cmd/prometheus/main.go:164-182): prometheus exits with status 3 (main.go:695-703).
        const agent = r.used.some((s) => s.long === "agent");
        for (const s of r.used) {
            if (agent && s.mode === "server") problems.push(`--${s.long}: server mode only, and this Prometheus runs with --agent`);
            if (!agent && s.mode === "agent") problems.push(`--${s.long}: agent mode only, and this Prometheus runs in server mode`);
        }
    }
    return problems;
}

interface Container {
    readonly where: string;
    readonly image: string;
    readonly command?: string[];
    readonly args: string[];
}

/** Pod specs of a workload: Deployment/StatefulSet/DaemonSet/Job templates, a CronJob's job template, a Pod. */
function podSpecs(m: any): any[] {
    return [m.spec?.template?.spec, m.spec?.jobTemplate?.spec?.template?.spec, m.kind === "Pod" ? m.spec : undefined].filter((s) => s !== undefined);
}

function countImages(v: unknown): number {
    if (Array.isArray(v)) return v.reduce((n: number, x) => n + countImages(x), 0);
    if (v === null || typeof v !== "object") return 0;
    return Object.entries(v).reduce((n, [k, x]) => n + (k === "image" && typeof x === "string" ? 1 : countImages(x)), 0);
}

function containers(plan: Plan): Container[] {
    const found: Container[] = [];
    for (const r of k8sObjects(plan)) {
        const m = manifest(r);
        const cs = podSpecs(m).flatMap((p) => [...(p.initContainers ?? []), ...(p.containers ?? []), ...(p.ephemeralContainers ?? [])]);
        // Anything else that names an image would escape the check: fail rather than skip it.
        assert.strictEqual(countImages(m), cs.length, `${plan.stack} ${m.kind} ${m.metadata?.name}: an image outside the pod specs this test reads`);
        for (const c of cs) {
            found.push({ where: `${plan.stack} ${m.kind} ${m.metadata.namespace}/${m.metadata.name} container ${c.name}`, image: c.image, command: c.command, args: c.args ?? [] });
        }
    }
    return found;
}

function imageKey(image: string): ImageKey | undefined {
    // `/repository:tag[@digest]`, after the registry (the mirror may prefix it).
    return (Object.keys(images) as ImageKey[]).find((k) => image.endsWith(imageName(images[k]).slice(images[k].registry.length)));
}

/** Every problem of every container of a plan, as `<where>: <problem> (<project> <version>)`. */
function containerProblems(plan: Plan): { problems: string[]; checked: number } {
    const problems: string[] = [];
    let checked = 0;
    for (const c of containers(plan)) {
        const key = imageKey(c.image);
        if (key === undefined) {
            problems.push(`${c.where}: image ${c.image} is none of lib/versions.ts images at its pinned tag`);
            continue;
        }
        if (key in UNCHECKED) continue;
        const b = BINARIES.find((x) => x.image === key);
        if (b === undefined) {
            problems.push(`${c.where}: no flag list for images.${key} — add it to BINARIES with its upstream folder, or to UNCHECKED with the reason`);
            continue;
        }
        const { flags, version } = flagsOf(b);
        let args = c.args;
        if (c.command !== undefined) {
            if (b.executable === undefined || c.command[0] !== b.executable) {
                problems.push(`${c.where}: command ${JSON.stringify(c.command)} replaces the image's entrypoint; not a ${b.project} invocation this test reads`);
                continue;
            }
            args = [...c.command.slice(1), ...c.args];
        }
        checked++;
        for (const p of problemsOf(b, flags, args)) problems.push(`${c.where}: ${p} (${b.project} ${version})`);
    }
    return { problems, checked };
}

// --- the central Prometheus: kube-prometheus-stack's additionalArgs -----------------------------------------------

const KPS_DEFAULTS = () => {
    const dir = upstreamFolder(charts.kubePrometheusStack.chart, charts.kubePrometheusStack.version, "See test/helmValues.test.ts.");
    return parse(upstreamFile(dir, "values.yaml"));
};

/** Chart values that pass arguments to a container, and the one place this test reads them from. */
const ARG_KEY = /args$|^command$/i;
const CHECKED_CHART_ARGS: Record<string, string> = {
    [charts.kubePrometheusStack.chart]: "prometheus.prometheusSpec.additionalArgs",
    [charts.nodeExporter.chart]: "extraArgs",
};

/**
 * node_exporter's flags at the chart's appVersion (the chart runs v + appVersion unless the program sets an image).
 * The list holds node_exporter's own kingpin.Flag calls only (see its header), enough for the arguments passed.
 */
function nodeExporterFlags(): { flags: FlagList; version: string } {
    const chart = parse(upstreamFile(upstreamFolder(charts.nodeExporter.chart, charts.nodeExporter.version, "See test/helmValues.test.ts."), "Chart.yaml"));
    const version = `v${chart.appVersion as string}`;
    const dir = upstreamFolder("node-exporter", version, derive("the kingpin.Flag calls of node_exporter.go and collector/*.go of github.com/prometheus/node_exporter"));
    return { flags: flagsTxt(dir), version };
}

function chartValues(plan: Plan): { chart: string; name: string; values: any }[] {
    return plan.resources.filter(isHelmChart).map((r) => {
        const i = mapSecrets(r.inputs, true) as any;
        return { chart: i.chart, name: r.name, values: i.values ?? {} };
    });
}

function argKeys(v: unknown, at: string[] = []): string[] {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return [];
    return Object.entries(v).flatMap(([k, x]) => [...(ARG_KEY.test(k) ? [[...at, k].join(".")] : []), ...argKeys(x, [...at, k])]);
}

/**
 * The Prometheus Operator turns `additionalArgs: [{name, value}]` into `--name=value` (`--name` when value is empty):
 * prometheus-operator pkg/operator/argument.go:64-79 (BuildArgs) at v0.93.0.
 */
function operatorArgs(additional: { name: string; value?: string }[]): string[] {
    return additional.map((a) => (a.value ? `--${a.name}=${a.value}` : `--${a.name}`));
}

// --- memcached: Debian's real binary --------------------------------------------------------------------------------

function memcachedRequest(port: number, request: string, until: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
        const s = net.connect(port, "127.0.0.1");
        let out = "";
        const timer = setTimeout(() => {
            s.destroy();
            reject(new Error(`no answer to ${JSON.stringify(request)}: ${out}`));
        }, 2000);
        s.on("connect", () => s.write(request));
        s.on("data", (d) => {
            out += d.toString();
            if (!until.test(out)) return;
            clearTimeout(timer);
            s.end();
            resolve(out);
        });
        s.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
    });
}

async function waitListening(port: number, proc: ChildProcess, log: () => string): Promise<void> {
    const t0 = Date.now();
    for (;;) {
        if (proc.exitCode !== null) throw new Error(`memcached exited with ${proc.exitCode}: ${log()}`);
        try {
            await memcachedRequest(port, "version\r\n", /\r\n/);
            return;
        } catch {
            if (Date.now() - t0 > 3000) throw new Error(`memcached did not answer on 127.0.0.1:${port} within 3 s: ${log()}`);
            await new Promise((r) => setTimeout(r, 50));
        }
    }
}

/** `-m 1024` → 1024 MiB; `-I 5m` → bytes (memcached reads k/m suffixes). */
function mib(v: string): number {
    return Number(v) * 1024 * 1024;
}
function size(v: string): number {
    const m = /^(\d+)([km]?)$/i.exec(v);
    assert.ok(m, `size ${v}`);
    return Number(m[1]) * (m[2].toLowerCase() === "m" ? 1024 * 1024 : m[2].toLowerCase() === "k" ? 1024 : 1);
}

describe("container flags against the pinned versions' flag lists", () => {
    describe("the pinned versions have their upstream data", () => {
        for (const b of BINARIES) {
            it(`images.${b.image} (${images[b.image].tag}): test/fixtures/upstream/${b.project}-<version>/ exists, names its source and parses`, () => {
                const { dir, version } = binaryFolder(b);
                const src = upstreamSource(dir);
                assert.ok(src.tag.endsWith(version), `${dir}: tag ${src.tag}`);
                const { flags } = flagsOf(b);
                assert.ok(flags.long.size >= 10, `${dir}: parsed ${flags.long.size} flags`);
            });
        }

        it("a pin without its folder fails, naming the folder to add and how to fill it", () => {
            const b = binary("memcached");
            assert.throws(() => binaryFolder(b, "1.6.99-alpine"), (e: Error) => {
                assert.match(e.message, /no upstream data for memcached 1\.6\.99 .*add test\/fixtures\/upstream\/memcached-1\.6\.99\/ with its SOURCE\.json/);
                assert.ok(e.message.includes(`folders present: memcached-${binaryFolder(b).version}`), e.message);
                assert.match(e.message, /longopts\[\]\/shortopts tables of memcached\.c/);
                return true;
            });
        });

        it("the version of an image tag drops its variant suffix", () => {
            assert.strictEqual(versionOfTag("9.8.7-alpine"), "9.8.7");
            assert.strictEqual(versionOfTag("v9.8.7-distroless"), "v9.8.7");
            assert.strictEqual(versionOfTag("v9.8.7"), "v9.8.7");
            assert.throws(() => versionOfTag("latest"));
        });

        it("every folder exception is for the current pin (a moved pin must bring its own folder)", () => {
            for (const [key, ex] of Object.entries(FOLDER_EXCEPTIONS)) {
                const pinned = versionOfTag(images[key as ImageKey].tag);
                assert.strictEqual(pinned, ex!.pin, `FOLDER_EXCEPTIONS.${key} is for ${ex!.pin}, but the pin is ${pinned}: remove the entry and add its folder`);
                assert.ok(ex!.reason.length > 20);
            }
        });

        it("every image of lib/versions.ts has a flag list or a reason why not", () => {
            for (const key of Object.keys(images) as ImageKey[]) {
                assert.ok(BINARIES.some((b) => b.image === key) !== (key in UNCHECKED), `images.${key}: in exactly one of BINARIES and UNCHECKED`);
            }
        });
    });

    describe("each parser refuses a wrong flag (so the check can fail)", () => {
        it("Prometheus (docs table, kingpin): flags, Bools and the agent/server split", () => {
            const b = binary("prometheus");
            const { flags } = flagsOf(b);
            assert.ok(flags.long.size >= 55, `parsed ${flags.long.size} flags`);
            const p = (...args: string[]) => problemsOf(b, flags, args);
            assert.deepStrictEqual(p("--agent", "--storage.agent.retention.max-time=4h", "--web.enable-lifecycle", "--no-web.enable-lifecycle"), []);
            assert.deepStrictEqual(p("--agent", "--storage.agent.retention=4h"), ["--storage.agent.retention: no such flag"]);
            assert.deepStrictEqual(p("--web.enable-lifecycle=true"), ["--web.enable-lifecycle=true: --web.enable-lifecycle takes no value"]);
            assert.deepStrictEqual(p("--no-config.file"), ["--no-config.file: --config.file is not a Bool, so it has no --no- form"]);
            assert.deepStrictEqual(p("--agent", "--storage.tsdb.path=/p"), ["--storage.tsdb.path: server mode only, and this Prometheus runs with --agent"]);
            assert.deepStrictEqual(p("--storage.agent.path=/p"), ["--storage.agent.path: agent mode only, and this Prometheus runs in server mode"]);
            assert.deepStrictEqual(p("--config.file", "/etc/p.yml", "--web.listen-address"), ["--web.listen-address: needs a value"]);
            assert.deepStrictEqual(p("/etc/p.yml"), ["/etc/p.yml: positional argument (the binary takes none)"]);
            assert.strictEqual(flags.long.get("storage.remote.flush-deadline")?.mode, undefined, "both modes");
        });

        it("prometheus-config-reloader (flags.txt, kingpin)", () => {
            const b = binary("configReloader");
            const { flags } = flagsOf(b);
            const p = (...args: string[]) => problemsOf(b, flags, args);
            assert.deepStrictEqual(p("--config-file=/c", "--reload-url", "http://x/-/reload", "--no-version"), []);
            assert.deepStrictEqual(p("--reload-urls=http://x"), ["--reload-urls: no such flag"]);
            assert.deepStrictEqual(p("-h"), ["-h: no such flag"], "the reloader gives --help no short form");
        });

        it("memcached (flags.txt, getopt_long): short flags with their values, long forms", () => {
            const b = binary("memcached");
            const { flags } = flagsOf(b);
            const p = (...args: string[]) => problemsOf(b, flags, args);
            assert.deepStrictEqual(p("-m", "64", "-I5m", "--max-item-size=5m", "--conn-limit", "10", "-v", "--verbose=2", "-D", ":"), []);
            assert.deepStrictEqual(p("--max-item-sizes=5m"), ["--max-item-sizes: no such flag"]);
            assert.deepStrictEqual(p("-Q"), ["-Q: no such flag"]);
            assert.deepStrictEqual(p("-m", "64", "-I"), ["-I: needs a value"]);
            assert.deepStrictEqual(p("--daemon=yes"), ["--daemon=yes: --daemon takes no value"]);
            assert.deepStrictEqual(p("-m", "64", "5m"), ["5m: positional argument (the binary takes none)"], "a value too many is a positional");
        });

        it("memcached-exporter (flags.txt, kingpin)", () => {
            const b = binary("memcachedExporter");
            const { flags } = flagsOf(b);
            const p = (...args: string[]) => problemsOf(b, flags, args);
            assert.deepStrictEqual(p("--memcached.address=localhost:11211", "--web.listen-address=:9150", "--no-memcached.tls.enable", "-h"), []);
            assert.deepStrictEqual(p("--memcached.addr=localhost:11211"), ["--memcached.addr: no such flag"]);
            assert.deepStrictEqual(p("--memcached.tls.enable=true"), ["--memcached.tls.enable=true: --memcached.tls.enable takes no value"]);
        });

        it("kubectl taint (flags.txt, pflag): flags anywhere, positionals kept, the subcommand checked", () => {
            const b = binary("kubectl");
            const { flags } = flagsOf(b);
            const p = (...args: string[]) => problemsOf(b, flags, args);
            assert.deepStrictEqual(p("taint", "nodes", "n1", "-n", "x", "tenant=a:NoSchedule", "--overwrite", "--dry-run", "-v", "4"), []);
            assert.deepStrictEqual(p("taint", "nodes", "n1", "tenant=a:NoSchedule", "--overwrite=false"), [], "a pflag Bool takes =false");
            assert.deepStrictEqual(p("taint", "nodes", "n1", "tenant=a:NoSchedule", "--overwrites"), ["--overwrites: no such flag"]);
            assert.deepStrictEqual(p("taint", "nodes", "n1", "--no-overwrite"), ["--no-overwrite: no such flag"], "pflag has no --no- form");
            assert.deepStrictEqual(p("label", "nodes", "n1", "a=b"), ["subcommand label: the flag list is for `kubectl taint` only"]);
            const r = readArgs(["taint", "nodes", "n1", "n2", "k=v:NoSchedule", "--overwrite"], flags, "pflag");
            assert.deepStrictEqual(r.positionals, ["taint", "nodes", "n1", "n2", "k=v:NoSchedule"]);
        });

        it("elasticsearch-exporter (flags.txt, kingpin)", () => {
            const b = binary("openSearchExporter");
            const { flags } = flagsOf(b);
            const p = (...args: string[]) => problemsOf(b, flags, args);
            assert.deepStrictEqual(p("--es.uri=https://x:9200", "--es.all", "--no-collector.cluster-info", "--es.timeout", "8s"), []);
            assert.deepStrictEqual(p("--es.url=https://x:9200"), ["--es.url: no such flag"]);
            assert.deepStrictEqual(p("--es.all=true"), ["--es.all=true: --es.all takes no value"]);
        });

        it("a malformed flags.txt line is an error, not an empty list", () => {
            assert.throws(() => parseFlagsTxt("--x <value> src.go:1\n"), /not "<spellings>/);
            assert.throws(() => parseFlagsTxt("--[no-]x <value>\tsrc.go:1\n"), /takes no value/);
            assert.throws(() => parseFlagsTxt("--x\ta:1\n--x\tb:2\n"), /listed twice/);
        });
    });

    describe("what the stacks declare", () => {
        for (const stack of STACKS) {
            it(`${stack}: every argument of every container is a flag of its binary at the pinned version`, async () => {
                const plan = await planStack(stack);
                const { problems, checked } = containerProblems(plan);
                assert.ok(checked >= 2, `checked ${checked} containers`);
                assert.deepStrictEqual(problems, [], `arguments the pinned binaries do not accept:\n${problems.join("\n")}`);
            });
        }

        it("the check reaches every checked container: a wrong flag in any of them is reported with its place and version", async () => {
            const problems: string[] = [];
            for (const stack of ["cluster-01", "cluster-02"]) {
                const plan = await planStack(stack);
                // The same plan with a wrong flag added to every container (to its command when it has no args).
                const broken = {
                    ...plan,
                    resources: plan.resources.map((r) => {
                        const m = JSON.parse(JSON.stringify(manifest(r)));
                        for (const p of podSpecs(m)) {
                            for (const c of p.containers ?? []) {
                                if (c.args === undefined && Array.isArray(c.command)) c.command = [...c.command, "--not-a-flag"];
                                else c.args = [...(c.args ?? []), "--not-a-flag"];
                            }
                        }
                        return { ...r, inputs: m };
                    }),
                } as Plan;
                problems.push(...containerProblems(broken).problems);
            }
            // Each binary named with the version of the flag list it was checked against (the pin's, or its folder exception's).
            const v = (image: ImageKey) => binaryFolder(binary(image)).version;
            const expected = [
                `cluster-01 StatefulSet thanos/cluster-01-memcached container memcached: --not-a-flag: no such flag (memcached ${v("memcached")})`,
                `cluster-01 StatefulSet thanos/cluster-01-memcached container exporter: --not-a-flag: no such flag (memcached-exporter ${v("memcachedExporter")})`,
                `cluster-01 Deployment logging/opensearch-exporter container exporter: --not-a-flag: no such flag (elasticsearch-exporter ${v("openSearchExporter")})`,
                `cluster-02 StatefulSet monitoring/prometheus-agent-a container prometheus: --not-a-flag: no such flag (prometheus ${v("prometheus")})`,
                `cluster-02 StatefulSet monitoring/prometheus-agent-a container config-reloader: --not-a-flag: no such flag (prometheus-config-reloader ${v("configReloader")})`,
                `cluster-02 Job monitoring/tenant-taint-a-7b8a4c98 container taint: --not-a-flag: no such flag (kubectl ${v("kubectl")})`,
            ];
            for (const e of expected) assert.ok(problems.includes(e), `${e} in:\n${problems.join("\n")}`);
            assert.ok(!problems.some((p) => /thanos-|opensearch-configure/.test(p.split(":")[0])), "UNCHECKED images are skipped");
        });

        it("cluster-01: the central Prometheus' additionalArgs (kube-prometheus-stack values) are server-mode flags of the chart's Prometheus", async () => {
            const plan = await planStack("cluster-01");
            const kps = chartValues(plan).find((c) => c.chart === charts.kubePrometheusStack.chart && c.values.prometheus?.prometheusSpec);
            assert.ok(kps, "the kube-prometheus-stack release with a Prometheus");
            const spec = kps.values.prometheus.prometheusSpec;
            // The chart's default image runs unless the program sets one; its version picks the folder.
            assert.strictEqual(spec.image, undefined, "the program sets no Prometheus image: the chart's default runs (update this test if it does)");
            assert.notStrictEqual(kps.values.prometheus.agentMode, true, "server mode");
            const tag = KPS_DEFAULTS().prometheus.prometheusSpec.image.tag as string;
            const { flags, version } = flagsOf(binary("prometheus"), tag);
            const args = operatorArgs(spec.additionalArgs ?? []);
            assert.ok(args.length >= 1, "the flush deadline is passed");
            const problems = problemsOf(binary("prometheus"), flags, args).map((p) => `cluster-01 Prometheus (kube-prometheus-stack ${charts.kubePrometheusStack.version} additionalArgs): ${p} (prometheus ${version})`);
            assert.deepStrictEqual(problems, [], problems.join("\n"));
            assert.deepStrictEqual(operatorArgs([{ name: "a.b", value: "1" }, { name: "c" }]), ["--a.b=1", "--c"]);
        });

        for (const stack of STACKS) {
            it(`${stack}: node-exporter's extraArgs (prometheus-node-exporter values) are flags of the chart's node_exporter`, async () => {
                const plan = await planStack(stack);
                const { flags, version } = nodeExporterFlags();
                const problems = chartValues(plan)
                    .filter((c) => c.chart === charts.nodeExporter.chart)
                    .flatMap((c) => {
                        assert.strictEqual(c.values.image?.tag, undefined, "the program sets no node-exporter image tag: the chart's appVersion runs (update this test if it does)");
                        return readArgs(c.values.extraArgs ?? [], flags, "kingpin").problems.map((p) => `${c.name} extraArgs: ${p} (node_exporter ${version})`);
                    });
                assert.deepStrictEqual(problems, [], problems.join("\n"));
                assert.ok(readArgs(["--collector.textfile.dir=/x"], flags, "kingpin").problems.length > 0, "a misspelt flag is reported (so the check can fail)");
            });

            it(`${stack}: chart values pass container arguments only where this test reads them`, async () => {
                const plan = await planStack(stack);
                const unread = chartValues(plan).flatMap((c) =>
                    argKeys(c.values)
                        .filter((k) => CHECKED_CHART_ARGS[c.chart] !== k)
                        .map((k) => `${c.name} (${c.chart}) ${k}: no flag check reads it — add one, as for ${Object.values(CHECKED_CHART_ARGS).join(", ")}`),
                );
                assert.deepStrictEqual(unread, [], unread.join("\n"));
            });
        }

    });

    describe("real binaries installed here", () => {
        // Debian 12's memcached is 1.6.18, 21 patch releases older than the pinned 1.6.39 (GitHub's Ubuntu runner
        // installs Ubuntu's, also older than the pin): the arguments are checked against 1.6.39's option table above;
        // this shows they also start a real memcached and mean what the program intends (memory limit, item size,
        // connections, threads). An option that 1.6.39 has and 1.6.18 lacks would fail here; none is used.
        it(`Debian's memcached (1.6.18 on Debian 12, older than the pinned ${versionOfTag(images.memcached.tag)}) starts with the generated arguments and reports their settings`, async function () {
            this.timeout(10000);
            const bin = tool("memcached", "memcached");
            const sts = k8sObjects(await planStack("cluster-01")).map(manifest).find((m) => m.kind === "StatefulSet" && m.metadata.name.endsWith("-memcached"));
            const c = sts.spec.template.spec.containers.find((x: any) => x.name === "memcached");
            const args: string[] = c.args;
            const value = (f: string) => {
                assert.ok(args.includes(f), `the generated memcached arguments have ${f}: ${args.join(" ")}`);
                return args[args.indexOf(f) + 1];
            };
            const port = await freePort();
            const local = ["-l", "127.0.0.1", "-p", `${port}`, "-U", "0", ...(process.getuid?.() === 0 ? ["-u", "nobody"] : [])];
            let log = "";
            const proc = spawn(bin, [...args, ...local], { stdio: ["ignore", "pipe", "pipe"] });
            proc.stdout!.on("data", (d) => (log += d));
            proc.stderr!.on("data", (d) => (log += d));
            try {
                await waitListening(port, proc, () => log);
                const version = await memcachedRequest(port, "version\r\n", /\r\n/);
                const pinned = versionOfTag(images.memcached.tag);
                const running = /^VERSION (\d+\.\d+\.\d+)\r\n$/.exec(version)?.[1];
                assert.ok(running, version);
                assert.strictEqual(running.split(".").slice(0, 2).join("."), pinned.split(".").slice(0, 2).join("."), `Debian's memcached ${running} is not of the pinned ${pinned}'s series: revisit this test's premise`);
                const stats = await memcachedRequest(port, "stats settings\r\n", /END\r\n/);
                const stat = (k: string) => new RegExp(`^STAT ${k} (\\S+)\r$`, "m").exec(stats)?.[1];
                assert.strictEqual(Number(stat("maxbytes")), mib(value("-m")), `-m ${value("-m")}`);
                assert.strictEqual(Number(stat("item_size_max")), size(value("-I")), `-I ${value("-I")}`);
                assert.strictEqual(stat("maxconns"), value("-c"), `-c ${value("-c")}`);
                assert.strictEqual(stat("num_threads"), value("-t"), `-t ${value("-t")}`);
            } finally {
                // SIGKILL: on SIGTERM memcached takes about a second to stop its background threads; this one holds nothing.
                if (proc.exitCode === null) {
                    const exited = new Promise((r) => proc.once("exit", r));
                    proc.kill("SIGKILL");
                    await exited;
                }
            }
        });
    });
});
