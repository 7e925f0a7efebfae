import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { DEBIAN_2_42_INCOMPATIBLE, INFRA_JOBS, compatAgentConfig, infraKeepLists } from "../lib/agentConfig";
import { usedMetrics } from "../lib/usedMetrics";
import { EDGE_STACKS, all, container, flag, manifest, one, planStack, tmpDir, tool, yaml } from "./helpers/plan";

const EDGES = EDGE_STACKS;

/** Every agent config a stack generates, by writer id. */
async function agentConfigs(stack: string): Promise<Record<string, string>> {
    return (await planStack(stack)).outputs.agentConfigs as Record<string, string>;
}

/** Point the files a config names at local dummies, as promtool checks that they exist. */
function localise(config: any, dir: string): any {
    const text = JSON.stringify(config)
        .replaceAll("/etc/prometheus/remote-write/", `${dir}/`)
        .replaceAll("/var/run/secrets/kubernetes.io/serviceaccount/", `${dir}/sa-`);
    for (const f of ["ca.crt", "tls.crt", "tls.key", "sa-token", "sa-ca.crt"]) fs.writeFileSync(path.join(dir, f), "x");
    return JSON.parse(text);
}

describe("PrometheusAgent: generated configuration", () => {
    for (const stack of EDGES) {
        it(`${stack}: every agent config passes the real promtool check config --agent`, async () => {
            const promtool = tool("promtool");
            const dir = tmpDir("agent-");
            for (const [writer, text] of Object.entries(await agentConfigs(stack))) {
                const file = path.join(dir, `${writer}.yml`);
                fs.writeFileSync(file, stringify(compatAgentConfig(localise(yaml(text), dir), dir)));
                const out = execFileSync(promtool, ["check", "config", "--agent", file], { encoding: "utf8" });
                assert.match(out, /SUCCESS/);
            }
            fs.rmSync(dir, { recursive: true, force: true });
        });
    }

    it("the compatibility rendering strips exactly the listed keys", async () => {
        const cfg = yaml((await agentConfigs("cluster-03"))["cluster-03"]);
        const compat: any = compatAgentConfig(cfg, "/x");
        assert.strictEqual(cfg.remote_write[0].queue_config.sample_age_limit, "3h");
        assert.strictEqual(compat.remote_write[0].queue_config.sample_age_limit, undefined);
        const rest = { ...compat.remote_write[0].queue_config };
        const orig = { ...cfg.remote_write[0].queue_config };
        delete orig.sample_age_limit;
        assert.deepStrictEqual(rest, orig);
        assert.ok(compat.scrape_configs.every((s: any) => s.kubernetes_sd_configs === undefined));
        assert.strictEqual(DEBIAN_2_42_INCOMPATIBLE.length, 2);
    });

    it("labels every series with the cluster and never sets a tenant label itself", async () => {
        for (const stack of EDGES) {
            for (const text of Object.values(await agentConfigs(stack))) {
                const cfg = yaml(text);
                assert.deepStrictEqual(cfg.global.external_labels, { cluster: stack });
                assert.deepStrictEqual(cfg.remote_write[0].write_relabel_configs, [{ action: "labeldrop", regex: "tenant_id" }]);
            }
        }
    });

    it("remote-writes to the central Receive read through the stack reference, with mTLS, the seed's tuning and fixed shards", async () => {
        const central = await planStack("cluster-01");
        const cfg = yaml((await agentConfigs("cluster-03"))["cluster-03"]);
        const rw = cfg.remote_write[0];
        assert.strictEqual(rw.url, central.outputs.receiveRemoteWriteUrl);
        assert.deepStrictEqual(rw.tls_config, {
            ca_file: "/etc/prometheus/remote-write/ca.crt",
            cert_file: "/etc/prometheus/remote-write/tls.crt",
            key_file: "/etc/prometheus/remote-write/tls.key",
        });
        assert.deepStrictEqual(rw.queue_config, {
            // Fixed shards (min = max: no resharding can drop a batch), 9 for cluster-03's 54000 expected series.
            capacity: 10000, min_shards: 9, max_shards: 9, max_samples_per_send: 2000, batch_send_deadline: "5s",
            min_backoff: "30ms", max_backoff: "5s", retry_on_http_429: true, sample_age_limit: "3h",
        });
        // Thanos Receive ignores metadata (pkg/receive/handler.go at v0.42.4): none is sent.
        assert.deepStrictEqual(rw.metadata_config, { send: false });
    });

    it("keeps only the used metrics of each infrastructure job at scrape time, and leaves the tenants' pods alone", async () => {
        const cfg = yaml((await agentConfigs("cluster-03"))["cluster-03"]);
        const job = (name: string) => cfg.scrape_configs.find((s: any) => s.job_name === name);
        const keep = infraKeepLists(usedMetrics().keys());
        for (const j of INFRA_JOBS) {
            assert.deepStrictEqual(job(j).metric_relabel_configs[0], { source_labels: ["__name__"], regex: `(${keep[j].join("|")})`, action: "keep" }, j);
        }
        assert.ok(keep["node-exporter"].includes("node_cpu_seconds_total") && keep.cadvisor.includes("container_cpu_usage_seconds_total"));
        assert.ok(!keep.cadvisor.includes("container_tasks_state") && !keep["kube-state-metrics"].includes("kube_secret_info"));
        assert.deepStrictEqual(job("pods").metric_relabel_configs, []);
    });

    it("runs in agent mode with its WAL on a volume, sized from its expected series, and stops within its grace", async () => {
        const sts = one(await planStack("cluster-03"), "kubernetes:apps/v1:StatefulSet", "-agent-statefulset");
        const c = container(sts);
        assert.match(c.image, /^quay\.io\/prometheus\/prometheus:v3\./);
        assert.strictEqual(flag(c.args, "agent"), "");
        assert.strictEqual(flag(c.args, "storage.agent.path"), "/prometheus");
        assert.strictEqual(flag(c.args, "storage.agent.retention.max-time"), "4h");
        // With fixed shards the deadline only bounds a stop, which waits it twice at most (shards, then a metadata
        // send): the grace is 2 × 60 s + 60 s, so the agent exits by itself.
        assert.strictEqual(flag(c.args, "storage.remote.flush-deadline"), "1m");
        assert.deepStrictEqual(c.resources, { requests: { cpu: "100m", memory: "352Mi" }, limits: { memory: "432Mi" } });
        const m = manifest(sts);
        assert.strictEqual(m.spec.template.spec.terminationGracePeriodSeconds, 180);
        assert.strictEqual(m.spec.volumeClaimTemplates[0].metadata.name, "wal");
        assert.ok(c.volumeMounts.some((v: any) => v.name === "wal" && v.mountPath === "/prometheus"));
    });

    for (const stack of EDGES) {
        it(`${stack}: a config change is reloaded in place, not rolled out (a restart drops the unsent backlog)`, async () => {
            const plan = await planStack(stack);
            for (const sts of all(plan, "kubernetes:apps/v1:StatefulSet").filter((r) => r.name.includes("-agent"))) {
                const m = manifest(sts);
                const agent = container(sts, "prometheus");
                const reloader = container(sts, "config-reloader");
                const config = flag(agent.args, "config.file")!;
                assert.strictEqual(flag(agent.args, "web.enable-lifecycle"), "", "/-/reload must be enabled");
                // The ConfigMap is mounted as a directory: a subPath mount is never updated by the kubelet.
                const mount = agent.volumeMounts.find((v: any) => config.startsWith(`${v.mountPath}/`));
                assert.ok(mount && !mount.subPath, `${sts.name}: config must come from a directory mount`);
                const volume = m.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
                assert.ok(volume.configMap, "the config directory is the ConfigMap");
                // The sidecar watches the same file and posts to the agent's own port.
                assert.strictEqual(flag(reloader.args, "config-file"), config);
                assert.ok(reloader.volumeMounts.some((v: any) => v.name === mount.name && v.mountPath === mount.mountPath));
                assert.strictEqual(flag(reloader.args, "reload-url"), `http://127.0.0.1:${agent.ports[0].containerPort}/-/reload`);
                assert.match(reloader.image, /prometheus-config-reloader:v/);
                // Nothing on the pod template follows the config, so a config change does not restart the agent.
                assert.deepStrictEqual(m.spec.template.metadata.annotations, undefined, "no config hash on the pod template");
            }
        });
    }

    it("the lifecycle endpoints are reachable from inside the pod only: the agent admits no ingress", async () => {
        for (const stack of EDGES) {
            const plan = await planStack(stack);
            const policies = all(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map(manifest).filter((p) => p.spec.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "prometheus-agent");
            assert.ok(policies.length > 0, stack);
            for (const p of policies) assert.deepStrictEqual(p.spec.ingress, [], `${stack}/${p.metadata.name}`);
        }
    });
});

describe("Edge stack reference", () => {
    it("hands each agent its own writer's certificate, kept secret", async () => {
        const plan = await planStack("cluster-02");
        const secrets = all(plan, "kubernetes:core/v1:Secret").filter((s) => s.name.includes("-remote-write-tls"));
        assert.strictEqual(secrets.length, 2);
        const certs = secrets.map((s) => manifest(s).stringData["tls.crt"]);
        assert.match(certs[0], /writer-cluster-02-a-cert/);
        assert.match(certs[1], /writer-cluster-02-b-cert/);
        for (const s of secrets) assert.strictEqual(JSON.stringify(s.inputs).includes("MOCKSECRET"), false, "key material must stay wrapped as secret");
    });
});
