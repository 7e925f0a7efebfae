import * as assert from "assert";
import { parseClassicConfig } from "../lib/fluentBitConfig";
import { SECRET_MARKER, mapSecrets } from "../lib/offline";
import { STACKS, all, isSecret, isSecretAt, manifest, one, planStack, yaml } from "./helpers/plan";

const CHART = "kubernetes:helm.sh/v4:Chart";

async function fluentBit(stack: string) {
    const plan = await planStack(stack);
    const chart = all(plan, CHART).find((r) => r.name.endsWith("-fluent-bit-chart"))!;
    const values = manifest(chart).values;
    const sections = parseClassicConfig([values.config.service, values.config.inputs, values.config.filters, values.config.outputs].join("\n"));
    const get = (name: string, pluginName: string) => sections.find((s) => s.name === name && s.entries.some(([k, v]) => k === "Name" && v === pluginName));
    const entry = (s: { entries: [string, string][] } | undefined, key: string) => s?.entries.find(([k]) => k === key)?.[1];
    return { plan, chart, values, sections, get, entry };
}

describe("Logs: OpenSearch (cluster-01) and Fluent Bit (every cluster)", () => {
    describe("OpenSearch", () => {
        it("security on: TLS with the program's CA, no demo configuration, generated admin password as a secret output", async () => {
            const plan = await planStack("cluster-01");
            const v = manifest(all(plan, CHART).find((r) => r.name.endsWith("-logs-chart"))!).values;
            assert.strictEqual(v.securityConfig.enabled, true);
            assert.deepStrictEqual(v.extraEnvs, [{ name: "DISABLE_INSTALL_DEMO_CONFIG", value: "true" }]);
            const os = yaml(v.config["opensearch.yml"]);
            assert.strictEqual(os["plugins.security.ssl.http.enabled"], true);
            assert.strictEqual(os["plugins.security.ssl.transport.pemtrustedcas_filepath"], "certs/ca.crt");
            assert.strictEqual(os["node.store.allow_mmap"], false, "no vm.max_map_count sysctl: no privileged init container");
            assert.strictEqual(v.sysctlInit.enabled, false);
            assert.strictEqual(v.persistence.enableInitChown, false, "the chown init container runs as root");
            assert.ok(isSecret(plan.outputs.openSearchAdminPassword));
            const tlsSecret = one(plan, "kubernetes:core/v1:Secret", "-logs-tls");
            assert.ok(isSecretAt((tlsSecret.inputs as any).stringData, "tls.key"));
        });

        it("one user per cluster, allowed to write only its own logs-<cluster>-* indices; the config holds bcrypt hashes, never passwords", async () => {
            const plan = await planStack("cluster-01");
            const sec = one(plan, "kubernetes:core/v1:Secret", "-logs-security-config");
            assert.ok(isSecretAt((sec.inputs as any).stringData, "internal_users.yml"));
            const files = manifest(sec).stringData;
            const users = yaml(files["internal_users.yml"]);
            const roles = yaml(files["roles.yml"]);
            const mapping = yaml(files["roles_mapping.yml"]);
            for (const c of ["cluster-01", "cluster-02", "cluster-03", "cluster-04"]) {
                const u = users[`fluent-bit-${c}`];
                assert.match(u.hash, /^\$2[aby]\$/, `${c}: bcrypt hash`);
                assert.deepStrictEqual(roles[`log-writer-${c}`].index_permissions, [{ index_patterns: [`logs-${c}-*`], allowed_actions: ["crud", "create_index"] }]);
                assert.deepStrictEqual(mapping[`log-writer-${c}`].users, [`fluent-bit-${c}`]);
            }
            const passwords = Object.values(mapSecrets(plan.outputs.logsCredentials, true) as Record<string, { password: string }>).map((c) => c.password);
            assert.strictEqual(passwords.length, 4);
            for (const p of passwords) assert.ok(!JSON.stringify(files).includes(p), "a password reached the security config");
            assert.strictEqual(yaml(files["config.yml"]).config.dynamic.http.anonymous_auth_enabled, false);
        });

        it("an index lifecycle policy deletes logs-* indices after central.logs.retentionDays, applied by a Job named after its content", async () => {
            const plan = await planStack("cluster-01");
            const job = manifest(one(plan, "kubernetes:batch/v1:Job", "-logs-configure"));
            const policy = JSON.parse(job.spec.template.spec.containers[0].env.find((e: any) => e.name === "POLICY").value);
            assert.deepStrictEqual(policy.policy.ism_template[0].index_patterns, ["logs-*"]);
            assert.strictEqual(policy.policy.states[0].transitions[0].conditions.min_index_age, "14d");
            assert.deepStrictEqual(policy.policy.states[1].actions, [{ delete: {} }]);
            assert.match(job.metadata.name, /^opensearch-configure-[0-9a-f]{10}$/);
            assert.match(job.spec.template.spec.containers[0].command[2], /securityadmin\.sh -cd \/security/);
        });

        it("edges reach it through a LoadBalancer (TLS passthrough to OpenSearch); the stack reference carries endpoint, CA and secret credentials", async () => {
            const plan = await planStack("cluster-01");
            const svc = manifest(one(plan, "kubernetes:core/v1:Service", "-logs-external"));
            assert.strictEqual(svc.spec.type, "LoadBalancer");
            assert.deepStrictEqual(svc.spec.ports.map((p: any) => p.port), [9200]);
            assert.strictEqual(plan.outputs.logsEndpoint, "logs.cluster-01.example.internal:9200");
            assert.ok(isSecret(plan.outputs.logsCredentials));
            assert.ok(!isSecret(plan.outputs.logsCaCertPem));
        });
    });

    describe("Fluent Bit (generated configuration, structure)", () => {
        it("the parser rejects what Fluent Bit would reject (so the checks below can fail)", () => {
            assert.throws(() => parseClassicConfig("Name tail\n"), /before any section/);
            assert.throws(() => parseClassicConfig("[INPUT]\n    Name\n"), /not a key value/);
        });

        for (const stack of STACKS) {
            it(`${stack}: tails container logs, adds the cluster field, ships over verified TLS with its own user`, async () => {
                const fb = await fluentBit(stack);
                const tail = fb.get("INPUT", "tail");
                assert.strictEqual(fb.entry(tail, "Path"), "/var/log/containers/*.log");
                assert.strictEqual(fb.entry(tail, "storage.type"), "filesystem", "buffered on disk during outages");
                assert.ok(fb.get("FILTER", "kubernetes"));
                assert.strictEqual(fb.entry(fb.get("FILTER", "modify"), "Add"), `cluster ${stack}`);
                const out = fb.get("OUTPUT", "opensearch");
                assert.strictEqual(fb.entry(out, "tls"), "On");
                assert.strictEqual(fb.entry(out, "tls.verify"), "On");
                assert.strictEqual(fb.entry(out, "HTTP_User"), `fluent-bit-${stack}`);
                assert.strictEqual(fb.entry(out, "HTTP_Passwd"), "${OPENSEARCH_PASSWORD}");
                assert.strictEqual(fb.entry(out, "Logstash_Prefix"), `logs-${stack}`);
                const host = fb.entry(out, "Host");
                assert.strictEqual(host, stack === "cluster-01" ? "opensearch-cluster-master.logging.svc.cluster.local" : "logs.cluster-01.example.internal");
                // The password reaches the pod from a Secret, never through the chart values.
                assert.ok(!JSON.stringify(fb.values).includes(SECRET_MARKER), "a secret in the Fluent Bit values");
                assert.strictEqual(fb.values.env[0].valueFrom.secretKeyRef.name, "opensearch-credential");
                const cred = one(fb.plan, "kubernetes:core/v1:Secret", "-fluent-bit-credential");
                assert.ok(isSecretAt((cred.inputs as any).stringData, "password"));
                const ns = manifest(one(fb.plan, "kubernetes:core/v1:Namespace", "-logging-node"));
                assert.strictEqual(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
                assert.ok(ns.metadata.annotations["agent-receiver/pod-security-reason"]);
            });
        }

        it("cluster-02: a tenant field from the namespace owner (Lua), and each tenant agent scrapes the Fluent Bit pods on its own nodes", async () => {
            const fb = await fluentBit("cluster-02");
            const lua = fb.values.luaScripts["tenant.lua"] as string;
            assert.match(lua, /\["tenant-a"\] = "a"/);
            assert.match(lua, /\["tenant-b"\] = "b"/);
            assert.strictEqual(fb.entry(fb.get("FILTER", "lua"), "call"), "add_tenant");
            const cfgs = (await planStack("cluster-02")).outputs.agentConfigs as Record<string, string>;
            for (const [writer, text] of Object.entries(cfgs)) {
                const job = yaml(text).scrape_configs.find((j: any) => j.job_name === "fluent-bit");
                const nodeKeep = job.relabel_configs.find((r: any) => r.source_labels[0] === "__meta_kubernetes_pod_node_name" && r.action === "keep");
                const expected = writer.endsWith("-a") ? "cluster-02-worker-1|cluster-02-worker-2" : "cluster-02-worker-3|cluster-02-worker-4";
                assert.strictEqual(nodeKeep.regex, expected, writer);
            }
            const c03 = yaml(((await planStack("cluster-03")).outputs.agentConfigs as Record<string, string>)["cluster-03"]);
            assert.ok(!c03.scrape_configs.find((j: any) => j.job_name === "fluent-bit").relabel_configs.some((r: any) => r.source_labels[0] === "__meta_kubernetes_pod_node_name" && r.action === "keep"));
        });
    });
});
