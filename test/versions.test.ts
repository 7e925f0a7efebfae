import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { charts, imageName, images } from "../lib/versions";

const ROOT = path.resolve(__dirname, "..");

describe("pinned versions", () => {
    const renovate = JSON.parse(fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8"));
    const source = fs.readFileSync(path.join(ROOT, "lib", "versions.ts"), "utf8");
    const found = (renovate.customManagers as { matchStrings: string[] }[]).flatMap((m) =>
        [...source.matchAll(new RegExp(m.matchStrings[0], "g"))].map((x) => `${x.groups!.depName}@${x.groups!.currentValue}`),
    );

    it("Renovate's patterns see every pinned image and chart", () => {
        const expected = [
            ...Object.values(images).map((i) => `${i.registry}/${i.repository}@${i.tag}`),
            ...Object.values(charts).map((c) => `${c.chart}@${c.version}`),
        ];
        assert.deepStrictEqual(found.sort(), expected.sort());
    });

    it("pins exact versions, never latest", () => {
        for (const i of Object.values(images)) assert.match(i.tag, /^v?\d+\.\d+\.\d+/);
        for (const c of Object.values(charts)) assert.match(c.version, /^\d+\.\d+\.\d+$/);
    });

    it("rewrites the registry for the site mirror", () => {
        assert.strictEqual(imageName(images.thanos), "quay.io/thanos/thanos:v0.42.4");
        assert.strictEqual(imageName(images.thanos, "harbor.site/proxy/"), "harbor.site/proxy/quay.io/thanos/thanos:v0.42.4");
    });
});
