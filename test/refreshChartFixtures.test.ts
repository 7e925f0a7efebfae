/**
 * `npm run fixtures:charts` (scripts/refresh-chart-fixtures.ts): which chart folders a pin bump leaves missing or
 * stale, where their files are in a chart archive, what SOURCE.json says, and a whole refresh against a fake Helm
 * repository built here (the only part not run is the HTTP GET itself: no network on this machine).
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tar from "tar";
import { parse, stringify } from "yaml";
import { charts } from "../lib/versions";
import {
    ChartPin,
    FolderListing,
    archiveOf,
    archivePaths,
    chartPins,
    defaultSubcharts,
    githubRepository,
    isComplete,
    planRefresh,
    readListing,
    refreshChartFixtures,
    sourceJson,
} from "../scripts/refresh-chart-fixtures";
import { UPSTREAM_DIR, upstreamSource } from "./helpers/upstream";

const KPS = charts.kubePrometheusStack;
const KSM = charts.kubeStateMetrics;
const kpsFolder = path.join(UPSTREAM_DIR, `${KPS.chart}-${KPS.version}`);
const kpsChartYaml = fs.readFileSync(path.join(kpsFolder, "Chart.yaml"), "utf8");
const kpsValuesYaml = fs.readFileSync(path.join(kpsFolder, "values.yaml"), "utf8");
const subchartsOnDisk = (folder: string) =>
    defaultSubcharts(fs.readFileSync(path.join(UPSTREAM_DIR, folder, "Chart.yaml"), "utf8"), fs.readFileSync(path.join(UPSTREAM_DIR, folder, "values.yaml"), "utf8"), folder);

/** A listing with complete chart folders for `folders` (SOURCE.json with a chartRepository, both files; `pin` as a pin of that chart says). */
const listingOf = (...folders: string[]): FolderListing =>
    Object.fromEntries(
        folders.map((f) => [
            f,
            {
                source: { chartRepository: "https://example.github.io/charts", pin: `lib/versions.ts charts.${f.replace(/-[\d.]+$/, "")}`, files: { "Chart.yaml": { path: "x" }, "values.yaml": { path: "x" } } },
                files: ["Chart.yaml", "values.yaml", "SOURCE.json"],
            },
        ]),
    );

describe("chart fixtures refresh (npm run fixtures:charts)", () => {
    it("reads the pins from lib/versions.ts, with the Helm repository the program installs each chart from", () => {
        const pins = chartPins();
        assert.deepStrictEqual(
            pins.map((p) => [p.chart, p.version, p.repo]),
            Object.values(charts).map((c) => [c.chart, c.version, c.repo]),
        );
        assert.strictEqual(pins.find((p) => p.chart === KSM.chart)!.pin, "lib/versions.ts charts.kubeStateMetrics");
    });

    it("finds a chart's files where helm package puts them: <chart>/…, a dependency under <chart>/charts/<name>/…", () => {
        assert.deepStrictEqual(archivePaths("kube-prometheus-stack"), { "Chart.yaml": "kube-prometheus-stack/Chart.yaml", "values.yaml": "kube-prometheus-stack/values.yaml" });
        assert.deepStrictEqual(archivePaths("kube-prometheus-stack", "grafana"), {
            "Chart.yaml": "kube-prometheus-stack/charts/grafana/Chart.yaml",
            "values.yaml": "kube-prometheus-stack/charts/grafana/values.yaml",
        });
    });

    it("takes the subcharts a chart enables by default from a Helm repository: kube-prometheus-stack's grafana, kube-state-metrics and node exporter, not its local crds nor the Windows exporter it disables", () => {
        const deps = (parse(kpsChartYaml) as { dependencies: { name: string; version: string; repository?: string }[] }).dependencies;
        const subs = defaultSubcharts(kpsChartYaml, kpsValuesYaml, "kps");
        assert.deepStrictEqual(subs.map((s) => s.name).sort(), ["grafana", "kube-state-metrics", "prometheus-node-exporter"]);
        for (const s of subs) assert.deepStrictEqual(s, { name: s.name, version: deps.find((d) => d.name === s.name)!.version, repository: deps.find((d) => d.name === s.name)!.repository });
        assert.ok(deps.some((d) => d.name === "crds") && deps.some((d) => d.name === "prometheus-windows-exporter"), "the two left out are dependencies of the pinned chart");
    });

    it("evaluates a condition as Helm does: the first comma-separated path holding a boolean decides, none leaves it enabled; tags and version ranges fail, naming the dependency", () => {
        const chart = (dep: Record<string, unknown>) => stringify({ name: "p", version: "1.0.0", dependencies: [{ name: "d", version: "1.2.3", repository: "https://o.github.io/r", ...dep }] });
        const names = (dep: Record<string, unknown>, values: unknown) => defaultSubcharts(chart(dep), stringify(values), "p").map((s) => s.name);
        assert.deepStrictEqual(names({ condition: "a.on,b.on" }, { a: {}, b: { on: false } }), []);
        assert.deepStrictEqual(names({ condition: "a.on,b.on" }, { a: { on: true }, b: { on: false } }), ["d"]);
        assert.deepStrictEqual(names({ condition: "a.on" }, { a: { on: "yes" } }), ["d"], "not a boolean: no effect");
        assert.deepStrictEqual(names({}, {}), ["d"]);
        assert.throws(() => names({ tags: ["t"] }, {}), /p: dependency d is enabled by tags \(t\)/);
        assert.deepStrictEqual(names({ tags: ["t"], condition: "a.on" }, { a: { on: false } }), [], "a deciding condition wins over tags");
        assert.throws(() => names({ version: "0.12.*" }, {}), /p: dependency d is enabled by default at a version range \(0\.12\.\*\)/);
        assert.deepStrictEqual(names({ version: "0.12.*", condition: "w.on" }, { w: { on: false } }), [], "a disabled range is not fetched");
    });

    it("the committed folders are exactly what the pins need: nothing to download, nothing left over", () => {
        const listing = readListing();
        const plan = planRefresh(chartPins(), listing, subchartsOnDisk);
        assert.deepStrictEqual(plan.download, []);
        assert.deepStrictEqual(plan.orphans, []);
        assert.deepStrictEqual(plan.restate, []);
        const chartFolders = Object.keys(listing).filter((f) => listing[f].source?.chartRepository !== undefined);
        assert.deepStrictEqual(plan.needed.map((n) => `${n.chart}-${n.version}`).sort(), chartFolders.sort());
        // The folders written by hand say what the script would: same GitHub repository, tag and pin.
        for (const n of plan.needed) {
            const src = upstreamSource(path.join(UPSTREAM_DIR, `${n.chart}-${n.version}`));
            assert.strictEqual(src.repository, githubRepository(n.chartRepository), n.chart);
            assert.strictEqual(src.tag, `${n.chart}-${n.version}`);
            assert.strictEqual(src.pin, n.reasons.join("; also "), n.chart);
        }
    });

    it("downloads a pin whose folder is missing or incomplete, and a pinned chart whose default subchart's folder is missing; removes a folder no pin needs, but only chart folders and only once nothing is missing", () => {
        const pin = (chart: string, version: string): ChartPin => ({ chart, version, repo: "https://example.github.io/charts", pin: `lib/versions.ts charts.${chart}` });
        const noSubs = () => [];
        assert.deepStrictEqual(planRefresh([pin("a", "2.0.0")], listingOf("a-1.0.0"), noSubs).download.map((p) => p.version), ["2.0.0"]);
        assert.deepStrictEqual(planRefresh([pin("a", "2.0.0")], listingOf("a-1.0.0"), noSubs).orphans, [], "the old folder stays until the new one is written");
        assert.deepStrictEqual(planRefresh([pin("a", "2.0.0")], listingOf("a-1.0.0", "a-2.0.0"), noSubs), {
            download: [],
            needed: [{ chart: "a", version: "2.0.0", chartRepository: "https://example.github.io/charts", reasons: ["lib/versions.ts charts.a"] }],
            orphans: ["a-1.0.0"],
            restate: [],
        });
        const incomplete = (mutate: (l: Record<string, any>) => void) => {
            const l = structuredClone(listingOf("a-2.0.0")) as Record<string, any>;
            mutate(l);
            assert.ok(!isComplete(l, "a-2.0.0"));
            return planRefresh([pin("a", "2.0.0")], l, noSubs).download.length;
        };
        assert.strictEqual(incomplete((l) => (l["a-2.0.0"].files = ["Chart.yaml", "SOURCE.json"])), 1, "values.yaml absent");
        assert.strictEqual(incomplete((l) => delete l["a-2.0.0"].source.files["values.yaml"]), 1, "values.yaml not named in SOURCE.json");
        assert.strictEqual(incomplete((l) => (l["a-2.0.0"].source = undefined)), 1, "no SOURCE.json");
        // A parent with a default subchart: its subchart's folder is needed, and missing it means the parent's archive.
        const withSub = () => [{ name: "s", version: "3.0.0", repository: "https://example.github.io/charts" }];
        assert.deepStrictEqual(planRefresh([pin("p", "1.0.0")], listingOf("p-1.0.0"), withSub).download.map((p) => p.chart), ["p"]);
        const full = planRefresh([pin("p", "1.0.0")], listingOf("p-1.0.0", "s-3.0.0", "s-2.0.0"), withSub);
        assert.deepStrictEqual([full.download, full.orphans], [[], ["s-2.0.0"]]);
        assert.deepStrictEqual(full.needed[1].parent, { chart: "p", version: "1.0.0", repo: "https://example.github.io/charts" });
        // s-3.0.0 said it was pinned; it is now only p's subchart (its pin moved on): its SOURCE.json must say so.
        assert.deepStrictEqual(full.restate, [{ folder: "s-3.0.0", pin: "subchart of p 1.0.0 (its Chart.yaml dependencies)" }]);
        // Pinned and a subchart: the pin first, whichever comes first in lib/versions.ts.
        const both = planRefresh([pin("p", "1.0.0"), pin("s", "3.0.0")], listingOf("p-1.0.0", "s-3.0.0"), (f) => (f === "p-1.0.0" ? withSub() : []));
        assert.deepStrictEqual(both.restate, [{ folder: "s-3.0.0", pin: "lib/versions.ts charts.s; also subchart of p 1.0.0 (its Chart.yaml dependencies)" }]);
        // A folder of another kind (no chartRepository: an application's flags or metrics) is never removed.
        const other = { ...listingOf("p-1.0.0", "s-3.0.0"), "thing-v1.0.0": { source: { repository: "https://github.com/o/thing", files: {} }, files: ["flags.txt", "SOURCE.json"] } };
        assert.deepStrictEqual(planRefresh([pin("p", "1.0.0")], other, withSub).orphans, []);
    });

    it("names the GitHub repository of a GitHub Pages Helm repository (chart-releaser), and refuses any other", () => {
        assert.strictEqual(githubRepository("https://prometheus-community.github.io/helm-charts"), "https://github.com/prometheus-community/helm-charts");
        assert.strictEqual(githubRepository("https://fluent.github.io/helm-charts/"), "https://github.com/fluent/helm-charts");
        for (const bad of ["https://charts.example.com/stable", "oci://ghcr.io/o/charts", "http://o.github.io/r"]) assert.throws(() => githubRepository(bad), /is not a GitHub Pages Helm repository/, bad);
        for (const c of Object.values(charts)) assert.doesNotThrow(() => githubRepository(c.repo), c.chart);
    });

    it("finds the archive in index.yaml: a relative URL resolved against the repository as Helm does, an absolute one kept; a missing version or digest fails", () => {
        const digest = "ab".repeat(32);
        const index = stringify({
            apiVersion: "v1",
            entries: {
                a: [
                    { version: "1.0.0", urls: ["a-1.0.0.tgz"], digest },
                    { version: "2.0.0", urls: ["https://github.com/o/r/releases/download/a-2.0.0/a-2.0.0.tgz"], digest },
                    { version: "3.0.0", urls: ["a-3.0.0.tgz"] },
                ],
            },
        });
        assert.deepStrictEqual(archiveOf(index, "https://o.github.io/r", "a", "1.0.0"), { url: "https://o.github.io/r/a-1.0.0.tgz", digest: `sha256:${digest}` });
        assert.strictEqual(archiveOf(index, "https://o.github.io/r/", "a", "1.0.0").url, "https://o.github.io/r/a-1.0.0.tgz");
        assert.strictEqual(archiveOf(index, "https://o.github.io/r", "a", "2.0.0").url, "https://github.com/o/r/releases/download/a-2.0.0/a-2.0.0.tgz");
        assert.throws(() => archiveOf(index, "https://o.github.io/r", "a", "9.9.9"), /index\.yaml has no a 9\.9\.9/);
        assert.throws(() => archiveOf(index, "https://o.github.io/r", "b", "1.0.0"), /has no b 1\.0\.0/);
        assert.throws(() => archiveOf(index, "https://o.github.io/r", "a", "3.0.0"), /a 3\.0\.0 has no sha256 digest/);
    });

    it("writes a SOURCE.json the fixture checks accept, naming the archive and each file's path in it (a subchart's inside its parent's archive)", () => {
        const archive = { url: "https://github.com/o/r/releases/download/p-1.0.0/p-1.0.0.tgz", digest: `sha256:${"cd".repeat(32)}` };
        const sub = sourceJson({ chart: "s", version: "3.0.0", chartRepository: "https://o.github.io/r", reasons: ["lib/versions.ts charts.s", "subchart of p 1.0.0 (its Chart.yaml dependencies)"], parent: { chart: "p", version: "1.0.0", repo: "https://o.github.io/r" } }, archive);
        assert.strictEqual(sub.repository, "https://github.com/o/r");
        assert.strictEqual(sub.tag, "s-3.0.0");
        assert.strictEqual(sub.pin, "lib/versions.ts charts.s; also subchart of p 1.0.0 (its Chart.yaml dependencies)");
        assert.deepStrictEqual([sub.archive, sub.digest], [archive.url, archive.digest]);
        assert.deepStrictEqual(Object.fromEntries(Object.entries(sub.files).map(([k, v]) => [k, v.path])), { "Chart.yaml": "p/charts/s/Chart.yaml", "values.yaml": "p/charts/s/values.yaml" });
        const own = sourceJson({ chart: "p", version: "1.0.0", chartRepository: "https://o.github.io/r", reasons: ["lib/versions.ts charts.p"] }, archive);
        assert.deepStrictEqual(Object.values(own.files).map((f) => f.path), ["p/Chart.yaml", "p/values.yaml"]);
    });

    describe("a whole refresh against a fake Helm repository (kube-prometheus-stack and kube-state-metrics bumped)", () => {
        const NEW_KPS = "99.1.0";
        const NEW_KSM = "99.2.0";
        const NEW_GRAFANA = "99.3.0";
        const REPO = KPS.repo;
        let tmp: string;
        let dir: string;
        let served: Map<string, Buffer>;
        let requests: string[];
        const deps = (parse(kpsChartYaml) as { dependencies: { name: string; version: string }[] }).dependencies;
        const depVersion = (name: string) => deps.find((d) => d.name === name)!.version;
        const oldGrafana = `grafana-${depVersion("grafana")}`;
        const nodeExporterFolder = `prometheus-node-exporter-${depVersion("prometheus-node-exporter")}`;
        const pins = () => chartPins().map((p) => (p.chart === KPS.chart ? { ...p, version: NEW_KPS } : p.chart === KSM.chart ? { ...p, version: NEW_KSM } : p));
        const get = async (url: string) => {
            requests.push(url);
            const body = served.get(url);
            if (!body) throw new Error(`GET ${url}: 404`);
            return body;
        };
        /** A .tgz laid out as helm package writes it, from files given by archive path. */
        const archive = (files: Record<string, string>): Buffer => {
            const src = fs.mkdtempSync(path.join(tmp, "src-"));
            for (const [p, text] of Object.entries(files)) {
                fs.mkdirSync(path.dirname(path.join(src, p)), { recursive: true });
                fs.writeFileSync(path.join(src, p), text);
            }
            const file = path.join(tmp, `${path.basename(src)}.tgz`);
            tar.c({ gzip: true, sync: true, cwd: src, file, portable: true }, Object.keys(files));
            return fs.readFileSync(file);
        };
        const read = (folder: string, file: string) => fs.readFileSync(path.join(dir, folder, file), "utf8");
        const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");
        const kpsUrl = `https://github.com/prometheus-community/helm-charts/releases/download/${KPS.chart}-${NEW_KPS}/${KPS.chart}-${NEW_KPS}.tgz`;
        const ksmUrl = `${REPO}/${KSM.chart}-${NEW_KSM}.tgz`;
        let kpsFiles: Record<string, string>;

        beforeEach(() => {
            tmp = fs.mkdtempSync(path.join(os.tmpdir(), "chart-fixtures-"));
            dir = path.join(tmp, "upstream");
            const listing = readListing();
            // The chart folders and one folder of another kind, which the refresh must leave alone.
            const other = Object.keys(listing).find((f) => listing[f].source?.chartRepository === undefined)!;
            for (const f of [...Object.keys(listing).filter((x) => listing[x].source?.chartRepository !== undefined), other]) fs.cpSync(path.join(UPSTREAM_DIR, f), path.join(dir, f), { recursive: true });
            const kpsChart = parse(kpsChartYaml) as { version: string; dependencies: { name: string; version: string }[] };
            kpsChart.version = NEW_KPS;
            for (const d of kpsChart.dependencies) d.version = d.name === "grafana" ? NEW_GRAFANA : d.name === "kube-state-metrics" ? NEW_KSM : d.version;
            const sub = (name: string, version: string, values: string) => ({
                [`${KPS.chart}/charts/${name}/Chart.yaml`]: stringify({ name, version }),
                [`${KPS.chart}/charts/${name}/values.yaml`]: values,
            });
            kpsFiles = {
                [`${KPS.chart}/Chart.yaml`]: stringify(kpsChart),
                [`${KPS.chart}/values.yaml`]: kpsValuesYaml,
                [`${KPS.chart}/templates/x.yaml`]: "kind: ConfigMap\n",
                ...sub("crds", "0.0.0", "{}\n"),
                ...sub("grafana", NEW_GRAFANA, "grafana: new\n"),
                ...sub("kube-state-metrics", NEW_KSM, "ksm: from kps\n"),
                ...sub("prometheus-node-exporter", depVersion("prometheus-node-exporter"), "ne: from kps\n"),
                ...sub("prometheus-windows-exporter", "0.12.9", "windows: true\n"),
            };
            const kpsTgz = archive(kpsFiles);
            const ksmTgz = archive({ [`${KSM.chart}/Chart.yaml`]: stringify({ name: KSM.chart, version: NEW_KSM }), [`${KSM.chart}/values.yaml`]: "ksm: own\n" });
            const index = stringify({
                apiVersion: "v1",
                entries: {
                    [KPS.chart]: [{ version: NEW_KPS, urls: [kpsUrl], digest: sha(kpsTgz) }],
                    [KSM.chart]: [{ version: NEW_KSM, urls: [`${KSM.chart}-${NEW_KSM}.tgz`], digest: sha(ksmTgz) }],
                },
            });
            served = new Map([
                [`${REPO}/index.yaml`, Buffer.from(index)],
                [kpsUrl, kpsTgz],
                [ksmUrl, ksmTgz],
            ]);
            requests = [];
        });
        afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

        it("writes the new folders from the archives, removes the bumped pins' old folders, reads the index once, leaves every other folder alone", async () => {
            const before = fs.readdirSync(dir).sort();
            const done = await refreshChartFixtures(dir, pins(), get);
            const kpsNew = `${KPS.chart}-${NEW_KPS}`;
            const ksmNew = `${KSM.chart}-${NEW_KSM}`;
            const grafanaNew = `grafana-${NEW_GRAFANA}`;
            assert.deepStrictEqual(requests.sort(), [`${REPO}/index.yaml`, kpsUrl, ksmUrl].sort(), "one index, one archive per bumped pin");
            // The bumped pins' old folders, and the old subchart folders of kube-prometheus-stack (kube-state-metrics' may be both).
            const gone = new Set([`${KPS.chart}-${KPS.version}`, `${KSM.chart}-${KSM.version}`, `${KSM.chart}-${depVersion(KSM.chart)}`, oldGrafana]);
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), [...before.filter((f) => !gone.has(f)), kpsNew, ksmNew, grafanaNew].sort());
            assert.strictEqual(done.filter((l) => l.startsWith("wrote ")).length, 3);
            assert.deepStrictEqual(done.filter((l) => l.startsWith("removed ")).sort(), [...gone].map((f) => `removed ${f}/ (no pin needs it)`).sort());
            // The chart's files as the archive holds them; the subchart's from the parent's archive.
            assert.strictEqual(read(kpsNew, "values.yaml"), kpsValuesYaml);
            assert.strictEqual(read(kpsNew, "Chart.yaml"), kpsFiles[`${KPS.chart}/Chart.yaml`]);
            assert.strictEqual(read(grafanaNew, "values.yaml"), "grafana: new\n");
            // kube-state-metrics is pinned and a subchart: its own archive is its source, and SOURCE.json says both.
            assert.strictEqual(read(ksmNew, "values.yaml"), "ksm: own\n");
            const ksmSource = JSON.parse(read(ksmNew, "SOURCE.json"));
            assert.strictEqual(ksmSource.archive, ksmUrl);
            assert.strictEqual(ksmSource.pin, `lib/versions.ts charts.kubeStateMetrics; also subchart of ${KPS.chart} ${NEW_KPS} (its Chart.yaml dependencies)`);
            const grafanaSource = JSON.parse(read(grafanaNew, "SOURCE.json"));
            assert.deepStrictEqual([grafanaSource.repository, grafanaSource.tag, grafanaSource.archive, grafanaSource.files["values.yaml"].path], [
                githubRepository((parse(kpsChartYaml) as { dependencies: { name: string; repository: string }[] }).dependencies.find((d) => d.name === "grafana")!.repository),
                grafanaNew,
                kpsUrl,
                `${KPS.chart}/charts/grafana/values.yaml`,
            ]);
            // What the fixture checks (test/upstreamFixtures.test.ts) and the chart readers need of every new folder.
            for (const f of [kpsNew, ksmNew, grafanaNew]) {
                const src = upstreamSource(path.join(dir, f));
                assert.match(src.repository, /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
                assert.ok(src.tag.endsWith(/-(v?\d[\w.]*)$/.exec(f)![1]));
                assert.deepStrictEqual(Object.keys(src.files).sort(), fs.readdirSync(path.join(dir, f)).filter((x) => x !== "SOURCE.json").sort());
            }
            // The node exporter's folder was complete: untouched (not rewritten from the parent's copy).
            assert.strictEqual(read(nodeExporterFolder, "values.yaml"), fs.readFileSync(path.join(UPSTREAM_DIR, nodeExporterFolder, "values.yaml"), "utf8"));
            // A second run has nothing to do and touches no network.
            requests = [];
            assert.deepStrictEqual(await refreshChartFixtures(dir, pins(), get), []);
            assert.deepStrictEqual(requests, []);
        });

        it("a pin bumped off a version its parent still carries: the new folder written, the old one kept with its pin restated and nothing else in its SOURCE.json changed", async () => {
            const ksmAt = (version: string) => chartPins().map((p) => (p.chart === KSM.chart ? { ...p, version } : p));
            const onlyKsm = ksmAt(NEW_KSM);
            const carried = `${KSM.chart}-${depVersion(KSM.chart)}`;
            // Start from the pin on the version kube-prometheus-stack carries (what lib/versions.ts has had so far).
            await refreshChartFixtures(dir, ksmAt(depVersion(KSM.chart)), get);
            assert.match(read(carried, "SOURCE.json"), /"pin": "lib\/versions\.ts charts\.kubeStateMetrics; also subchart of /);
            const before = read(carried, "SOURCE.json");
            const done = await refreshChartFixtures(dir, onlyKsm, get);
            const restated = `subchart of ${KPS.chart} ${KPS.version} (its Chart.yaml dependencies)`;
            assert.deepStrictEqual(done, [`wrote ${KSM.chart}-${NEW_KSM}/ from ${ksmUrl}`, `${carried}/SOURCE.json: pin is now ${JSON.stringify(restated)}`]);
            assert.strictEqual(JSON.parse(read(carried, "SOURCE.json")).pin, restated);
            assert.strictEqual(read(carried, "SOURCE.json"), before.replace(/("pin":\s*)"[^"]*"/, `$1${JSON.stringify(restated)}`), "only the pin's value changed");
            assert.deepStrictEqual(await refreshChartFixtures(dir, onlyKsm, get), []);
        });

        it("an archive that does not match the index's digest fails before any folder is written or removed", async () => {
            served.set(kpsUrl, Buffer.concat([served.get(kpsUrl)!, Buffer.from([0])]));
            const before = fs.readdirSync(dir).sort();
            await assert.rejects(refreshChartFixtures(dir, pins(), get), new RegExp(`${kpsUrl.replace(/[.]/g, "\\.")}: digest sha256:[0-9a-f]{64}, index.yaml says sha256:`));
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), before);
        });

        it("an archive without the chart's values.yaml fails, naming the path it looked for", async () => {
            const { [`${KPS.chart}/values.yaml`]: _values, ...rest } = kpsFiles;
            void _values;
            const tgz = archive(rest);
            served.set(kpsUrl, tgz);
            const index = parse(served.get(`${REPO}/index.yaml`)!.toString()) as { entries: Record<string, { digest: string }[]> };
            index.entries[KPS.chart][0].digest = sha(tgz);
            served.set(`${REPO}/index.yaml`, Buffer.from(stringify(index)));
            await assert.rejects(refreshChartFixtures(dir, pins(), get), new RegExp(`the archive has no ${KPS.chart}/values\\.yaml`));
        });
    });
});
