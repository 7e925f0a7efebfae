/** The upstream fixtures name their source: every file of every folder is listed in its SOURCE.json, and exists. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { UPSTREAM_DIR, upstreamSource } from "./helpers/upstream";

describe("upstream fixtures (test/fixtures/upstream/<project>-<version>/)", () => {
    for (const folder of fs.readdirSync(UPSTREAM_DIR).sort()) {
        it(`${folder}: SOURCE.json names the repository, the tag and the upstream path of every file`, () => {
            const dir = path.join(UPSTREAM_DIR, folder);
            const src = upstreamSource(dir);
            assert.match(src.repository, /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
            assert.ok(src.tag && src.pin, "tag and pin");
            const version = /-(v?\d[\w.]*)$/.exec(folder)?.[1];
            assert.ok(version && src.tag.endsWith(version), `folder ${folder} and tag ${src.tag} name the same version`);
            const files = fs.readdirSync(dir).filter((f) => f !== "SOURCE.json").sort();
            assert.deepStrictEqual(Object.keys(src.files).sort(), files, "every file listed, every listed file present");
            for (const f of Object.values(src.files)) assert.ok(f.path.length > 0);
        });
    }
});
