import { CENTRAL_POD_LABELS } from "../components/centralMonitoring";
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as http from "http";
import { AddressInfo } from "net";
import { stringify } from "yaml";
import { parseClassicConfig } from "../lib/fluentBitConfig";
import { SECRET_MARKER, mapSecrets } from "../tools/offline";
import { imageName, images } from "../lib/versions";
import { Harness, freePort, waitFor } from "../scripts/lib/harness";
import { STACKS, all, isSecret, isSecretAt, manifest, one, planStack, tmpDir, tool, yaml } from "./helpers/plan";

const CHART = "kubernetes:helm.sh/v4:Chart";

const dep = (plan: Awaited<ReturnType<typeof planStack>>) => manifest(one(plan, "kubernetes:apps/v1:Deployment", "-logs-exporter-deployment"));

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
            for (const c of STACKS) {
                const u = users[`fluent-bit-${c}`];
                assert.match(u.hash, /^\$2[aby]\$/, `${c}: bcrypt hash`);
                assert.deepStrictEqual(roles[`log-writer-${c}`].index_permissions, [{ index_patterns: [`logs-${c}-*`], allowed_actions: ["write", "create_index"] }]);
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

    describe("OpenSearch metrics (exporter)", () => {
        it("an exporter reads OpenSearch over verified TLS as a monitor-only user whose password is a secret", async () => {
            const plan = await planStack("cluster-01");
            const dep = manifest(one(plan, "kubernetes:apps/v1:Deployment", "-logs-exporter-deployment"));
            assert.strictEqual(dep.metadata.namespace, "logging");
            const spec = dep.spec.template.spec;
            const c = spec.containers[0];
            assert.strictEqual(c.image, imageName(images.openSearchExporter));
            assert.ok(c.args.includes("--es.uri=https://opensearch-cluster-master:9200"), c.args.join(" "));
            assert.ok(c.args.includes("--es.all"), "every node's disk and heap");
            // The exporter must answer within Prometheus' scrape timeout (10 s unless the PodMonitor sets one).
            const pm = manifest(one(plan, "kubernetes:monitoring.coreos.com/v1:PodMonitor", "-podmonitor-opensearch-exporter"));
            const scrapeTimeoutS = Number((pm.spec.podMetricsEndpoints[0].scrapeTimeout ?? "10s").replace(/s$/, ""));
            const esTimeoutS = Number(/^--es\.timeout=(\d+)s$/.exec(c.args.find((a: string) => a.startsWith("--es.timeout=")))?.[1]);
            assert.ok(esTimeoutS > 0 && esTimeoutS < scrapeTimeoutS, `--es.timeout ${esTimeoutS}s vs scrape timeout ${scrapeTimeoutS}s`);
            const ca = c.args.find((a: string) => a.startsWith("--es.ca="))?.slice("--es.ca=".length);
            assert.ok(ca, "CA flag");
            assert.ok(!c.args.some((a: string) => a.startsWith("--es.ssl-skip-verify")), "verification must stay on");
            // The CA path is the mounted CA, and the mount carries the CA only (the Secret also holds private keys).
            const mount = c.volumeMounts.find((m: any) => ca.startsWith(`${m.mountPath}/`));
            const vol = spec.volumes.find((v: any) => v.name === mount.name);
            assert.deepStrictEqual(vol.secret, { secretName: "opensearch-tls", items: [{ key: "ca.crt", path: ca.slice(mount.mountPath.length + 1) }] });
            // Credentials come from a Secret the program fills with the generated password.
            assert.deepStrictEqual(
                c.env.map((e: any) => [e.name, e.valueFrom?.secretKeyRef?.name]),
                [["ES_USERNAME", "opensearch-exporter"], ["ES_PASSWORD", "opensearch-exporter"]],
            );
            const secret = one(plan, "kubernetes:core/v1:Secret", "-logs-exporter-credential");
            assert.ok(isSecret((secret.inputs as any).stringData), "exporter credential must be a secret");
            assert.strictEqual(manifest(secret).metadata.name, "opensearch-exporter");
            // Its OpenSearch user: a bcrypt hash, mapped to a role with cluster monitoring only and no index access.
            const files = manifest(one(plan, "kubernetes:core/v1:Secret", "-logs-security-config")).stringData;
            const password = manifest(secret).stringData.ES_PASSWORD;
            assert.match(yaml(files["internal_users.yml"])[manifest(secret).stringData.ES_USERNAME].hash, /^\$2[aby]\$/);
            assert.ok(!JSON.stringify(files).includes(password), "the exporter password reached the security config");
            assert.deepStrictEqual(yaml(files["roles.yml"])["metrics-reader"], { reserved: true, cluster_permissions: ["cluster_monitor"] });
            assert.deepStrictEqual(yaml(files["roles_mapping.yml"])["metrics-reader"].users, ["metrics-exporter"]);
        });

        it("network: the exporter talks to OpenSearch's HTTP port only and is scraped by the central Prometheus only", async () => {
            const plan = await planStack("cluster-01");
            const np = manifest(one(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "-logs-exporter-netpol"));
            assert.deepStrictEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
            assert.deepStrictEqual(np.spec.egress, [{ to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "opensearch" } } }], ports: [{ protocol: "TCP", port: 9200 }] }]);
            assert.deepStrictEqual(np.spec.ingress[0].ports, [{ protocol: "TCP", port: 9114 }]);
            assert.deepStrictEqual(np.spec.ingress[0].from, [
                { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: CENTRAL_POD_LABELS.prometheus } },
            ]);
            const pm = manifest(one(plan, "kubernetes:monitoring.coreos.com/v1:PodMonitor", "-podmonitor-opensearch-exporter"));
            assert.deepStrictEqual(pm.spec.namespaceSelector.matchNames, ["logging"]);
            assert.deepStrictEqual(pm.spec.selector.matchExpressions[0].values, [dep(plan).spec.template.metadata.labels["app.kubernetes.io/name"]]);
            assert.strictEqual(pm.spec.podMetricsEndpoints[0].port, dep(plan).spec.template.spec.containers[0].ports[0].name);
        });

        it("real Prometheus: with the PodMonitor's relabelings the series keep this cluster's external label (without: the exporter's cluster name wins)", async function () {
            this.timeout(60000);
            const plan = await planStack("cluster-01");
            const pm = manifest(one(plan, "kubernetes:monitoring.coreos.com/v1:PodMonitor", "-podmonitor-opensearch-exporter"));
            const kps = manifest(all(plan, CHART).find((r) => r.name.endsWith("-monitoring-kube-prometheus-stack"))!).values;
            const externalLabels = kps.prometheus.prometheusSpec.externalLabels;
            assert.strictEqual(externalLabels.cluster, "cluster-01");
            // The operator turns PodMonitor relabelings into metric_relabel_configs with snake_case keys.
            const snake = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`), v]));
            const relabel = pm.spec.podMetricsEndpoints[0].metricRelabelings.map(snake);

            // What the exporter serves: its own `cluster` label holds OpenSearch's cluster name.
            const exposition = 'elasticsearch_cluster_health_status{cluster="opensearch-cluster",color="red"} 0\n';
            const server = http.createServer((_, res) => res.end(exposition));
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
            const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
            const h = new Harness("relabel");
            try {
                const port = await freePort();
                fs.writeFileSync(
                    h.file("prometheus.yml"),
                    stringify({
                        global: { scrape_interval: "1s", external_labels: externalLabels },
                        scrape_configs: [
                            { job_name: "opensearch-exporter", static_configs: [{ targets: [target] }], metric_relabel_configs: relabel },
                            { job_name: "without-relabelings", static_configs: [{ targets: [target] }] },
                        ],
                    }),
                );
                h.start("prometheus", [`--config.file=${h.file("prometheus.yml")}`, `--storage.tsdb.path=${h.file("data")}`, `--web.listen-address=127.0.0.1:${port}`], tool("prometheus"));
                // /federate attaches external labels the way remote write does: only where the series has none.
                const federate = async () => {
                    const url = `http://127.0.0.1:${port}/federate?match[]=${encodeURIComponent("elasticsearch_cluster_health_status")}`;
                    const res = await fetch(url);
                    return res.ok ? await res.text() : "";
                };
                let text = "";
                await waitFor("two federated series", 30, async () => ((text = await federate()).match(/^elasticsearch_/gm) ?? []).length === 2);
                const labelsOf = (job: string) => {
                    const line = text.split("\n").find((l) => l.includes(`job="${job}"`))!;
                    return Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
                };
                const kept = labelsOf("opensearch-exporter");
                assert.strictEqual(kept.cluster, "cluster-01", text);
                assert.strictEqual(kept.opensearch_cluster, "opensearch-cluster");
                assert.strictEqual(labelsOf("without-relabelings").cluster, "opensearch-cluster", "the collision the relabelings fix");
            } finally {
                server.close();
                h.cleanup();
            }
        });
    });

    describe("OpenSearch Dashboards (operators' log search)", () => {
        it("reaches OpenSearch over verified TLS with the CA only, as its own server user mapped to kibana_server; secrets stay secret", async () => {
            const plan = await planStack("cluster-01");
            const v = manifest(all(plan, CHART).find((r) => r.name.endsWith("-logs-dashboards-chart"))!).values;
            const yml = yaml(v.config["opensearch_dashboards.yml"]);
            assert.strictEqual(yml["opensearch.ssl.verificationMode"], "full");
            assert.deepStrictEqual(yml["opensearch.hosts"], ["https://opensearch-cluster-master.logging.svc.cluster.local:9200"]);
            assert.strictEqual(yml["opensearch_security.cookie.secure"], true);
            assert.strictEqual(yml["server.publicBaseUrl"], "https://logs-ui.cluster-01.example.internal");
            // The CA file the config names is in a mounted Secret that holds the CA and nothing else.
            const caPath: string = yml["opensearch.ssl.certificateAuthorities"][0];
            const mount = v.secretMounts.find((m: any) => caPath.startsWith(`${m.path}/`));
            const ca = all(plan, "kubernetes:core/v1:Secret").map(manifest).find((m) => m.metadata.name === mount.secretName);
            assert.deepStrictEqual(Object.keys(ca.stringData), [caPath.slice(mount.path.length + 1)]);
            // Username, password and cookie key come from a secret Secret; the user is the kibana_server mapping.
            const account = all(plan, "kubernetes:core/v1:Secret").find((r) => manifest(r).metadata.name === v.opensearchAccount.secret)!;
            assert.ok(isSecret((account.inputs as any).stringData), "the Dashboards account must be a secret");
            const acc = manifest(account).stringData;
            assert.deepStrictEqual(Object.keys(acc).sort(), ["cookie", "password", "username"]);
            assert.ok(acc.cookie.length >= 32, "the security plugin needs a cookie key of 32+ characters");
            const files = manifest(one(plan, "kubernetes:core/v1:Secret", "-logs-security-config")).stringData;
            assert.deepStrictEqual(yaml(files["roles_mapping.yml"]).kibana_server.users, [acc.username]);
            assert.match(yaml(files["internal_users.yml"])[acc.username].hash, /^\$2[aby]\$/);
            assert.ok(!JSON.stringify(files).includes(acc.password), "the password reached the security config");
            assert.strictEqual(v.serviceAccount.automountServiceAccountToken, false);
        });

        it("is exposed like Grafana: an HTTPS Gateway listener for central.logs.dashboards.hostname, Cilium's ingress identity only", async () => {
            const plan = await planStack("cluster-01");
            const gw = manifest(one(plan, "kubernetes:gateway.networking.k8s.io/v1:Gateway", "-logs-dashboards-gateway-gateway"));
            assert.strictEqual(gw.metadata.namespace, "logging");
            assert.deepStrictEqual(gw.spec.listeners.map((l: any) => [l.protocol, l.hostname, l.tls.certificateRefs[0].name]), [["HTTPS", "logs-ui.cluster-01.example.internal", "opensearch-dashboards-tls"]]);
            const route = manifest(one(plan, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "-logs-dashboards-gateway-route"));
            assert.deepStrictEqual(route.spec.rules[0].backendRefs, [{ name: "opensearch-dashboards", port: 5601 }]);
            const cnp = manifest(one(plan, "kubernetes:cilium.io/v2:CiliumNetworkPolicy", "-logs-dashboards-gateway-cilium-ingress"));
            assert.deepStrictEqual(cnp.spec.endpointSelector.matchLabels, { "app.kubernetes.io/name": "opensearch-dashboards" });
            assert.deepStrictEqual(cnp.spec.ingress, [{ fromEntities: ["ingress"], toPorts: [{ ports: [{ port: "5601", protocol: "TCP" }] }] }]);
            const np = manifest(one(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "-logs-dashboards-netpol"));
            assert.deepStrictEqual(np.spec.ingress, []);
            assert.deepStrictEqual(np.spec.egress, [{ to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "opensearch" } } }], ports: [{ protocol: "TCP", port: 9200 }] }]);
            assert.strictEqual(plan.outputs.logsDashboardsUrl, "https://logs-ui.cluster-01.example.internal/");
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
                // A pod cannot set the platform's fields: Set overwrites (Add would keep a value already there), a JSON
                // log is merged under its own key, and no pod can hide its logs by annotation.
                assert.strictEqual(fb.entry(fb.get("FILTER", "modify"), "Set"), `cluster ${stack}`);
                assert.strictEqual(fb.entry(fb.get("FILTER", "modify"), "Add"), undefined);
                assert.strictEqual(fb.entry(fb.get("FILTER", "kubernetes"), "Merge_Log_Key"), "log_processed");
                assert.strictEqual(fb.entry(fb.get("FILTER", "kubernetes"), "K8S-Logging.Exclude"), "Off");
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
            // The script itself, run by LuaJIT (the Lua engine Fluent Bit embeds; Debian's 2.1): the tenant comes from
            // the namespace only; a record's own `tenant` is replaced, or cleared where no tenant owns the namespace.
            const dir = tmpDir("fluent-bit-lua-");
            fs.writeFileSync(path.join(dir, "tenant.lua"), lua);
            const harness = [
                'dofile(arg[1])',
                'local function show(r) local code, _, out = add_tenant("kube.x", 0, r); print(code, tostring(out["tenant"])) end',
                'show({ kubernetes = { namespace_name = "tenant-a" }, tenant = "b" })',
                'show({ kubernetes = { namespace_name = "tenant-b" } })',
                'show({ kubernetes = { namespace_name = "default" }, tenant = "a" })',
                'show({ tenant = "a" })',
            ].join("\n");
            fs.writeFileSync(path.join(dir, "harness.lua"), harness);
            const out = execFileSync(tool("luajit", "luajit"), [path.join(dir, "harness.lua"), path.join(dir, "tenant.lua")]).toString().trim().split("\n");
            assert.deepStrictEqual(out, ["2\ta", "2\tb", "2\tnil", "2\tnil"]);
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
