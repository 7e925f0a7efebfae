/**
 * Tracing (`central.tracing`): one OTLP endpoint every Thanos component's `--tracing.config` uses, each key checked
 * against the Go types Thanos v0.42.4 reads it into (test/fixtures/upstream/thanos-v0.42.4/tracing-config.fields.txt)
 * and each value against the ones it accepts; the egress to the collector in every Thanos component's
 * NetworkPolicy; and, without it, no tracing flag and no such egress anywhere.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseStackConfig } from "../lib/config";
import { configProblem } from "./helpers/configProblem";
import { images } from "../lib/versions";
import { TRACING_EXAMPLE, centralWithExtensions } from "../tools/extensionExamples";
import type { Plan } from "../tools/plan";
import { STACKS, k8sObjects, manifest, planStack, yaml } from "./helpers/plan";
import { blockAfter } from "./helpers/readme";
import { kingpinFlags, parseGoFields, upstreamFile, upstreamFolder, walkGoFields } from "./helpers/upstream";

function tracingFields() {
    const tag = images.thanos.tag;
    const dir = upstreamFolder(
        "thanos",
        tag,
        "Derive tracing-config.fields.txt from pkg/tracing/client/factory.go, pkg/tracing/otlp/config_yaml.go and pkg/exthttp/tlsconfig.go " +
            "of github.com/thanos-io/thanos at that tag (one line per field: struct, yaml tag, Go type, file:line; see the file's header) — never copy the code.",
    );
    return { dir, where: `thanos ${tag} tracing-config.fields.txt`, fields: parseGoFields(upstreamFile(dir, "tracing-config.fields.txt"), `${dir}/tracing-config.fields.txt`) };
}

/** The values Thanos v0.42.4 accepts where a key selects behaviour, with where it reads them. */
const ACCEPTED = {
    // pkg/tracing/client/factory.go:34 (OpenTelemetryProtocol), :59 (strings.ToUpper), :78 (case OTLP → otlp.NewTracerProvider)
    type: ["OTLP"],
    // pkg/tracing/otlp/config_yaml.go:26-27; otlp.go:46-65 refuses any other ("Only 'http' and 'grpc' are accepted")
    client_type: ["grpc", "http"],
    // pkg/tracing/otlp/otlp.go:29-34, matched lower-cased at :111; any other name falls through to sampling everything (:134)
    sampler_type: ["alwayssample", "neversample", "traceidratiobased", "parentbasedalwayssample", "parentbasedneversample", "parentbasedtraceidratiobased"],
};

/** Every problem of one `--tracing.config`: keys against the field list, values against ACCEPTED. */
function tracingProblems(content: string, t: ReturnType<typeof tracingFields>, what: string): string[] {
    const cfg = parse(content);
    const problems = [...walkGoFields(cfg, "TracingConfig", t.fields, t.where, what), ...walkGoFields(cfg?.config, "Config", t.fields, t.where, `${what}.config`)];
    if (!ACCEPTED.type.includes(String(cfg?.type).toUpperCase())) problems.push(`${what}.type: ${cfg?.type} is not OTLP`);
    const c = cfg?.config ?? {};
    if (!ACCEPTED.client_type.includes(c.client_type)) problems.push(`${what}.config.client_type: ${c.client_type} is not grpc or http`);
    if (!ACCEPTED.sampler_type.includes(String(c.sampler_type).toLowerCase())) problems.push(`${what}.config.sampler_type: ${c.sampler_type} is not a sampler Thanos knows`);
    const ratio = Number(c.sampler_param);
    if (typeof c.sampler_param !== "string" || !(ratio >= 0 && ratio <= 1)) problems.push(`${what}.config.sampler_param: ${JSON.stringify(c.sampler_param)} is not a ratio given as a string`);
    if (!/^[^/:]+:\d+$/.test(String(c.endpoint))) problems.push(`${what}.config.endpoint: ${c.endpoint} is not host:port`);
    return problems;
}

/** The Thanos containers of a plan: workload name → its container's args. */
function thanosContainers(plan: Plan): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of k8sObjects(plan)) {
        const m = manifest(r);
        for (const c of m.spec?.template?.spec?.containers ?? []) {
            if (typeof c.image === "string" && c.image.includes("/thanos/thanos:")) out.set(`${m.kind}/${m.metadata.name}`, c.args);
        }
    }
    return out;
}

const THANOS_WORKLOADS = ["Deployment/thanos-query", "Deployment/thanos-query-frontend", "StatefulSet/thanos-compact", "StatefulSet/thanos-receive", "StatefulSet/thanos-ruler", "StatefulSet/thanos-store"];

describe("tracing: one OTLP endpoint for every Thanos component (central.tracing)", () => {
    let plan: Plan;
    before(async () => {
        plan = await planStack("cluster-01", { dir: centralWithExtensions({ tracing: true }) });
    });

    it(`the field list of Thanos ${images.thanos.tag}'s tracing configuration parses, and a misspelt key or a wrong value is reported (so the checks below can fail)`, () => {
        const t = tracingFields();
        assert.deepStrictEqual([...goKeys(t, "TracingConfig")], ["type", "config"]);
        assert.ok(goKeys(t, "Config").has("sampler_param") && goKeys(t, "TLSConfig").has("server_name"));
        const bad = "type: otlp\nconfig:\n  client_type: grpcs\n  sampler: parentbasedtraceidratiobased\n  sampler_type: ratio\n  sampler_param: 0.1\n  endpoint: http://x:4317\n  tls_config: { servername: x }\n";
        assert.deepStrictEqual(tracingProblems(bad, t, "t"), [
            `t.config.sampler: Config has no field sampler (${t.where})`,
            `t.config.tls_config.servername: TLSConfig has no field servername (${t.where})`,
            "t.config.client_type: grpcs is not grpc or http",
            "t.config.sampler_type: ratio is not a sampler Thanos knows",
            "t.config.sampler_param: 0.1 is not a ratio given as a string",
            "t.config.endpoint: http://x:4317 is not host:port",
        ]);
        assert.deepStrictEqual(tracingProblems("type: jaegr\nconfig: {}\nsampler: x\n", t, "t").slice(0, 2), [`t.sampler: TracingConfig has no field sampler (${t.where})`, "t.type: jaegr is not OTLP"]);
    });

    it("every Thanos container gets one --tracing.config, a flag its subcommand lists, with keys and values Thanos reads, and its own service name", () => {
        const t = tracingFields();
        const containers = thanosContainers(plan);
        assert.deepStrictEqual([...containers.keys()].sort(), THANOS_WORKLOADS);
        for (const [workload, args] of containers) {
            const flags = args.filter((a) => a.startsWith("--tracing."));
            assert.strictEqual(flags.length, 1, `${workload}: ${flags.join(" ")}`);
            assert.ok(flags[0].startsWith("--tracing.config="), flags[0]);
            const help = upstreamFile(t.dir, `${args[0]}.help.txt`);
            assert.ok(kingpinFlags(help).has("tracing.config"), `thanos ${args[0]} --help lists --tracing.config`);
            const content = flags[0].slice("--tracing.config=".length);
            assert.deepStrictEqual(tracingProblems(content, t, workload), []);
            const c = parse(content).config;
            assert.strictEqual(c.service_name, workload.split("/")[1]);
            assert.deepStrictEqual(
                { endpoint: c.endpoint, client_type: c.client_type, insecure: c.insecure, sampler_param: c.sampler_param, cluster: c.resource_attributes.cluster },
                { endpoint: TRACING_EXAMPLE.otlpEndpoint, client_type: "grpc", insecure: false, sampler_param: String(TRACING_EXAMPLE.samplingRatio), cluster: "cluster-01" },
            );
        }
    });

    it("every Thanos component's NetworkPolicy reaches the collector's CIDR on the endpoint's port, and no other policy does", () => {
        const collector = { to: [{ ipBlock: { cidr: TRACING_EXAMPLE.cidr } }], ports: [{ protocol: "TCP", port: 4317 }] };
        const withCollector = k8sObjects(plan)
            .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy")
            .map((r) => manifest(r))
            .filter((np) => (np.spec.egress ?? []).some((e: any) => JSON.stringify(e).includes(TRACING_EXAMPLE.cidr)));
        assert.deepStrictEqual(withCollector.map((np) => np.metadata.name).sort(), ["thanos-compact", "thanos-query", "thanos-query-frontend", "thanos-receive", "thanos-ruler", "thanos-store"]);
        for (const np of withCollector) assert.deepStrictEqual(np.spec.egress.filter((e: any) => JSON.stringify(e).includes(TRACING_EXAMPLE.cidr)), [collector], np.metadata.name);
    });

    for (const stack of STACKS) {
        it(`${stack} (committed, without central.tracing): no tracing flag on any container, no egress to a collector`, async () => {
            const p = await planStack(stack);
            const args = k8sObjects(p).flatMap((r) => (manifest(r).spec?.template?.spec?.containers ?? []).flatMap((c: any) => c.args ?? []));
            assert.ok(args.length > 0);
            assert.deepStrictEqual(args.filter((a: string) => a.includes("tracing")), []);
            const egressPorts = k8sObjects(p)
                .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy")
                .flatMap((r) => (manifest(r).spec.egress ?? []).flatMap((e: any) => (e.ports ?? []).map((x: any) => x.port)));
            assert.ok(egressPorts.length > 0 && !egressPorts.includes(4317), "no egress to an OTLP port");
        });
    }

    it("the README's example is the one planned here, and its Query flag is what Query gets", () => {
        assert.deepStrictEqual(parse(blockAfter("tracing:config").code), { tracing: { ...TRACING_EXAMPLE } });
        const query = thanosContainers(plan).get("Deployment/thanos-query")!;
        assert.deepStrictEqual(parse(blockAfter("tracing:query-flag").code), yaml(query.find((a) => a.startsWith("--tracing.config="))!.slice("--tracing.config=".length)));
    });
});

function goKeys(t: ReturnType<typeof tracingFields>, struct: string): Set<string> {
    return new Set((t.fields.get(struct) ?? []).map((f) => f.key));
}

describe("central.tracing: bad input is refused naming the stack and the key", () => {
    const base = (): any => {
        const raw = parse(fs.readFileSync(path.join(centralWithExtensions({ tracing: true }), "Pulumi.cluster-01.yaml"), "utf8")).config;
        return { role: "central", clusterName: "cluster-01", kubernetes: raw["agent-receiver:kubernetes"], images: {}, central: raw["agent-receiver:central"] };
    };
    const cases: [string, (t: any) => void, string, RegExp][] = [
        ["an endpoint with a scheme", (t) => (t.otlpEndpoint = "https://tempo.example.internal:4317"), "otlpEndpoint", /host:port/],
        ["an endpoint without a port", (t) => (t.otlpEndpoint = "tempo.example.internal"), "otlpEndpoint", /host:port/],
        ["a collector address outside its CIDR", (t) => (t.otlpEndpoint = "10.1.2.3:4317"), "otlpEndpoint", /outside central.tracing.cidr \(192\.168\.104\.0\/24\)/],
        ["a CIDR wider than /8", (t) => (t.cidr = "0.0.0.0/0"), "cidr", /prefix of \/8 or longer/],
        ["a missing CIDR", (t) => delete t.cidr, "cidr", /./],
        ["a ratio above 1", (t) => (t.samplingRatio = 2), "samplingRatio", /./],
        ["an unknown protocol", (t) => (t.protocol = "thrift"), "protocol", /./],
        ["serverName with insecure", (t) => Object.assign(t, { insecure: true, serverName: "tempo.example.internal" }), "serverName", /no effect with insecure/],
        ["an unknown key", (t) => (t.sampler = "always"), "sampler", /unknown key/],
    ];
    for (const [what, change, key, message] of cases) {
        it(`refuses ${what}, naming agent-receiver:central.tracing.${key}`, () => {
            const raw = base();
            change(raw.central.tracing);
            const problem = configProblem("cluster-01", raw, `agent-receiver:central.tracing.${key}`);
            assert.match(problem.message, message);
        });
    }

    it("fills the documented defaults: gRPC, TLS, no server name, a ratio of 0.1", () => {
        const raw = base();
        raw.central.tracing = { otlpEndpoint: "tempo.example.internal:4317", cidr: "192.168.104.0/24" };
        assert.deepStrictEqual(parseStackConfig("cluster-01", raw).central!.tracing, { otlpEndpoint: "tempo.example.internal:4317", cidr: "192.168.104.0/24", protocol: "grpc", insecure: false, samplingRatio: 0.1 });
    });
});
