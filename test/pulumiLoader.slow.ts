/**
 * The program loads the way `pulumi up` loads it. The Node.js language host (`@pulumi/pulumi/cmd/run/run.js`) of a
 * TypeScript project registers ts-node (the project's, else the SDK's vendored ts-node 7.0.1) with the project's
 * tsconfig and TypeScript, type-checking every file it loads; the planner and the other tests run under tsx, which
 * type-checks nothing. A construct only tsx accepts would pass every other test and fail `pulumi up`.
 *
 * The child process below reproduces run.js's `tsn.register(options)` for a CommonJS project (the options, the
 * TypeScript and ts-node it resolves through the SDK's own `tsutils`), then runs index.ts under the mock runtime
 * with a stack's real config. A child process, so that its module cache (ts-node's compiled copies of lib/, stacks/,
 * @pulumi/pulumi's runtime state) never mixes with this one's (tsx's).
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { GOLDEN_DIR, ROOT } from "../tools/plan";
import { tmpDir } from "./helpers/plan";

/** Run in the child (plain JavaScript: it is what registers TypeScript). */
const CHILD = String.raw`
const fs = require("fs");
const path = require("path");
const root = process.cwd();
const tsutils = require("@pulumi/pulumi/tsutils");
const semver = require(require.resolve("semver", { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))] }));

// As @pulumi/pulumi/cmd/run/run.js does when PULUMI_NODEJS_TYPESCRIPT is true and the package is not an ES module.
const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json";
const skipProject = !fs.existsSync(tsConfigPath);
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
const transpileOnly = transpileOnlyEnv ? transpileOnlyEnv === "true" : compilerOptions.noCheck;
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const options = { compiler: typescriptRequire, transpileOnly, project: tsConfigPath, skipProject, compilerOptions: {} };
const ts = require(typescriptRequire);
const tsVersion = semver.parse(ts.version);
const useNodeNext = tsVersion && tsVersion.compare(new semver.SemVer("4.7.0")) >= 0;
options.compilerOptions = {
    target: "ES2020",
    module: useNodeNext ? "nodenext" : "commonjs",
    moduleResolution: useNodeNext ? "nodenext" : "node",
    sourceMap: "true",
    ...compilerOptions,
};
const tsn = require(tsnodeRequire);
tsn.register(options);

const report = (r) => process.stdout.write(JSON.stringify({ tsNode: path.relative(root, tsnodeRequire) || tsnodeRequire, tsNodeVersion: tsn.VERSION, typescript: ts.version, transpileOnly: options.transpileOnly, ...r }));
(async () => {
    const entry = process.env.ENTRY;
    if (entry) {
        require(entry);
        return report({ loaded: entry });
    }
    const { runOffline } = require(path.join(root, "tools", "offline.ts"));
    const { readStackFile } = require(path.join(root, "tools", "plan.ts"));
    const file = readStackFile(process.env.STACK);
    const program = require(path.join(root, "index.ts"));
    const result = await runOffline({ project: "agent-receiver", stack: process.env.STACK, config: file.flat, secretKeys: file.secretKeys }, program);
    report({ urns: result.resources.map((r) => r.urn), outputs: Object.keys(result.outputs) });
})().catch((e) => {
    process.stderr.write(String(e && e.message ? e.message : e));
    process.exit(1);
});
`;

interface ChildResult {
    code: number;
    stdout: string;
    stderr: string;
}

function runChild(env: Record<string, string>): Promise<ChildResult> {
    return new Promise((resolve) => {
        // The tests' own loader (tsx, from .mocharc) must not reach the child: only what pulumi up registers.
        const childEnv = { ...process.env, ...env, NODE_OPTIONS: "", TS_NODE_CACHE: "false" };
        execFile(process.execPath, ["-e", CHILD], { cwd: ROOT, env: childEnv, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
    });
}

describe("the program loads the way pulumi up loads it (ts-node as the SDK registers it)", function () {
    // ts-node type-checks every file of the program on the way in: seconds, not milliseconds.
    this.timeout(180_000);

    it("the check can fail: a file tsx runs but ts-node refuses (a type error) fails the child", async () => {
        const dir = tmpDir("ts-node-check-");
        const entry = path.join(dir, "broken.ts");
        fs.writeFileSync(entry, 'const n: number = "not a number";\nexport = async () => ({ n });\n');
        const r = await runChild({ ENTRY: entry });
        assert.notStrictEqual(r.code, 0, `expected ts-node to refuse ${entry}; stdout: ${r.stdout}`);
        assert.match(r.stderr, /Unable to compile TypeScript[\s\S]*TS2322/);
    });

    it("cluster-01: index.ts under ts-node registers every resource of the committed plan (plans/cluster-01.yaml)", async () => {
        const r = await runChild({ STACK: "cluster-01" });
        assert.strictEqual(r.code, 0, `the program failed to load or run under ts-node:\n${r.stderr}`);
        const got = JSON.parse(r.stdout) as { tsNode: string; typescript: string; transpileOnly?: boolean; urns: string[]; outputs: string[] };
        // What pulumi up on this checkout uses: the TypeScript of node_modules, type-checking on.
        assert.strictEqual(got.typescript, (JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", "typescript", "package.json"), "utf8")) as { version: string }).version);
        assert.notStrictEqual(got.transpileOnly, true, "tsconfig.json must not turn type checking off (noCheck)");
        const golden = parse(fs.readFileSync(path.join(GOLDEN_DIR, "cluster-01.yaml"), "utf8")) as { resources: { urn: string }[]; outputs: Record<string, unknown> };
        assert.deepStrictEqual([...got.urns].sort(), golden.resources.map((x) => x.urn).sort());
        assert.deepStrictEqual([...got.outputs].sort(), Object.keys(golden.outputs).sort());
    });
});
