/**
 * The images the charts run (tools/chartImages.ts), as `npm run images` lists them for the image scan: complete
 * against every place the charts' values name an image, with the program's values applied.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { charts } from "../lib/versions";
import { chartImages, imageMaps, imageSites, planChartImages, qualified, valueAt } from "../tools/chartImages";
import { chartMeta } from "../tools/charts";
import { Plan, declaredImages, isHelmChart } from "../tools/plan";
import { STACKS, manifest, planStack, tmpDir, yaml } from "./helpers/plan";
import { effectiveValues } from "./helpers/charts";

const ROOT = path.resolve(__dirname, "..");
const KPS = charts.kubePrometheusStack;
const MIRROR = "harbor.example.internal/proxy";

/** The stack files with `images.registryMirror` set, in a folder of their own (the program is the same). */
function mirroredStackDir(): string {
    const dir = tmpDir("mirror-");
    for (const stack of STACKS) {
        const doc = yaml(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8"));
        doc.config["agent-receiver:images"] = { ...doc.config["agent-receiver:images"], registryMirror: MIRROR };
        fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), JSON.stringify(doc));
    }
    return dir;
}

/** Places in a chart's effective values that name an image and that the table does not know, and the reverse. */
function coverage(chart: string, version: string, values: Record<string, unknown>): { unknown: string[]; stale: string[] } {
    const v = effectiveValues(chart, version, values);
    const sites = imageSites(chart, version);
    const maps = imageMaps(v);
    return {
        unknown: maps.filter((m) => !sites.some((s) => s.at === m)),
        stale: sites.filter((s) => (s.implicit ? valueAt(v, s.at.split(".").slice(0, -1).join(".")) === undefined : !maps.includes(s.at))).map((s) => s.at),
    };
}

describe("images the charts run (npm run images, tools/chartImages.ts)", function () {
    this.timeout(120_000);

    for (const stack of STACKS) {
        it(`${stack}: every place each chart's effective values name an image (a map with a repository) is in the table, and every table entry is there`, async () => {
            const releases = (await planStack(stack)).resources.filter(isHelmChart);
            assert.ok(releases.length > 0);
            for (const r of releases) {
                const { chart, version, values } = manifest(r) as { chart: string; version: string; values: Record<string, unknown> };
                const { unknown, stale } = coverage(chart, version, values);
                assert.deepStrictEqual(unknown, [], `${stack} ${r.name}: image places of ${chart} ${version} missing from tools/chartImages.ts`);
                assert.deepStrictEqual(stale, [], `${stack} ${r.name}: table entries ${chart} ${version} does not have`);
            }
        });
    }

    it("the completeness check can fail: an image place the table does not know, and a table entry the chart lost", () => {
        const { unknown } = coverage(KPS.chart, KPS.version, { prometheusOperator: { newSidecar: { image: { registry: "quay.io", repository: "x/y", tag: "v1" } } } });
        assert.deepStrictEqual(unknown, ["prometheusOperator.newSidecar.image"]);
        assert.deepStrictEqual(coverage(KPS.chart, KPS.version, { grafana: { imageRenderer: { image: null } } }).stale, ["grafana.imageRenderer.image"]);
        assert.deepStrictEqual(imageMaps({ a: { image: { repository: "r" } }, b: [{ thanosImage: { repository: "t" } }], c: { repository: 1 } }), ["a.image", "b.0.thanosImage"]);
    });

    it("cluster-01: kube-prometheus-stack runs the operator, its config reloader, Prometheus, Alertmanager, Grafana (no sidecar) and kube-state-metrics; its CRD-only release runs nothing", async () => {
        const releases = (await planStack("cluster-01")).resources.filter(isHelmChart).map((r) => manifest(r) as { chart: string; version: string; values: any });
        const kps = releases.filter((r) => r.chart === KPS.chart);
        assert.strictEqual(kps.length, 2);
        const crdOnly = kps.find((r) => r.values.crds?.enabled === true)!;
        assert.deepStrictEqual(chartImages(crdOnly.chart, crdOnly.version, crdOnly.values), []);
        const main = kps.find((r) => r !== crdOnly)!;
        const listed = chartImages(main.chart, main.version, main.values);
        assert.deepStrictEqual(
            listed.map((i) => i.at),
            [
                "prometheusOperator.image",
                "prometheusOperator.prometheusConfigReloader.image",
                "prometheus.prometheusSpec.image",
                "alertmanager.alertmanagerSpec.image",
                "grafana.image",
                "kube-state-metrics.image",
            ],
        );
        const meta = chartMeta(KPS.chart, KPS.version);
        const sub = (name: string) => meta.dependencies!.find((d) => d.name === name)!;
        const image = (at: string) => listed.find((i) => i.at === at)!.image;
        // Tags the chart leaves empty default to an appVersion: the operator's release, Grafana's, kube-state-metrics' with a v.
        assert.strictEqual(image("prometheusOperator.image"), `quay.io/prometheus-operator/prometheus-operator:${meta.appVersion}`);
        assert.strictEqual(image("prometheusOperator.prometheusConfigReloader.image"), `quay.io/prometheus-operator/prometheus-config-reloader:${meta.appVersion}`);
        assert.strictEqual(image("grafana.image"), `docker.io/grafana/grafana:${chartMeta("grafana", sub("grafana").version).appVersion}`);
        assert.strictEqual(image("kube-state-metrics.image"), `registry.k8s.io/kube-state-metrics/kube-state-metrics:v${chartMeta("kube-state-metrics", sub("kube-state-metrics").version).appVersion}`);
        // Explicit tags are taken as they are.
        const defaults = effectiveValues(KPS.chart, KPS.version, {});
        assert.strictEqual(image("prometheus.prometheusSpec.image"), `quay.io/prometheus/prometheus:${defaults.prometheus.prometheusSpec.image.tag}`);
    });

    it("what the chart's switches decide: its defaults run Grafana's sidecar and a distroless node-exporter; global.imageRegistry and a sha replace the registry and pin the digest", () => {
        const at = (values: Record<string, unknown>) => chartImages(KPS.chart, KPS.version, values);
        const defaults = at({});
        assert.ok(defaults.some((i) => i.at === "grafana.sidecar.image"), "kube-prometheus-stack turns Grafana's sidecars on by default");
        assert.match(defaults.find((i) => i.at === "prometheus-node-exporter.image")!.image, /^quay\.io\/prometheus\/node-exporter:v[\d.]+-distroless$/);
        assert.ok(!at({ grafana: { enabled: false } }).some((i) => i.at.startsWith("grafana.")), "a disabled subchart runs nothing");
        const mirrored = at({ global: { imageRegistry: "registry.example.internal" } });
        for (const i of mirrored) assert.match(i.image, /^registry\.example\.internal\//, i.at);
        const sha = "0".repeat(64);
        assert.strictEqual(
            at({ prometheusOperator: { image: { sha } } }).find((i) => i.at === "prometheusOperator.image")!.image,
            `quay.io/prometheus-operator/prometheus-operator:${chartMeta(KPS.chart, KPS.version).appVersion}@sha256:${sha}`,
        );
        assert.throws(() => at({ windowsMonitoring: { enabled: true } }), /subchart prometheus-windows-exporter is enabled/);
        assert.throws(() => chartImages("nginx", "1.0.0", {}), /no upstream data for nginx|no image table for chart nginx/);
    });

    it("OpenSearch's busybox init containers are listed when switched on (they are off: fsGroup and no mmap instead)", () => {
        const os = charts.openSearch;
        assert.deepStrictEqual(chartImages(os.chart, os.version, { persistence: { enableInitChown: false } }).map((i) => i.at), ["image"]);
        assert.deepStrictEqual(
            chartImages(os.chart, os.version, { persistence: { enableInitChown: true }, sysctlInit: { enabled: true } }).map((i) => i.image).slice(1),
            ["docker.io/library/busybox:latest", "docker.io/library/busybox:latest"],
        );
    });

    it("with images.registryMirror set, every image each stack runs, its own and its charts', comes through the mirror (<mirror>/<registry>/<repository>:<tag>)", async () => {
        const dir = mirroredStackDir();
        for (const stack of STACKS) {
            const [plain, mirrored]: Plan[] = [await planStack(stack), await planStack(stack, { dir })];
            assert.deepStrictEqual(declaredImages(mirrored), declaredImages(plain).map((i) => `${MIRROR}/${i}`), `${stack}: the program's images`);
            const chartsOf = (p: Plan) => planChartImages(p).map((i) => `${i.chart} ${i.at} ${i.image}`);
            assert.deepStrictEqual(
                chartsOf(mirrored),
                planChartImages(plain).map((i) => `${i.chart} ${i.at} ${MIRROR}/${i.image}`),
                `${stack}: the charts' images (a chart whose values do not take the mirror pulls from upstream, which a site with a mirror may not reach)`,
            );
        }
    });

    it("names are fully qualified as a container runtime resolves them (Docker Hub, library/)", () => {
        assert.strictEqual(qualified("busybox:latest"), "docker.io/library/busybox:latest");
        assert.strictEqual(qualified("docker.io/busybox:latest"), "docker.io/library/busybox:latest");
        assert.strictEqual(qualified("opensearchproject/opensearch:9.9.9"), "docker.io/opensearchproject/opensearch:9.9.9");
        assert.strictEqual(qualified("cr.fluentbit.io/fluent/fluent-bit:9.9.9"), "cr.fluentbit.io/fluent/fluent-bit:9.9.9");
        assert.strictEqual(qualified("localhost:5000/x:1"), "localhost:5000/x:1");
    });

    it("npm run -s images -- --json (what the scan workflow runs): the program's images and every chart image of every stack, once each", async () => {
        const expected = new Set<string>();
        for (const stack of STACKS) {
            const plan = await planStack(stack);
            for (const i of declaredImages(plan)) expected.add(i);
            for (const i of planChartImages(plan)) expected.add(i.image);
        }
        const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(ROOT, "scripts", "images.ts"), "--json"], { cwd: ROOT });
        const listed = JSON.parse(stdout) as string[];
        assert.deepStrictEqual(listed, [...expected].sort());
        for (const chartImage of ["docker.io/grafana/grafana:", "quay.io/prometheus-operator/prometheus-operator:", "cr.fluentbit.io/fluent/fluent-bit:"]) {
            assert.ok(listed.some((i) => i.startsWith(chartImage)), `${chartImage} is a chart's image and is listed`);
        }
    });
});
