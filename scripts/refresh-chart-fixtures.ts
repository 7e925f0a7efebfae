/**
 * `npm run fixtures:charts`: the pinned charts' default values under test/fixtures/upstream/<chart>-<version>/, as the
 * pins of lib/versions.ts `charts` need them. A Renovate bump of a chart pin leaves its folder missing; this writes it
 * from the chart's archive in its Helm repository (the `repo` the program installs it from), with the subcharts the
 * chart enables by default (kube-prometheus-stack's grafana, kube-state-metrics, prometheus-node-exporter), removes
 * the chart folders no pin needs any more, and restates the `pin` of a folder a moved pin left to a parent.
 * `.github/workflows/renovate-refresh.yml` runs it on Renovate's branches (README, "CI/CD"); it needs the network only
 * when a folder is missing.
 *
 * The tests (test/refreshChartFixtures.test.ts) run all of it but the two HTTP GETs (the repository's index.yaml and
 * the archive): the planning functions are pure, and refreshChartFixtures takes the GET as an argument.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Parser } from "tar";
import { parse } from "yaml";
import { ChartRef, charts as pinnedCharts } from "../lib/versions";
import { UPSTREAM_DIR, UpstreamSource } from "../tools/upstream";

/** A chart pin of lib/versions.ts, with the words SOURCE.json uses for it. */
export interface ChartPin extends ChartRef {
    readonly pin: string;
}

export function chartPins(charts: Record<string, ChartRef> = pinnedCharts): ChartPin[] {
    return Object.entries(charts).map(([key, c]) => ({ chart: c.chart, version: c.version, repo: c.repo, pin: `lib/versions.ts charts.${key}` }));
}

/** The two files a chart folder holds: chartMeta reads Chart.yaml (dependencies, appVersion), chartDefaults values.yaml. */
export const CHART_FILES = ["Chart.yaml", "values.yaml"] as const;

/** A chart's fixture folder name. */
export const folderName = (chart: string, version: string) => `${chart}-${version}`;

/**
 * Where `helm package` puts a chart's files in its archive: `<chart>/…`, and each dependency, recursively, under
 * `<parent dir>/charts/<dependency chart name>/…` (helm pkg/chart/v2/util/save.go writeTarContents at v4.2.4: base is
 * `prefix/c.Name()`, dependencies written with prefix `base/charts`; the name is the chart's, never an alias).
 */
export function archivePaths(chart: string, subchart?: string): Record<(typeof CHART_FILES)[number], string> {
    const dir = subchart === undefined ? chart : `${chart}/charts/${subchart}`;
    return { "Chart.yaml": `${dir}/Chart.yaml`, "values.yaml": `${dir}/values.yaml` };
}

interface Dependency {
    readonly name: string;
    readonly version: string;
    readonly repository?: string;
    readonly condition?: string;
    readonly tags?: string[];
}

function valueAt(values: unknown, dotted: string): unknown {
    return dotted.split(".").reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), values);
}

/**
 * The subcharts a chart runs with its own defaults and that come from a Helm repository (a local subchart such as
 * kube-prometheus-stack's `crds` has no archive of its own and its values are the parent's). A condition is one or
 * more comma-separated value paths; the first that holds a boolean decides, and none leaves the dependency enabled
 * (helm pkg/chart/v2/util/dependencies.go processDependencyConditions at v4.2.4). Tags are not evaluated: a
 * dependency with tags and no deciding condition fails, naming it.
 */
export function defaultSubcharts(chartYaml: string, valuesYaml: string, where: string): { name: string; version: string; repository: string }[] {
    const meta = parse(chartYaml) as { dependencies?: Dependency[] };
    const values = parse(valuesYaml) as unknown;
    const out: { name: string; version: string; repository: string }[] = [];
    for (const dep of meta.dependencies ?? []) {
        if (!dep.repository) continue;
        const decided = (dep.condition ?? "")
            .split(",")
            .map((p) => valueAt(values, p.trim()))
            .find((v): v is boolean => typeof v === "boolean");
        if (decided === undefined && dep.tags?.length) throw new Error(`${where}: dependency ${dep.name} is enabled by tags (${dep.tags.join(", ")}), which this script does not evaluate`);
        if (decided === false) continue;
        if (!/^\d+\.\d+\.\d+$/.test(dep.version)) throw new Error(`${where}: dependency ${dep.name} is enabled by default at a version range (${dep.version}); pin its folder by hand`);
        out.push({ name: dep.name, version: dep.version, repository: dep.repository });
    }
    return out;
}

/** A folder the pins need: a pinned chart, or a subchart a pinned chart enables by default. */
export interface NeededFolder {
    readonly chart: string;
    readonly version: string;
    readonly chartRepository: string;
    /** Why it is needed, in SOURCE.json's `pin` words. */
    readonly reasons: string[];
    /** For a subchart: the pinned chart whose archive holds it. */
    readonly parent?: { readonly chart: string; readonly version: string; readonly repo: string };
}

/** What the folders hold: SOURCE.json and the files, as far as the plan reads them. */
export interface FolderListing {
    /** Folder name → its SOURCE.json (undefined when absent or unreadable) and the files present. */
    readonly [folder: string]: { readonly source?: Partial<UpstreamSource> & { chartRepository?: string }; readonly files: readonly string[] };
}

/** A chart folder is complete when its SOURCE.json names Chart.yaml and values.yaml and both are there. */
export function isComplete(listing: FolderListing, folder: string): boolean {
    const f = listing[folder];
    return f?.source?.files !== undefined && CHART_FILES.every((name) => name in f.source!.files! && f.files.includes(name));
}

export interface RefreshPlan {
    /** Pinned charts whose archive must be downloaded: their folder, or one of their default subcharts', is missing or incomplete. */
    readonly download: ChartPin[];
    /** Every folder the pins need (after the downloads), with why. */
    readonly needed: NeededFolder[];
    /** Chart folders (SOURCE.json with a `chartRepository`) no pin needs: a bumped pin's old version. */
    readonly orphans: string[];
    /** Needed folders whose SOURCE.json `pin` no longer says why (a pin moved off a version a parent still carries). */
    readonly restate: { readonly folder: string; readonly pin: string }[];
}

/**
 * Which archives to download, which folders to remove and whose `pin` to restate. `subchartsOf` reads a complete folder's default subcharts
 * (defaultSubcharts over its files); a parent that is downloaded gives its subcharts from the archive instead, so they
 * are not known here and its orphans (and restated pins) wait for the second plan, after the downloads.
 */
export function planRefresh(
    pins: readonly ChartPin[],
    listing: FolderListing,
    subchartsOf: (folder: string) => { name: string; version: string; repository: string }[],
): RefreshPlan {
    const needed = new Map<string, NeededFolder>();
    const need = (n: NeededFolder) => {
        const key = folderName(n.chart, n.version);
        const had = needed.get(key);
        needed.set(key, had ? { ...had, reasons: [...had.reasons, ...n.reasons] } : n);
    };
    const download: ChartPin[] = [];
    // The pins first, so that a folder both pinned and a subchart names its pin first.
    for (const p of pins) need({ chart: p.chart, version: p.version, chartRepository: p.repo, reasons: [p.pin] });
    for (const p of pins) {
        const folder = folderName(p.chart, p.version);
        if (!isComplete(listing, folder)) {
            download.push(p);
            continue;
        }
        const subs = subchartsOf(folder);
        for (const s of subs) {
            need({
                chart: s.name,
                version: s.version,
                chartRepository: s.repository,
                reasons: [`subchart of ${p.chart} ${p.version} (its Chart.yaml dependencies)`],
                parent: { chart: p.chart, version: p.version, repo: p.repo },
            });
        }
        if (subs.some((s) => !isComplete(listing, folderName(s.name, s.version)))) download.push(p);
    }
    if (download.length > 0) return { download, needed: [...needed.values()], orphans: [], restate: [] };
    const orphans = Object.keys(listing)
        .filter((f) => listing[f].source?.chartRepository !== undefined && !needed.has(f))
        .sort();
    const restate = [...needed.entries()]
        .map(([folder, n]) => ({ folder, pin: n.reasons.join("; also ") }))
        .filter(({ folder, pin }) => listing[folder].source?.pin !== pin);
    return { download, needed: [...needed.values()], orphans, restate };
}

/**
 * A chart-releaser repository: the Helm repository is the GitHub Pages site of the GitHub repository that tags each
 * release `<chart>-<version>` (https://<owner>.github.io/<repo> → https://github.com/<owner>/<repo>). Every chart
 * pinned here is published that way; another kind of repository fails, naming it (SOURCE.json needs the source).
 */
export function githubRepository(chartRepository: string): string {
    const m = /^https:\/\/([A-Za-z0-9-]+)\.github\.io\/([\w.-]+?)\/?$/.exec(chartRepository);
    if (!m) throw new Error(`${chartRepository} is not a GitHub Pages Helm repository: write the SOURCE.json of its charts by hand (the GitHub repository and tag of the chart's source)`);
    return `https://github.com/${m[1]}/${m[2]}`;
}

/** Where a chart's archive is and its digest, from the repository's index.yaml (Helm resolves a relative URL against the repository URL: repo/v1/chartrepo.go ResolveReferenceURL at v4.2.4). */
export function archiveOf(indexYaml: string, repo: string, chart: string, version: string): { url: string; digest: string } {
    const index = parse(indexYaml) as { entries?: Record<string, { version: string; urls?: string[]; digest?: string }[]> };
    const entry = index.entries?.[chart]?.find((e) => e.version === version);
    if (!entry) throw new Error(`${repo}/index.yaml has no ${chart} ${version}`);
    if (!entry.urls?.length) throw new Error(`${repo}/index.yaml: ${chart} ${version} has no download URL`);
    if (!entry.digest || !/^[0-9a-f]{64}$/.test(entry.digest)) throw new Error(`${repo}/index.yaml: ${chart} ${version} has no sha256 digest`);
    const base = new URL(repo.replace(/\/*$/, "/"));
    const url = new URL(entry.urls[0], base);
    url.search = base.search;
    return { url: url.toString(), digest: `sha256:${entry.digest}` };
}

/** The files at `paths` in a .tgz (an archive path absent from it fails, naming it). */
export async function filesInArchive(tgz: Buffer, paths: readonly string[]): Promise<Map<string, Buffer>> {
    const wanted = new Set(paths);
    const found = new Map<string, Buffer>();
    await new Promise<void>((resolve, reject) => {
        const parser = new Parser({
            strict: true,
            onReadEntry: (entry) => {
                if (!wanted.has(entry.path)) return entry.resume();
                const chunks: Buffer[] = [];
                entry.on("data", (c: Buffer) => chunks.push(c));
                entry.on("end", () => found.set(entry.path, Buffer.concat(chunks)));
            },
        });
        parser.on("error", reject);
        parser.on("end", resolve);
        parser.end(tgz);
    });
    const absent = paths.filter((p) => !found.has(p));
    if (absent.length) throw new Error(`the archive has no ${absent.join(", ")}`);
    return found;
}

/** A folder's SOURCE.json, naming the GitHub source, the Helm repository, the archive and each file's path in it. */
export function sourceJson(n: NeededFolder, archive: { url: string; digest: string }): UpstreamSource & Record<string, unknown> {
    const paths = archivePaths(n.parent?.chart ?? n.chart, n.parent ? n.chart : undefined);
    return {
        repository: githubRepository(n.chartRepository),
        chartRepository: n.chartRepository,
        tag: folderName(n.chart, n.version),
        pin: n.reasons.join("; also "),
        archive: archive.url,
        digest: archive.digest,
        files: {
            "Chart.yaml": { path: paths["Chart.yaml"], extract: "from the archive: the Chart.yaml helm package writes (the chart's metadata, re-serialized)" },
            "values.yaml": { path: paths["values.yaml"], extract: "from the archive, verbatim" },
        },
        note: `written by npm run fixtures:charts (scripts/refresh-chart-fixtures.ts) from ${n.parent ? `the archive of ${n.parent.chart} ${n.parent.version}, which carries this subchart` : "the chart's archive"}`,
    };
}

/** The fixture folders as they are on disk. */
export function readListing(dir = UPSTREAM_DIR): FolderListing {
    const out: Record<string, FolderListing[string]> = {};
    for (const folder of fs.readdirSync(dir)) {
        const files = fs.readdirSync(path.join(dir, folder));
        let source: FolderListing[string]["source"];
        try {
            source = JSON.parse(fs.readFileSync(path.join(dir, folder, "SOURCE.json"), "utf8"));
        } catch {
            source = undefined;
        }
        out[folder] = { source, files };
    }
    return out;
}

const subchartsOnDisk = (dir: string) => (folder: string) =>
    defaultSubcharts(fs.readFileSync(path.join(dir, folder, "Chart.yaml"), "utf8"), fs.readFileSync(path.join(dir, folder, "values.yaml"), "utf8"), folder);

async function download(url: string): Promise<Buffer> {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${res.statusText}`);
    return Buffer.from(await res.arrayBuffer());
}

/** What a folder's SOURCE.json says it is for: the pins naming it, then the pinned charts that carry it as a subchart. */
function reasonsFor(folder: string, pins: readonly ChartPin[], subchartsOf: ReadonlyMap<string, NeededFolder[]>): string[] {
    const subOf = [...subchartsOf.values()].flat().filter((s) => folderName(s.chart, s.version) === folder);
    return [...pins.filter((p) => folderName(p.chart, p.version) === folder).map((p) => p.pin), ...subOf.flatMap((s) => s.reasons)];
}

/**
 * Brings the fixture folders in `dir` to what `pins` need: downloads (with `get`) and writes the missing folders,
 * removes the orphans; returns what it did, one line each. `get` is the only network access.
 */
export async function refreshChartFixtures(dir: string, pins: readonly ChartPin[], get: (url: string) => Promise<Buffer>): Promise<string[]> {
    const done: string[] = [];
    const plan = planRefresh(pins, readListing(dir), subchartsOnDisk(dir));
    // The subcharts of every pinned chart: from its folder, or from its archive when it is downloaded.
    const subcharts = new Map<string, NeededFolder[]>();
    for (const n of plan.needed.filter((x) => x.parent)) {
        const parent = folderName(n.parent!.chart, n.parent!.version);
        subcharts.set(parent, [...(subcharts.get(parent) ?? []), n]);
    }
    const sources = new Map<string, { n: Omit<NeededFolder, "reasons">; tgz: Buffer; archive: { url: string; digest: string } }>();
    const indexes = new Map<string, string>();
    for (const p of plan.download) {
        if (!indexes.has(p.repo)) indexes.set(p.repo, (await get(`${p.repo.replace(/\/+$/, "")}/index.yaml`)).toString("utf8"));
        const archive = archiveOf(indexes.get(p.repo)!, p.repo, p.chart, p.version);
        const tgz = await get(archive.url);
        const actual = `sha256:${crypto.createHash("sha256").update(tgz).digest("hex")}`;
        if (actual !== archive.digest) throw new Error(`${archive.url}: digest ${actual}, index.yaml says ${archive.digest}`);
        const own = archivePaths(p.chart);
        const files = await filesInArchive(tgz, Object.values(own));
        const parent = { chart: p.chart, version: p.version, repo: p.repo };
        const subs = defaultSubcharts(files.get(own["Chart.yaml"])!.toString("utf8"), files.get(own["values.yaml"])!.toString("utf8"), archive.url).map(
            (s): NeededFolder => ({ chart: s.name, version: s.version, chartRepository: s.repository, reasons: [`subchart of ${p.chart} ${p.version} (its Chart.yaml dependencies)`], parent }),
        );
        subcharts.set(folderName(p.chart, p.version), subs);
        // A chart's own archive is its source; a subchart's is the parent's archive, unless the subchart is pinned too.
        sources.set(folderName(p.chart, p.version), { n: { chart: p.chart, version: p.version, chartRepository: p.repo }, tgz, archive });
        for (const s of subs) if (!sources.has(folderName(s.chart, s.version))) sources.set(folderName(s.chart, s.version), { n: s, tgz, archive });
    }
    const listing = readListing(dir);
    for (const [folder, { n, tgz, archive }] of sources) {
        if (isComplete(listing, folder)) continue;
        const paths = archivePaths(n.parent?.chart ?? n.chart, n.parent ? n.chart : undefined);
        const files = await filesInArchive(tgz, Object.values(paths));
        const target = path.join(dir, folder);
        fs.rmSync(target, { recursive: true, force: true });
        fs.mkdirSync(target);
        for (const name of CHART_FILES) fs.writeFileSync(path.join(target, name), files.get(paths[name])!);
        const source = sourceJson({ ...n, reasons: reasonsFor(folder, pins, subcharts) }, archive);
        fs.writeFileSync(path.join(target, "SOURCE.json"), `${JSON.stringify(source, null, 4)}\n`);
        done.push(`wrote ${folder}/ from ${archive.url}`);
    }
    // With every folder written, the plan reads every pin's subcharts: what is left over is a bumped pin's old folder.
    const after = planRefresh(pins, readListing(dir), subchartsOnDisk(dir));
    if (after.download.length) throw new Error(`still incomplete after the downloads: ${after.download.map((p) => folderName(p.chart, p.version)).join(", ")}`);
    for (const folder of after.orphans) {
        fs.rmSync(path.join(dir, folder), { recursive: true });
        done.push(`removed ${folder}/ (no pin needs it)`);
    }
    // Only the `pin` value changes: the rest of a folder's SOURCE.json (often written by hand) stays as it is.
    for (const { folder, pin } of after.restate) {
        const file = path.join(dir, folder, "SOURCE.json");
        const text = fs.readFileSync(file, "utf8");
        const pinValue = /("pin":\s*)"(?:[^"\\]|\\.)*"/;
        if (!pinValue.test(text)) throw new Error(`${folder}/SOURCE.json has no "pin" string`);
        fs.writeFileSync(file, text.replace(pinValue, (_, key: string) => `${key}${JSON.stringify(pin)}`));
        done.push(`${folder}/SOURCE.json: pin is now ${JSON.stringify(pin)}`);
    }
    return done;
}

if (require.main === module) {
    refreshChartFixtures(UPSTREAM_DIR, chartPins(), download).then(
        (done) => console.log(done.length ? done.join("\n") : "chart fixtures: every pin has its folder, no folder is left over"),
        (e) => {
            console.error(e instanceof Error ? e.message : e);
            process.exit(1);
        },
    );
}
