import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { renderAlertmanagerConfig } from "../lib/alertmanagerConfig";
import { ALERT_NAMES } from "../lib/alertRules";
import { mapSecrets } from "../tools/offline";
import { SECRET_PLACEHOLDER } from "../tools/plan";
import { all, isSecret, isSecretAt, manifest, one, planStack, tmpDir, tool, yaml } from "./helpers/plan";

const CHART = "kubernetes:helm.sh/v4:Chart";

/** The Alertmanager configuration as the plan renders it (webhook URLs are the plan's placeholders). */
async function amConfig(): Promise<{ text: string; secret: boolean }> {
    const s = one(await planStack("cluster-01"), "kubernetes:core/v1:Secret", "-alertmanager-config");
    return { text: manifest(s).stringData["alertmanager.yaml"], secret: isSecretAt((s.inputs as any).stringData, "alertmanager.yaml") };
}

function amtool(args: string[], cwd?: string): string {
    try {
        return execFileSync(tool("amtool"), args, { cwd, stdio: "pipe" }).toString();
    } catch (e) {
        const err = e as { stdout?: Buffer; stderr?: Buffer };
        throw new Error(`amtool ${args.join(" ")}: ${err.stdout}${err.stderr}`);
    }
}

describe("CentralMonitoring (cluster-01)", () => {
    describe("Alertmanager configuration", () => {
        it("is a secret (it holds webhook URLs) and passes the real amtool check-config", async () => {
            const { text, secret } = await amConfig();
            assert.ok(secret, "the Alertmanager config must travel as a Pulumi secret");
            // The plan's webhook values are placeholders; amtool needs URLs.
            const file = path.join(tmpDir("am-"), "alertmanager.yaml");
            fs.writeFileSync(file, text.split(SECRET_PLACEHOLDER).join("https://hooks.example.internal/x"));
            assert.match(amtool(["check-config", file]), /SUCCESS/);
        });

        it("routes: each watchdog to its own heartbeat only; tenant B's alerts to its team and the platform; the rest by severity", async () => {
            const { text } = await amConfig();
            const file = path.join(tmpDir("am-routes-"), "alertmanager.yaml");
            fs.writeFileSync(file, text.split(SECRET_PLACEHOLDER).join("https://hooks.example.internal/x"));
            const route = (...labels: string[]) => amtool(["config", "routes", "test", `--config.file=${file}`, ...labels]).trim();
            assert.strictEqual(route("alertname=Watchdog", "severity=none"), "heartbeat");
            // The central Prometheus' watchdog (external label cluster) goes to the second heartbeat check, nowhere else.
            assert.strictEqual(route("alertname=SelfMonitoringWatchdog", "severity=none", "cluster=cluster-01"), "heartbeat-self-monitoring");
            const c = yaml(text.split(SECRET_PLACEHOLDER).join("https://hooks.example.internal/x"));
            const urls = c.receivers.filter((r: any) => r.name.startsWith("heartbeat")).map((r: any) => r.webhook_configs[0].url);
            assert.strictEqual(urls.length, 2);
            assert.strictEqual(route("alertname=WriterStoppedSending", "severity=critical", "tenant_id=cluster-02-b", "cluster=cluster-02"), "tenant-b,platform");
            assert.strictEqual(route("alertname=WriterStoppedSending", "severity=critical", "tenant_id=cluster-03", "cluster=cluster-03"), "platform");
            assert.strictEqual(route("alertname=CacheHitRatioLow", "severity=warning", "cluster=cluster-01"), "platform");
        });

        it("a broken configuration fails amtool (so the check above can fail)", () => {
            const file = path.join(tmpDir("am-bad-"), "alertmanager.yaml");
            fs.writeFileSync(file, renderAlertmanagerConfig({ receivers: [{ name: "p", webhookUrlSecret: "k" }], routes: [{ receiver: "nobody", severities: [], clusters: [], tenants: [], continue: false }] }, { k: "https://x.example" }));
            assert.throws(() => amtool(["check-config", file]), /nobody/);
        });

        it("inhibits warnings under a critical of the same alert and writer, and agent alerts of a silent writer", async () => {
            const c = yaml((await amConfig()).text);
            assert.deepStrictEqual(c.inhibit_rules[0].equal, ["alertname", "cluster", "tenant_id"]);
            assert.match(c.inhibit_rules[1].source_matchers[0], /WriterStoppedSending/);
            assert.deepStrictEqual(c.inhibit_rules[2], { source_matchers: ['alertname="ThanosComponentDown"'], target_matchers: ['alertname="TargetDown"'], equal: ["cluster", "job"] });
            for (const r of c.receivers.filter((x: any) => x.webhook_configs)) assert.ok(r.webhook_configs[0].url, r.name);
        });
    });

    describe("kube-prometheus-stack values", () => {
        async function values(): Promise<any> {
            const chart = all(await planStack("cluster-01"), CHART).find((r) => r.name.endsWith("-kube-prometheus-stack"))!;
            return manifest(chart).values;
        }

        it("Prometheus: an HA pair with a replica label Query deduplicates, writing to Receive with cluster-01's own certificate", async () => {
            const v = await values();
            const p = v.prometheus.prometheusSpec;
            assert.strictEqual(p.replicas, 2);
            assert.strictEqual(p.replicaExternalLabelName, "prometheus_replica");
            assert.deepStrictEqual(p.additionalArgs, [{ name: "storage.remote.flush-deadline", value: "2h" }], "no batch dropped by a resharding during a Receive outage");
            assert.deepStrictEqual(p.externalLabels, { cluster: "cluster-01" });
            assert.strictEqual(p.remoteWrite[0].url, "https://thanos-receive.thanos.svc.cluster.local:19291/api/v1/receive");
            assert.strictEqual(p.remoteWrite[0].tlsConfig.keySecret.name, "remote-write-tls");
            const plan = await planStack("cluster-01");
            const query = manifest(one(plan, "kubernetes:apps/v1:Deployment", "-query-deployment")).spec.template.spec.containers[0].args as string[];
            assert.ok(query.includes("--query.replica-label=prometheus_replica"), "Query must deduplicate the HA pair");
            // The credential in the Secret is the one issued for writer cluster-01 (Organization = tenant).
            const tls = one(plan, "kubernetes:core/v1:Secret", "-monitoring-remote-write-tls");
            assert.ok(isSecretAt((tls.inputs as any).stringData, "tls.key"), "the client key is a secret");
            const creds = mapSecrets(plan.outputs.writerCredentials, true) as Record<string, { certPem: string }>;
            assert.strictEqual(manifest(tls).stringData["tls.crt"], creds["cluster-01"].certPem);
        });

        it("Alertmanager: clustered, configured by the program's Secret; the chart's rules and webhook-hook jobs are off", async () => {
            const v = await values();
            assert.strictEqual(v.alertmanager.alertmanagerSpec.replicas, 2);
            assert.strictEqual(v.alertmanager.alertmanagerSpec.useExistingSecret, true);
            const secret = one(await planStack("cluster-01"), "kubernetes:core/v1:Secret", "-alertmanager-config");
            assert.strictEqual(manifest(secret).metadata.name, "alertmanager-kps-alertmanager");
            assert.strictEqual(v.defaultRules.create, false);
            assert.strictEqual(v.prometheusOperator.admissionWebhooks.enabled, false, "v4 Charts run no hooks: the webhook cert job would never run");
            assert.strictEqual(v.crds.enabled, false);
        });

        it("CRDs come from a separate chart instance that is protected and kept on delete", async () => {
            const crds = all(await planStack("cluster-01"), CHART).find((r) => r.name.endsWith("-monitoring-crds"))!;
            assert.ok(crds.protect, "protect");
            assert.ok(crds.retainOnDelete, "retainOnDelete");
            assert.strictEqual((crds.inputs as any).values.crds.enabled, true);
            assert.strictEqual((crds.inputs as any).values.prometheusOperator.enabled, false);
        });

        it("Grafana: generated admin password (secret output), Query Frontend as the one datasource, its own dashboards", async () => {
            const plan = await planStack("cluster-01");
            const v = await values();
            assert.strictEqual(v.grafana.admin.existingSecret, "grafana-admin");
            const ds = v.grafana.datasources["datasources.yaml"].datasources;
            assert.strictEqual(ds.length, 1);
            assert.strictEqual(ds[0].url, "http://thanos-query-frontend.thanos.svc.cluster.local:10902");
            assert.strictEqual(v.grafana.defaultDashboardsEnabled, false);
            // No sidecar, no RBAC, no token: with a sidecar on, the grafana chart grants get/list/watch on Secrets
            // cluster-wide (templates/clusterrole.yaml); Grafana is the exposed UI.
            assert.deepStrictEqual(v.grafana.sidecar, { dashboards: { enabled: false }, datasources: { enabled: false } });
            assert.deepStrictEqual(v.grafana.rbac, { create: false });
            assert.strictEqual(v.grafana.automountServiceAccountToken, false);
            assert.strictEqual(v.grafana.serviceAccount.automountServiceAccountToken, false);
            assert.strictEqual(v.alertmanager.alertmanagerSpec.automountServiceAccountToken, false);
            assert.deepStrictEqual(v["kube-state-metrics"].collectorsExclude, ["secrets"]);
            assert.deepStrictEqual(v.grafana["grafana.ini"].security, { cookie_secure: true, cookie_samesite: "lax", strict_transport_security: true, strict_transport_security_max_age_seconds: 31536000 });
            const provider = v.grafana.dashboardProviders["dashboardproviders.yaml"].providers[0];
            assert.strictEqual(provider.options.path, `/var/lib/grafana/dashboards/${provider.name}`, "the chart mounts dashboardsConfigMaps.<provider> there");
            assert.strictEqual(v.grafana.dashboardsConfigMaps[provider.name], "grafana-dashboards");
            assert.ok(isSecret(plan.outputs.grafanaAdminPassword), "grafanaAdminPassword must be a secret output");
            const admin = one(plan, "kubernetes:core/v1:Secret", "-grafana-admin");
            assert.ok(isSecretAt((admin.inputs as any).stringData, "admin-password"));
            const boards = manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-monitoring-dashboards"));
            assert.strictEqual(boards.metadata.name, "grafana-dashboards");
            assert.deepStrictEqual(Object.keys(boards.data).sort(), ["ar-compactor.json", "ar-cost.json", "ar-logs.json", "ar-overview.json", "ar-query.json", "ar-receive.json", "ar-slo.json"]);
            assert.ok(JSON.stringify(boards.data).length < 900 * 1024, "a ConfigMap holds at most 1 MiB");
            for (const text of Object.values(boards.data) as string[]) {
                const json = JSON.parse(text);
                assert.ok(json.panels.length >= 4, json.title);
                for (const p of json.panels) for (const t of p.targets) assert.strictEqual(t.datasource.uid, "thanos");
            }
        });

        it("scrapes the platform's own pods with job = app.kubernetes.io/name, the label the alert rules select on", async () => {
            const plan = await planStack("cluster-01");
            const pm = all(plan, "kubernetes:monitoring.coreos.com/v1:PodMonitor").map(manifest);
            const thanos = pm.find((m) => m.metadata.name === "thanos");
            assert.strictEqual(thanos.spec.jobLabel, "app.kubernetes.io/name");
            assert.deepStrictEqual(thanos.spec.namespaceSelector.matchNames, ["thanos"]);
            // Every Thanos workload's app.kubernetes.io/name is in the PodMonitor's list.
            const names = all(plan, "kubernetes:apps/v1:StatefulSet")
                .concat(all(plan, "kubernetes:apps/v1:Deployment"))
                .map((r) => manifest(r))
                .filter((m) => m.metadata.namespace === "thanos")
                .map((m) => m.spec.template.metadata.labels["app.kubernetes.io/name"]);
            for (const n of names.filter((n: string) => n.startsWith("thanos"))) assert.ok(thanos.spec.selector.matchExpressions[0].values.includes(n), n);
            const rules = manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-ruler-rules")).data["platform.yaml"] as string;
            // Jobs the central PodMonitors produce, plus the edge agents' scrape jobs (their generated prometheus.yml).
            const agentConfig = yaml(manifest(one(await planStack("cluster-03"), "kubernetes:core/v1:ConfigMap", "-agent-config")).data["prometheus.yml"]);
            const known = [...pm.flatMap((m) => m.spec.selector.matchExpressions[0].values), ...agentConfig.scrape_configs.map((j: any) => j.job_name)];
            // The Ruler's file quotes strings with ' (for its alert links).
            assert.ok([...rules.matchAll(/job='([^']+)'/g)].length > 10, "the check below has jobs to check");
            for (const job of rules.matchAll(/job=["']([^"']+)["']/g)) {
                assert.ok(known.includes(job[1]), `rules select job="${job[1]}", which no PodMonitor produces`);
            }
        });
    });

    describe("exposure", () => {
        it("Grafana is reachable through a Gateway API HTTPS listener for the configured host; the Query Frontend is not routed", async () => {
            const plan = await planStack("cluster-01");
            const gw = manifest(one(plan, "kubernetes:gateway.networking.k8s.io/v1:Gateway", "-grafana-gateway-gateway"));
            assert.strictEqual(gw.spec.gatewayClassName, "cilium");
            assert.strictEqual(gw.spec.listeners[0].protocol, "HTTPS");
            assert.strictEqual(gw.spec.listeners[0].hostname, "grafana.cluster-01.example.internal");
            const routes = all(plan, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute").map(manifest);
            // Routed: only UIs with their own login (Grafana; OpenSearch Dashboards, tested with the logs).
            assert.deepStrictEqual(routes.map((r) => r.spec.rules[0].backendRefs[0].name).sort(), ["kps-grafana", "opensearch-dashboards"]);
            const cnp = manifest(one(plan, "kubernetes:cilium.io/v2:CiliumNetworkPolicy", "-grafana-gateway-cilium-ingress"));
            assert.deepStrictEqual(cnp.spec.ingress[0].fromEntities, ["ingress"]);
            assert.strictEqual(plan.outputs.grafanaUrl, "https://grafana.cluster-01.example.internal/");
        });

        it("Prometheus may reach anything inside the cluster (pods, nodes, API server) and nothing outside it", async () => {
            const plan = await planStack("cluster-01");
            const cnp = manifest(one(plan, "kubernetes:cilium.io/v2:CiliumNetworkPolicy", "-cilium-prometheus-egress"));
            assert.strictEqual(cnp.metadata.namespace, "monitoring");
            assert.deepStrictEqual(cnp.spec.endpointSelector, { matchLabels: { "app.kubernetes.io/name": "prometheus" } });
            assert.deepStrictEqual(cnp.spec.egress, [{ toEntities: ["cluster", "kube-apiserver"] }]);
            const k8sPolicies = all(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map(manifest);
            const forPrometheus = k8sPolicies.filter((m) => m.metadata.namespace === "monitoring" && m.spec.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "prometheus");
            assert.deepStrictEqual(forPrometheus.flatMap((m) => m.spec.egress ?? []), [], "no Kubernetes policy widens Prometheus' egress");
        });
    });

    it("the alert list the tests cover is the list the ruler loads", async () => {
        const rules = yaml(manifest(one(await planStack("cluster-01"), "kubernetes:core/v1:ConfigMap", "-ruler-rules")).data["platform.yaml"]);
        assert.deepStrictEqual(rules.groups[0].rules.map((r: any) => r.alert), [...ALERT_NAMES]);
    });
});
