import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { validateWorkflow } from "@action-validator/core";
import { ROOT } from "../tools/plan";
import { requiredSecrets } from "../lib/config";
import { ciSecrets } from "../scripts/ci-secrets";
import { CENTRAL_STACKS, EDGE_STACKS, stackConfig } from "../tools/stacks";
import { STACKS, yaml } from "./helpers/plan";

const DIR = path.join(ROOT, ".github", "workflows");
const read = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");

describe("GitHub Actions workflows", () => {
    it("the validator rejects a broken workflow (so the check below can fail)", () => {
        assert.ok(validateWorkflow("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps: nope\n").errors.length > 0);
    });

    const FILES = fs.readdirSync(DIR).filter((f) => f.endsWith(".yml")).sort();
    const ACTION = path.join(ROOT, ".github", "actions", "pulumi-stack", "action.yml");
    /** Jobs that hold a stack's cluster and state credentials. */
    const credentialJobs = () => [
        ["pull-request.yml preview", yaml(read("pull-request.yml")).jobs.preview],
        ["drift.yml drift", yaml(read("drift.yml")).jobs.drift],
        ["deploy.yml central", yaml(read("deploy.yml")).jobs.central],
        ["deploy.yml edges", yaml(read("deploy.yml")).jobs.edges],
    ] as [string, any][];

    it("the workflows are pull-request, deploy, drift, security-scan and renovate-refresh", () => {
        assert.deepStrictEqual(FILES, ["deploy.yml", "drift.yml", "pull-request.yml", "renovate-refresh.yml", "security-scan.yml"]);
    });
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
        assert.match(run, /npm run test:slow/, "the suites kept out of npm test run here");
        assert.match(run, /npm run e2e/);
        // .ci/run runs them too, and test:slow picks up every *.slow.ts suite (a suite renamed out of npm test is not lost).
        assert.match(fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8"), /npm run test:slow/);
        const slow = fs.readdirSync(path.join(ROOT, "test")).filter((f) => f.endsWith(".slow.ts"));
        assert.ok(slow.length > 0 && JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts["test:slow"].includes("'test/*.slow.ts'"), `test:slow runs ${slow.join(", ")}`);
        const p = w.jobs.preview;
        assert.deepStrictEqual(p.strategy.matrix.stack, [...STACKS]);
        const pulumi = p.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
        assert.match(pulumi.uses, /^pulumi\/actions@[0-9a-f]{40}$/, "pinned to a commit");
        assert.match(pulumi.with["pulumi-version"], /^\d+\.\d+\.\d+$/, "the CLI version is pinned too");
        assert.strictEqual(pulumi.with.command, "preview");
        assert.strictEqual(pulumi.with["comment-on-pr"], true);
        // The PR's own code runs with a stack's credentials: never for a fork, and only in that stack's Environment.
        assert.strictEqual(p.if, "github.event.pull_request.head.repo.full_name == github.repository");
    });

    it("the policy pack runs in every preview and every pulumi up, its own dependencies installed first (policy/package-lock.json)", () => {
        const installsPack = (steps: any[], before: number, where: string) => {
            const i = steps.findIndex((x) => /^npm ci --prefix policy\b/.test(String(x.run ?? "")));
            assert.ok(i >= 0 && i < before, `${where}: npm ci --prefix policy before the Pulumi step`);
            assert.ok(fs.existsSync(path.join(ROOT, "policy", "package-lock.json")), "npm ci needs the pack's lock file");
        };
        const preview = yaml(read("pull-request.yml")).jobs.preview;
        const at = preview.steps.findIndex((x: any) => String(x.uses).startsWith("pulumi/actions@") && x.with?.command === "preview");
        assert.strictEqual(preview.steps[at].with.policyPacks, "policy", "pulumi/actions' policyPacks input (one path per line)");
        installsPack(preview.steps, at, "pull-request.yml preview");
        const deploy = yaml(read("deploy.yml"));
        for (const job of ["central", "edges"]) {
            const steps = deploy.jobs[job].steps;
            const up = steps.findIndex((x: any) => /pulumi up /.test(String(x.run ?? "")));
            assert.match(steps[up].run, /pulumi up --yes .*--policy-pack policy /, `deploy.yml ${job}`);
            installsPack(steps, up, `deploy.yml ${job}`);
        }
        assert.ok(fs.existsSync(path.join(ROOT, "policy", "PulumiPolicy.yaml")));
    });

    it("every job with a stack's credentials runs in that stack's GitHub Environment, keeps no checkout token, takes credentials from secrets only", () => {
        for (const [where, j] of credentialJobs()) {
            assert.match(String(j.environment), /^(\$\{\{ matrix\.stack \}\}|cluster-01)$/, `${where}: environment`);
            for (const v of Object.values(j.env) as string[]) if (!/^us-east-1$|^\$\{\{ matrix\.stack \}\}$|^cluster-01$/.test(v)) assert.match(v, /^\$\{\{ secrets\./, `${where}: ${v}`);
            const checkout = j.steps.find((x: any) => String(x.uses).startsWith("actions/checkout@"));
            assert.strictEqual(checkout.with["persist-credentials"], false, `${where}: persist-credentials`);
            const prepare = j.steps.find((x: any) => x.uses === "./.github/actions/pulumi-stack");
            assert.ok(prepare, `${where}: prepares the stack with the shared action`);
            assert.strictEqual(prepare.with["environment-secrets"], "${{ toJSON(secrets) }}");
        }
    });

    it("every stack's job decrypts with the same passphrase, a repository secret (an edge's stack reference decrypts cluster-01's secret outputs)", () => {
        // With the passphrase secrets provider a stack reference decrypts the referenced stack's state with the
        // passphrase of the running process (pulumi/pulumi#2823; pulumi/examples#752): the edges read their writer
        // credentials, secret outputs of cluster-01, so the four stacks share one passphrase. A distinct name, set at
        // repository level: an Environment secret of the same name would silently override it for one stack.
        for (const [where, j] of credentialJobs()) assert.strictEqual(j.env.PULUMI_CONFIG_PASSPHRASE, "${{ secrets.PULUMI_STACKS_PASSPHRASE }}", where);
        for (const file of FILES) assert.doesNotMatch(read(file), /secrets\.PULUMI_CONFIG_PASSPHRASE\b/, file);
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        assert.match(readme, /repository secret\s+`PULUMI_STACKS_PASSPHRASE`/);
        assert.match(readme, /pulumi stack change-secrets-provider passphrase/, "README: how to move a stack with its own passphrase to the shared one");
    });

    it("CI provides exactly the operator secrets each stack requires (npm run -s ci:secrets), and the README lists their Environment names", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        for (const stack of STACKS) {
            const provided = ciSecrets(stack);
            assert.deepStrictEqual(provided.map((x) => x.key), requiredSecrets(stackConfig(stack)));
            for (const { name } of provided) assert.ok(readme.includes(`\`${name}\``), `README names the Environment secret ${name} of ${stack}`);
        }
        assert.deepStrictEqual(ciSecrets("cluster-01").map((x) => x.name), ["MINIO_PASSWORD", "ALERT_WEBHOOK_PLATFORM", "ALERT_WEBHOOK_TENANT_B", "ALERT_WEBHOOK_HEARTBEAT", "ALERT_WEBHOOK_HEARTBEAT_SELF_MONITORING"]);
        const action = fs.readFileSync(ACTION, "utf8");
        assert.match(action, /npm run -s ci:secrets -- "\$STACK"/);
        assert.match(action, /pulumi config set --secret "agent-receiver:\$key"/);
        assert.match(action, /exit 1/, "a missing secret fails the job with its name");
    });

    it("deploy: cluster-01 first, then the edges; one run per stack at a time, never cancelled; the deployed commit recorded per stack", () => {
        const w = yaml(read("deploy.yml"));
        assert.deepStrictEqual(w.on.push.branches, ["main"]);
        assert.ok("workflow_dispatch" in w.on);
        assert.strictEqual(w.jobs.central.environment, CENTRAL_STACKS[0]);
        assert.strictEqual(w.jobs.edges.needs, "central");
        assert.deepStrictEqual(w.jobs.edges.strategy.matrix.stack, [...EDGE_STACKS]);
        for (const [j, group] of [[w.jobs.central, "deploy-cluster-01"], [w.jobs.edges, "deploy-${{ matrix.stack }}"]]) {
            assert.deepStrictEqual(j.concurrency, { group, "cancel-in-progress": false });
            const run = j.steps.map((x: any) => x.run ?? "").join("\n");
            assert.match(run, /pulumi up --yes/);
            assert.match(run, /git tag -f "deployed\/\$STACK" "\$GITHUB_SHA"/);
        }
    });

    it("drift: scheduled preview --refresh --expect-no-changes per stack; drift, pending deploy and error reported apart, with their labels", () => {
        const w = yaml(read("drift.yml"));
        assert.ok(w.on.schedule[0].cron);
        const j = w.jobs.drift;
        assert.deepStrictEqual(j.strategy.matrix.stack, [...STACKS]);
        const preview = j.steps.find((x: any) => x.id === "preview");
        assert.match(preview.run, /pulumi preview --refresh --expect-no-changes --json/);
        for (const outcome of ["clean", "error", "pending-deploy", "drift"]) assert.match(preview.run, new RegExp(`outcome=${outcome}`));
        assert.match(preview.run, /refs\/tags\/deployed\/\$STACK/, "pending deploy: main ahead of the deployed commit");
        assert.match(preview.run, /GITHUB_STEP_SUMMARY/);
        const report = j.steps.find((x: any) => x.if === "failure()");
        for (const label of ["drift", "pending-deploy", "drift-check-failed"]) assert.match(report.run, new RegExp(`gh label create ${label} `));
        assert.match(report.run, /gh issue/);
        assert.strictEqual(j.steps.find((x: any) => String(x.uses).startsWith("actions/checkout@")).with["fetch-depth"], 0, "the deployed tags are fetched");
    });

    it("every action is pinned to a commit digest with its release named beside it (a moved tag cannot change what runs)", () => {
        const texts: [string, string][] = [...FILES.map((f): [string, string] => [f, read(f)]), ["actions/pulumi-stack/action.yml", fs.readFileSync(ACTION, "utf8")]];
        for (const [file, text] of texts) {
            const uses = [...text.matchAll(/uses:\s*(\S+)(.*)$/gm)].filter(([, ref]) => !ref.startsWith("./.github/actions/"));
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

    it("renovate-refresh: on Renovate's branches, the plans and chart fixtures regenerated without any secret, and pushed by a job that runs no project code", () => {
        const text = read("renovate-refresh.yml");
        const w = yaml(text);
        assert.deepStrictEqual(w.on, { push: { branches: ["renovate/**"] } }, "push events of Renovate's branches only: never a pull request, so never a fork's");
        assert.deepStrictEqual(w.permissions, {});
        const { regenerate, push } = w.jobs;
        const BOT = "41898282+github-actions[bot]@users.noreply.github.com";
        assert.strictEqual(regenerate.if, `github.event.repository.fork == false && github.event.head_commit.author.email != '${BOT}'`);
        // Regenerate: the branch's code, a read-only token, no secret, no token kept by the checkout.
        assert.deepStrictEqual(regenerate.permissions, { contents: "read" });
        assert.ok(!/secrets\./.test(JSON.stringify(regenerate)), "no secret where the branch's code runs");
        assert.strictEqual(regenerate.steps.find((x: any) => String(x.uses).startsWith("actions/checkout@")).with["persist-credentials"], false);
        assert.strictEqual(regenerate.steps.find((x: any) => String(x.uses).startsWith("actions/setup-node@")).with["package-manager-cache"], false);
        const runs = regenerate.steps.map((x: any) => x.run ?? "");
        const at = (cmd: string) => runs.findIndex((r: string) => r.trim() === cmd);
        assert.ok(at("npm ci --no-audit --no-fund") >= 0 && at("npm ci --no-audit --no-fund") < at("npm run fixtures:charts") && at("npm run fixtures:charts") < at("npm run plan:golden"));
        const diff = regenerate.steps.find((x: any) => x.id === "diff").run as string;
        assert.match(diff, /^set -euo pipefail$/m);
        assert.match(diff, /git add --all -- plans test\/fixtures\/upstream$/m, "exactly what the two commands write");
        assert.match(diff, /git diff --cached --binary --no-renames > /);
        // Push: the write token, only in the Environment that admits Renovate's branches, and nothing of the branch run.
        assert.strictEqual(push.needs, "regenerate");
        assert.strictEqual(push.if, "needs.regenerate.outputs.changed == 'true'");
        assert.strictEqual(push.environment, "renovate-refresh");
        assert.deepStrictEqual(push.permissions, {}, "the push uses RENOVATE_REFRESH_TOKEN, not GITHUB_TOKEN");
        const checkout = push.steps.find((x: any) => String(x.uses).startsWith("actions/checkout@"));
        assert.deepStrictEqual(checkout.with, { ref: "${{ github.sha }}", token: "${{ secrets.RENOVATE_REFRESH_TOKEN }}", "persist-credentials": true });
        assert.deepStrictEqual([...text.matchAll(/secrets\.(\w+)/g)].map((m) => m[1]), ["RENOVATE_REFRESH_TOKEN"]);
        const script = push.steps.map((x: any) => x.run ?? "").join("\n");
        assert.ok(!/^\s*(npm|npx|node|tsx|make|bash|sh|\.\/)\b/m.test(script), "no project code where the token is (no command starts one)");
        assert.match(script, /^ *set -euo pipefail$/m);
        // The paths a patch may touch (the ERE of its `grep -Ev`, the same in JavaScript): a plan, a file of a fixture folder.
        const allowed = new RegExp(/grep -Ev '([^']+)'/.exec(script)![1]);
        for (const ok of ["plans/cluster-01.yaml", "test/fixtures/upstream/grafana-12.0.0/values.yaml"]) assert.match(ok, allowed);
        for (const bad of ["lib/versions.ts", ".github/workflows/deploy.yml", "plans/x/y.yaml", "test/fixtures/upstream/x/y/z", "test/fixtures/other/x/y", "package.json"]) assert.doesNotMatch(bad, allowed);
        assert.match(script, /git push origin "HEAD:refs\/heads\/\$BRANCH"$/m);
        assert.ok(!/--force|\s-f\b|\+HEAD/.test(script), "never a forced push: a branch Renovate moved meanwhile is left to the next run");
        // The commit's author: the one the regenerate job skips, and the one Renovate is told to ignore (it would
        // otherwise take the branch as edited by someone else and stop rebasing it).
        assert.ok(script.includes(`user.email="${BOT}"`));
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8")).gitIgnoredAuthors, [BOT]);
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        for (const name of ["`RENOVATE_REFRESH_TOKEN`", "`renovate-refresh`", "`renovate/**`", "npm run fixtures:charts"]) assert.ok(readme.includes(name), `README names ${name}`);
    });

    it("deploy: npm run verify after each stack's pulumi up and its tag; every writer checked from cluster-01 after the edges", () => {
        const w = yaml(read("deploy.yml"));
        for (const job of ["central", "edges"]) {
            const steps = w.jobs[job].steps as any[];
            const up = steps.findIndex((x) => /pulumi up /.test(String(x.run ?? "")));
            const tag = steps.findIndex((x) => /git tag -f "deployed\/\$STACK"/.test(String(x.run ?? "")));
            const verify = steps.findIndex((x) => /^npm run verify -- "\$STACK" /.test(String(x.run ?? "")));
            assert.ok(up >= 0 && tag > up && verify > tag, `deploy.yml ${job}: pulumi up, then the tag, then npm run verify`);
            // This job's kubeconfig is its own cluster's: the writers (cluster-01's Query) are verify-writers'.
            assert.match(steps[verify].run, /--skip writers --wait \d+m$/, `deploy.yml ${job}`);
            assert.strictEqual(steps[verify].if, undefined, `deploy.yml ${job}: verify runs whenever the deploy did`);
        }
        const v = w.jobs["verify-writers"];
        assert.deepStrictEqual(v.needs, ["central", "edges"]);
        assert.match(v.if, /!cancelled\(\) && needs\.central\.result == 'success'/, "also after an edge failed, never without cluster-01");
        assert.strictEqual(v.environment, CENTRAL_STACKS[0]);
        assert.strictEqual(v.env.STACK, CENTRAL_STACKS[0]);
        const run = v.steps.map((x: any) => x.run ?? "").join("\n");
        assert.match(run, /^npm run verify -- "\$STACK" --only writers --wait \d+m$/m);
        // Only the cluster's kubeconfig: no state backend, no operator secrets, no checkout token.
        assert.deepStrictEqual(
            JSON.stringify(v).match(/secrets\.[A-Z0-9_]+/g),
            ["secrets.KUBECONFIG_B64"],
        );
        assert.strictEqual(v.steps.find((x: any) => String(x.uses).startsWith("actions/checkout@")).with["persist-credentials"], false);
        assert.strictEqual(v.steps.find((x: any) => String(x.uses).startsWith("actions/setup-node@")).with["package-manager-cache"], false);
        assert.deepStrictEqual(v.permissions, { contents: "read" });
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        assert.strictEqual(pkg.scripts.verify, "tsx scripts/verify.ts");
    });

    it("jobs that hold cluster and state credentials use no shared dependency cache", () => {
        for (const [, j] of credentialJobs()) {
            const node = j.steps.find((s: any) => String(s.uses).startsWith("actions/setup-node@"));
            assert.strictEqual(node.with["package-manager-cache"], false);
            assert.strictEqual(node.with.cache, undefined);
        }
    });
});
