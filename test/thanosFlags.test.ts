/**
 * Every flag of every Thanos container in every stack is one the pinned Thanos accepts: kingpin rejects an unknown
 * long flag and the process exits, so one wrong flag is a crash-looping component (the Ruler's
 * `--alertmanagers.timeout` was one: every platform alert is evaluated by the Ruler).
 */
import * as assert from "assert";
import * as path from "path";
import { images } from "../lib/versions";
import { STACKS, k8sObjects, manifest, planStack } from "./helpers/plan";
import { flagName, kingpinFlags, upstreamFile, upstreamFolder } from "./helpers/upstream";

const THANOS_REFRESH =
    "Each <component>.help.txt is the `thanos <component> --help` block of docs/components/<component>.md at that tag " +
    "in github.com/thanos-io/thanos (or `docker run quay.io/thanos/thanos:<tag> <component> --help`).";

/**
 * Hidden flags (kingpin `.Hidden()`, not in `--help`) the program relies on, each with the upstream line that
 * defines it at the pinned tag (thanos-io/thanos v0.42.4). A flag added here needs that line.
 */
const HIDDEN_FLAGS: Record<string, Record<string, string>> = {
    compact: {
        "compact.enable-vertical-compaction":
            'cmd/thanos/compact.go:809-812: cmd.Flag("compact.enable-vertical-compaction", "Experimental. …").Hidden().Default("false").BoolVar(…)',
    },
    store: {
        "store.caching-bucket.config":
            'cmd/thanos/store.go:131: extflag.RegisterPathOrContent(hidden.HiddenCmdClause(cmd), "store.caching-bucket.config", "YAML that contains configuration for caching bucket. Experimental feature, …") ' +
            "registers --store.caching-bucket.config and --store.caching-bucket.config-file, hidden by pkg/extflag/hidden.go (documented in docs/components/store.md, \"Caching Bucket\")",
    },
    receive: {
        "receive.limits-config-file":
            'cmd/thanos/receive.go:1142: extflag.RegisterPathOrContent(cmd, "receive.limits-config", "YAML file that contains limit configuration.", extflag.WithEnvSubstitution(), extflag.WithHidden()) ' +
            "registers --receive.limits-config-file and --receive.limits-config (documented in docs/components/receive.md:260)",
    },
};

function thanosHelp(component: string): Set<string> {
    const dir = upstreamFolder("thanos", images.thanos.tag, THANOS_REFRESH);
    return kingpinFlags(upstreamFile(dir, `${component}.help.txt`));
}

interface ThanosContainer {
    readonly where: string;
    readonly component: string;
    readonly args: string[];
    readonly memoryLimit?: string;
}

function thanosContainers(plan: Awaited<ReturnType<typeof planStack>>): ThanosContainer[] {
    const found: ThanosContainer[] = [];
    for (const r of k8sObjects(plan)) {
        const m = manifest(r);
        const pod = m.spec?.template?.spec;
        for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
            if (typeof c.image !== "string" || !c.image.includes("/thanos/thanos:")) continue;
            const args = [...(c.command ?? []).filter((x: string) => x !== "thanos"), ...(c.args ?? [])] as string[];
            found.push({ where: `${plan.stack} ${m.kind} ${m.metadata.namespace}/${m.metadata.name} container ${c.name}`, component: args[0], args: args.slice(1), memoryLimit: c.resources?.limits?.memory });
        }
    }
    return found;
}

describe("Thanos flags against the pinned version's --help", () => {
    it("the help parser reads flag lines only, with both forms of a boolean flag (so the check below can fail)", () => {
        const rule = thanosHelp("rule");
        assert.ok(rule.has("alertmanagers.send-timeout"), "rule --help lists --alertmanagers.send-timeout");
        assert.ok(!rule.has("alertmanagers.timeout"), "rule has no --alertmanagers.timeout in this version");
        assert.ok(rule.has("version") && rule.has("no-version"), "--[no-]version gives both forms");
        assert.ok(!rule.has("help-long"), "a flag named inside a description is not a flag");
        assert.ok(rule.size > 50, `parsed ${rule.size} flags`);
    });

    it("the fixture folder matches the pin and names its source", () => {
        const dir = upstreamFolder("thanos", images.thanos.tag, THANOS_REFRESH);
        assert.strictEqual(path.basename(dir), `thanos-${images.thanos.tag}`);
        for (const c of ["receive", "query", "query-frontend", "store", "compact", "rule"]) {
            assert.match(upstreamFile(dir, `${c}.help.txt`), new RegExp(`^# thanos ${c} --help, from thanos-io/thanos ${images.thanos.tag} `));
        }
    });

    for (const stack of STACKS) {
        it(`${stack}: every argument of every Thanos container is a flag of its component at ${images.thanos.tag}`, async () => {
            const plan = await planStack(stack);
            const containers = thanosContainers(plan);
            if (plan.stack === "cluster-01") assert.ok(containers.length >= 6, `found ${containers.length} Thanos containers`);
            const unknown: string[] = [];
            for (const c of containers) {
                const known = thanosHelp(c.component);
                const hidden = HIDDEN_FLAGS[c.component] ?? {};
                for (const arg of c.args) {
                    const name = flagName(arg);
                    if (name === undefined) unknown.push(`${c.where}: positional argument ${arg}`);
                    else if (!known.has(name) && !(name in hidden)) unknown.push(`${c.where}: --${name}`);
                }
            }
            assert.deepStrictEqual(unknown, [], `flags thanos ${images.thanos.tag} does not have:\n${unknown.join("\n")}`);
        });

        it(`${stack}: every Thanos container with a memory limit tells the Go runtime (--enable-auto-gomemlimit)`, async () => {
            const plan = await planStack(stack);
            const missing = thanosContainers(plan).filter((c) => c.memoryLimit !== undefined && !c.args.includes("--enable-auto-gomemlimit")).map((c) => c.where);
            assert.deepStrictEqual(missing, []);
            if (plan.stack === "cluster-01") assert.ok(thanosContainers(plan).every((c) => c.memoryLimit !== undefined), "every central Thanos container has a memory limit");
        });
    }
});
