import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { validateWorkflow } from "@action-validator/core";
import { ROOT } from "../tools/plan";
import { STACKS, yaml } from "./helpers/plan";

const DIR = path.join(ROOT, ".github", "workflows");
const read = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");

describe("GitHub Actions workflows", () => {
    it("the validator rejects a broken workflow (so the check below can fail)", () => {
        assert.ok(validateWorkflow("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps: nope\n").errors.length > 0);
    });

    const FILES = ["pull-request.yml", "drift.yml", "security-scan.yml"];
    for (const file of FILES) {
        it(`${file} is a valid workflow (@action-validator/core, the workflow JSON schema)`, () => {
            const state = validateWorkflow(read(file));
            assert.deepStrictEqual(state.errors, [], JSON.stringify(state.errors, null, 2));
        });
    }

    it("pull requests: tests and the e2e run, then a preview of each of the 4 stacks commented on the PR", () => {
        const w = yaml(read("pull-request.yml"));
        const run = w.jobs.checks.steps.map((s: any) => s.run).filter(Boolean).join("\n");
        assert.match(run, /npm test/);
        assert.match(run, /npm run e2e/);
        const p = w.jobs.preview;
        assert.deepStrictEqual(p.strategy.matrix.stack, [...STACKS]);
        const pulumi = p.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
        assert.match(pulumi.uses, /^pulumi\/actions@[0-9a-f]{40}$/, "pinned to a commit");
        assert.match(pulumi.with["pulumi-version"], /^\d+\.\d+\.\d+$/, "the CLI version is pinned too");
        assert.strictEqual(pulumi.with.command, "preview");
        assert.strictEqual(pulumi.with["comment-on-pr"], true);
        for (const v of Object.values(pulumi.env) as string[]) assert.match(v, /^\$\{\{ secrets\./, "credentials only from secrets");
    });

    it("drift: scheduled preview --refresh --expect-no-changes per stack, a failure reported as an issue", () => {
        const w = yaml(read("drift.yml"));
        assert.ok(w.on.schedule[0].cron);
        const j = w.jobs.drift;
        assert.deepStrictEqual(j.strategy.matrix.stack, [...STACKS]);
        const pulumi = j.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
        assert.strictEqual(pulumi.with.refresh, true);
        assert.strictEqual(pulumi.with["expect-no-changes"], true);
        assert.ok(j.steps.some((s: any) => s.if === "failure()" && /gh issue/.test(s.run)));
    });

    it("every action is pinned to a commit digest with its release named beside it (a moved tag cannot change what runs)", () => {
        for (const file of FILES) {
            const uses = [...read(file).matchAll(/uses:\s*(\S+)(.*)$/gm)];
            assert.ok(uses.length > 0, file);
            for (const [, ref, rest] of uses) {
                assert.match(ref, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${file}: ${ref}`);
                assert.match(rest, /^ # v\d+\.\d+\.\d+$/, `${file}: ${ref} needs its release as a comment (Renovate updates both)`);
            }
        }
    });

    it("security scan: every image the stacks run, the program's and the charts' (npm run -s images), with a pinned Trivy; fixable HIGH/CRITICAL fail; scheduled failures open an issue", () => {
        const w = yaml(read("security-scan.yml"));
        assert.ok(w.on.schedule[0].cron, "daily: new CVEs appear in unchanged images");
        for (const p of ["lib/versions.ts", "test/fixtures/upstream/**", "tools/chartImages.ts", "scripts/images.ts"]) assert.ok(w.on.pull_request.paths.includes(p), `a change to ${p} changes the list: scanned on the PR`);
        const list = w.jobs["list-images"].steps.find((s: any) => s.id === "list");
        assert.strictEqual(list.shell, "bash");
        const lines = (list.run as string).split("\n").map((l) => l.trim());
        // A failing listing must fail the step: `echo "x=$(cmd)"` exits 0 whatever cmd does, and `|| true` hides it.
        assert.strictEqual(lines[0], "set -euo pipefail", "the list step starts with set -euo pipefail");
        assert.ok(lines.includes("images=$(npm run -s images -- --json)"), "the listing is an assignment of its own (set -e sees its status)");
        assert.ok(!/\|\|\s*(true|:)\b/.test(list.run) && !/set \+e/.test(list.run), "no failure is swallowed");
        assert.ok(!lines.some((l) => /^echo .*\$\(/.test(l)), "no command substitution inside echo");
        assert.ok(lines.some((l) => l.startsWith("jq -e") && l.includes("length > 0")), "an empty list fails");
        assert.strictEqual(w.jobs["list-images"].outputs.images, "${{ steps.list.outputs.images }}");
        assert.strictEqual(w.jobs.images.strategy.matrix.image, "${{ fromJSON(needs.list-images.outputs.images) }}");
        const scan = w.jobs.images.steps.find((s: any) => String(s.uses).startsWith("aquasecurity/trivy-action@"));
        assert.strictEqual(scan.with["exit-code"], "1");
        assert.strictEqual(scan.with["image-ref"], "${{ matrix.image }}");
        assert.match(scan.with.version, /^v\d+\.\d+\.\d+$/, "Trivy itself pinned (v0.69.4 was the malicious release)");
        assert.notStrictEqual(scan.with.version, "v0.69.4");
        const config = w.jobs.manifests.steps.find((s: any) => String(s.uses).startsWith("aquasecurity/trivy-action@"));
        assert.strictEqual(config.with["scan-type"], "config");
        assert.match(w.jobs.manifests.steps.map((s: any) => s.run ?? "").join("\n"), /npm run plan -- --all/);
        assert.match(w.jobs.report.if, /failure\(\)/);
        assert.match(w.jobs.report.steps[0].run, /gh issue/);
    });

    it("jobs that hold cluster and state credentials use no shared dependency cache", () => {
        const jobs = [yaml(read("pull-request.yml")).jobs.preview, yaml(read("drift.yml")).jobs.drift];
        for (const j of jobs) {
            const node = j.steps.find((s: any) => String(s.uses).startsWith("actions/setup-node@"));
            assert.strictEqual(node.with["package-manager-cache"], false);
            assert.strictEqual(node.with.cache, undefined);
        }
    });
});
