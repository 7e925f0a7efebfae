/**
 * Every property of the Fluent Bit pipeline the program generates, in every stack, is one the pinned Fluent Bit
 * accepts in its section: the names are derived from the code at the tag (test/fixtures/upstream/fluent-bit-<version>/
 * keys.txt, whose header says how Fluent Bit matches them). An unknown plugin property stops Fluent Bit at start on
 * every node; an unknown SERVICE property is ignored silently (a misspelt storage.path would put the retry buffer
 * in memory). Debian ships no fluent-bit to run the configuration here, so this list is the check.
 */
import * as assert from "assert";
import { parse } from "yaml";
import { parseClassicConfig } from "../lib/fluentBitConfig";
import { charts } from "../lib/versions";
import { isHelmChart } from "../tools/plan";
import { mapSecrets } from "../tools/offline";
import { chartFolder } from "./helpers/charts";
import { STACKS, planStack } from "./helpers/plan";
import { upstreamFile, upstreamFolder } from "./helpers/upstream";

interface FlbName {
    readonly section: string;
    readonly name: string;
    readonly kind: string;
    readonly source: string;
    readonly condition?: string;
}

function parseKeys(text: string, where: string): FlbName[] {
    const out: FlbName[] = [];
    text.split("\n").forEach((line, i) => {
        if (line.trim() === "" || line.startsWith("#")) return;
        const c = line.split("\t");
        if ((c.length !== 4 && c.length !== 5) || !/^(\*|SERVICE|INPUT|FILTER|OUTPUT)(:[a-z0-9_]+)?$/.test(c[0]) || !/:\d+$/.test(c[3])) {
            throw new Error(`${where}:${i + 1}: not "<section>\\t<name>\\t<kind>\\t<file:line>[\\t<condition>]": ${JSON.stringify(line)}`);
        }
        out.push({ section: c[0], name: c[1], kind: c[2], source: c[3], condition: c[4] });
    });
    return out;
}

/** The Fluent Bit version the chart deploys (its appVersion; the program sets no image tag). */
function fluentBitVersion(): string {
    return `v${parse(upstreamFile(chartFolder(charts.fluentBit.chart, charts.fluentBit.version), "Chart.yaml")).appVersion}`;
}

function keyList(): { where: string; names: FlbName[] } {
    const version = fluentBitVersion();
    const dir = upstreamFolder(
        "fluent-bit",
        version,
        "Derive keys.txt from github.com/fluent/fluent-bit at that tag (service_configs[], the set_property functions and each used " +
            "plugin's config_map[]; one line per name with its file:line; see the file's header) — never copy the code.",
    );
    return { where: `fluent-bit ${version} keys.txt`, names: parseKeys(upstreamFile(dir, "keys.txt"), `${dir}/keys.txt`) };
}

/** What Fluent Bit makes of each property of each section: `section[i] (plugin) key: problem` lines. */
function problemsOf(sections: { name: string; entries: [string, string][] }[], list: ReturnType<typeof keyList>): string[] {
    const problems: string[] = [];
    const of = (section: string) => list.names.filter((n) => n.section === section);
    const matches = (n: FlbName, key: string) => {
        const k = key.toLowerCase();
        const name = n.name.toLowerCase();
        if (n.kind === "prefix") return k.startsWith(name);
        if (n.kind.startsWith("STR_PREFIX")) return k.startsWith(name) && k.length > name.length;
        return k === name;
    };
    sections.forEach((s, i) => {
        const at = `[${s.name}] #${i + 1}`;
        if (s.name === "SERVICE") {
            for (const [k] of s.entries) if (!of("SERVICE").some((n) => matches(n, k))) problems.push(`${at} ${k}: not a SERVICE property (${list.where}); Fluent Bit ignores it`);
            return;
        }
        if (!["INPUT", "FILTER", "OUTPUT"].includes(s.name)) {
            problems.push(`${at}: a section this check does not know`);
            return;
        }
        const plugin = s.entries.find(([k]) => k.toLowerCase() === "name")?.[1];
        const own = of(`${s.name}:${plugin}`);
        if (own.length === 0) {
            problems.push(`${at}: no names of the ${s.name.toLowerCase()} plugin ${plugin} in ${list.where}`);
            return;
        }
        const seen = new Map<string, number>();
        for (const [k] of s.entries) {
            const hit = [...of("*"), ...of(s.name), ...own].find((n) => matches(n, k));
            if (hit === undefined) problems.push(`${at} (${plugin}) ${k}: not a property of ${s.name.toLowerCase()} ${plugin} (${list.where})`);
            else if (hit.condition?.includes("FLB_SYSTEM_WINDOWS")) problems.push(`${at} (${plugin}) ${k}: Windows only (${hit.source})`);
            else if (hit.section === `${s.name}:${plugin}`) {
                const count = (seen.get(hit.name) ?? 0) + 1;
                seen.set(hit.name, count);
                if (count === 2 && !hit.kind.includes("MULT")) problems.push(`${at} (${plugin}) ${k}: set more than once, and ${hit.source} allows it once`);
            }
        }
    });
    return problems;
}

async function pipeline(stack: string): Promise<{ name: string; entries: [string, string][] }[]> {
    const plan = await planStack(stack);
    const fb = plan.resources.filter(isHelmChart).map((r) => mapSecrets(r.inputs, true) as { chart: string; values: any }).filter((c) => c.chart === charts.fluentBit.chart);
    assert.strictEqual(fb.length, 1, `${stack}: one Fluent Bit chart`);
    const c = fb[0].values.config;
    return parseClassicConfig([c.service, c.inputs, c.filters, c.outputs].join("\n"));
}

describe("Fluent Bit pipeline properties against the pinned Fluent Bit's own names", () => {
    it("the version is the chart's appVersion, and the list names every plugin the pipeline uses", () => {
        assert.match(fluentBitVersion(), /^v\d+\.\d+\.\d+$/);
        const sections = new Set(keyList().names.map((n) => n.section));
        for (const s of ["SERVICE", "INPUT", "FILTER", "OUTPUT", "INPUT:tail", "FILTER:kubernetes", "FILTER:modify", "FILTER:lua", "OUTPUT:opensearch"]) assert.ok(sections.has(s), s);
    });

    it("a misspelt property, an unknown SERVICE key, a repeated single-valued property and an unknown plugin are reported (so the check below can fail)", () => {
        const list = keyList();
        const bad = parseClassicConfig(
            [
                "[SERVICE]\n    Flush 1\n    storage.pth /x\n",
                "[INPUT]\n    Name tail\n    Path /a\n    Mem_Buf_Limit 1MB\n    Skip_Long_Line On\n    multiline.parser cri\n    multiline.parser docker\n",
                "[FILTER]\n    Name modify\n    Match *\n    Set a 1\n    Set b 2\n",
                "[FILTER]\n    Name kubernetes\n    Match *\n    Merge_Log On\n    Merge_Log Off\n",
                "[OUTPUT]\n    Name es\n    Match *\n",
            ].join(""),
        );
        assert.deepStrictEqual(problemsOf(bad, list), [
            `[SERVICE] #1 storage.pth: not a SERVICE property (${list.where}); Fluent Bit ignores it`,
            `[INPUT] #2 (tail) Skip_Long_Line: not a property of input tail (${list.where})`,
            "[FILTER] #4 (kubernetes) Merge_Log: set more than once, and plugins/filter_kubernetes/kubernetes.c:947 allows it once",
            `[OUTPUT] #5: no names of the output plugin es in ${list.where}`,
        ]);
    });

    for (const stack of STACKS) {
        it(`${stack}: every property of every section of the Fluent Bit pipeline is one Fluent Bit ${fluentBitVersion()} accepts there`, async () => {
            const sections = await pipeline(stack);
            assert.ok(sections.length >= 5, `${sections.length} sections`);
            const problems = problemsOf(sections, keyList());
            assert.deepStrictEqual(problems, [], problems.join("\n"));
        });
    }
});
