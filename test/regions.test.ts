/**
 * Another region is on paper only (README, "Another region (on paper)"): the keys the README proposes are refused by
 * today's schema, so the page cannot claim more than the program does; the global Query's endpoint configuration it
 * proposes uses only keys Thanos v0.42.4 reads; the figures derived from configuration are the committed
 * configuration's; and the Korean guide (docs/ko/extensions.md) gives the README's figures.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ConfigError, allWriterIds, durationSeconds, parseStackConfig } from "../lib/config";
import { centralSizing } from "../lib/sizing";
import { images } from "../lib/versions";
import { ROOT } from "../tools/plan";
import { stackConfig } from "../tools/stacks";
import { blockAfter, section } from "./helpers/readme";
import { parseGoFields, upstreamFile, upstreamFolder, walkGoFields } from "./helpers/upstream";

/** cluster-01's configuration as the schema reads it, with `change` applied to the raw object first. */
function refusedProblems(change: (raw: any) => void): { path: string; message: string }[] {
    const c = stackConfig("cluster-01");
    const raw: any = JSON.parse(JSON.stringify({ role: c.role, clusterName: c.clusterName, kubernetes: c.kubernetes, images: c.images, central: c.central }));
    change(raw);
    try {
        parseStackConfig("cluster-01", raw);
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.problems;
    }
    return [];
}

/** The figures of the table right after `<!-- regions:figures -->`: per row, the quantities of its value cells, sorted. */
function figures(text: string, where: string): string[][] {
    const marker = "\n<!-- regions:figures -->\n";
    const at = text.indexOf(marker);
    assert.ok(at >= 0, `${where}: no table after <!-- regions:figures -->`);
    const table: string[] = [];
    for (const line of text.slice(at + marker.length).split("\n")) {
        if (!line.startsWith("|")) break;
        table.push(line);
    }
    return table
        .slice(2) // header and separator
        .map((row) => row.split("|").slice(2, -1).join("|"))
        .map((cells) => [...cells.matchAll(/\d[\d,.]*(?: ?(?:kB\/s|MB\/s|GB|TB|Gi))?/g)].map((m) => m[0]).sort());
}

describe("another region, on paper (README)", () => {
    const proposed = () => parse(blockAfter("regions:proposed").code);

    it("cluster-01's configuration round-trips through the schema (so a refusal below is the proposed key's)", () => {
        assert.deepStrictEqual(refusedProblems(() => undefined), []);
    });

    it("every key it proposes is refused by today's schema, naming the stack and the key", () => {
        const p = proposed();
        const central = refusedProblems((raw) => Object.assign(raw.central, p.central));
        assert.deepStrictEqual(central.map((x) => x.path).sort(), ["agent-receiver:central.globalQuery", "agent-receiver:central.region"]);
        assert.ok(central.every((x) => x.message === "unknown key"));
        const global = refusedProblems((raw) => Object.assign(raw, { role: "global", global: p.global }));
        assert.deepStrictEqual(global.map((x) => x.path).sort(), ["agent-receiver:global", "agent-receiver:role"]);
    });

    it(`the global Query's endpoint configuration uses only keys Thanos ${images.thanos.tag} reads (EndpointConfig)`, () => {
        const dir = upstreamFolder("thanos", images.thanos.tag, "see test/thanosConfigFiles.test.ts");
        const where = `thanos ${images.thanos.tag} config-files.fields.txt`;
        const fields = parseGoFields(upstreamFile(dir, "config-files.fields.txt"), where);
        const endpoints = parse(blockAfter("regions:global-endpoints").code);
        assert.deepStrictEqual(walkGoFields(endpoints, "EndpointConfig", fields, where), []);
        assert.strictEqual(endpoints.endpoints.length, proposed().global.regions.length, "one endpoint per region");
        assert.strictEqual(walkGoFields({ endpoints: [{ address: "x", tls_config: {} }] }, "EndpointConfig", fields, where).length, 1, "the walk can fail");
    });

    it("the Korean guide's table (docs/ko/extensions.md) gives the README's figures, row by row", () => {
        const readme = figures(section("## Another region (on paper)"), "README.md");
        assert.strictEqual(readme.length, 7, "the README's table has its seven rows");
        assert.ok(readme.every((r) => r.length > 0));
        const korean = figures(fs.readFileSync(path.join(ROOT, "docs", "ko", "extensions.md"), "utf8"), "docs/ko/extensions.md");
        assert.deepStrictEqual(korean, readme);
        // The comparison can fail: one changed figure is seen.
        assert.notDeepStrictEqual(figures("\n<!-- regions:figures -->\n| a | b | c |\n|---|---|---|\n| x | 3,333 | 111,112 |\n", "planted"), readme.slice(0, 1));
    });

    it("the figures' configuration inputs are the committed configuration's", () => {
        const text = section("## Another region (on paper)");
        const c = stackConfig("cluster-01").central!;
        const edge = stackConfig("cluster-03").edge!;
        const writers = c.writers.flatMap((w) => (w.tenants.length ? w.tenants.map((t) => `${w.cluster}-${t}`) : [w.cluster]));
        const facts: [string, boolean][] = [
            ["the scrape interval (30 s)", durationSeconds(edge.agent.scrapeInterval) === 30],
            ["81,000 unique head series: 1.5 × `central.expectedSeries.default`, 54,000", c.expectedSeries.default === 54000 && Object.values(centralSizing(c, allWriterIds(c)).receive.uniqueHeadSeries.writers).every((n) => n === 81000)],
            ["the local\nretention (2 d)", c.receive.localRetention === "2d"],
            ["raw 30 d, 5m 90 d, 1h 365 d", c.compactor.retention.raw === "30d" && c.compactor.retention.fiveMinutes === "90d" && c.compactor.retention.oneHour === "365d"],
            ["`central.receive.replicas` (3, RF 3)", c.receive.replicas === 3 && c.receive.replicationFactor === 3],
            ["`central.storeGateway.replicas` (2)", c.storeGateway.replicas === 2],
            ["`central.queryFrontend.splitInterval` (24 h)", c.queryFrontend.splitInterval === "24h"],
            ["cluster-01's five\nwriters", writers.length === 5],
            ["3.0 GB of the 50 Gi volume", c.receive.storageSize === "50Gi"],
        ];
        for (const [phrase, holds] of facts) {
            assert.ok(text.includes(phrase), `README no longer says "${phrase}"`);
            assert.ok(holds, `README says "${phrase}", which the committed configuration no longer is`);
        }
    });
});
