import * as assert from "assert";
import { ConfigError, durationSeconds, parseFlatConfig, parseStackConfig } from "../lib/config";
import { readStackFile } from "../tools/plan";
import { STACKS } from "./helpers/plan";

/** A valid raw central config; each case below breaks one rule of it. */
function central(): any {
    return {
        role: "central",
        clusterName: "cluster-01",
        kubernetes: { context: "cluster-01" },
        images: {},
        central: {
            writers: [{ cluster: "cluster-01" }, { cluster: "cluster-02", tenants: ["a", "b"] }, { cluster: "cluster-03" }],
            objectStorage: { endpoint: "192.168.101.10:9000", cidr: "192.168.101.0/24" },
            receive: { hostname: "receive.example.internal", loadBalancerIP: "192.168.101.60" },
            monitoring: {
                grafana: { hostname: "grafana.example.internal" },
                alerting: { receivers: [{ name: "platform", webhookUrlSecret: "alertWebhookPlatform" }], webhookCidrs: ["192.168.102.0/24"] },
            },
            logs: { hostname: "logs.example.internal", loadBalancerIP: "192.168.101.61", dashboards: { hostname: "logs-ui.example.internal" } },
        },
    };
}

function edge(): any {
    return {
        role: "edge",
        clusterName: "cluster-02",
        kubernetes: { context: "cluster-02" },
        images: {},
        edge: {
            tenants: [
                { name: "a", nodes: ["n1", "n2"], namespaces: ["tenant-a"] },
                { name: "b", nodes: ["n3", "n4"], namespaces: ["tenant-b"] },
            ],
        },
    };
}

function errorOf(raw: unknown): ConfigError {
    try {
        parseStackConfig("test-stack", raw);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return e;
    }
    assert.fail("expected the config to be rejected");
}

type Case = [string, () => any, string, RegExp];

// Each rule of the schema: [what, broken config, key path the error must name, message pattern].
const cases: Case[] = [
    ["unknown role", () => ({ ...central(), role: "hub" }), "agent-receiver:role", /central or edge/],
    ["unknown top-level key", () => ({ ...central(), extra: 1 }), "agent-receiver:extra", /unknown key/],
    ["unknown nested key", () => { const c = central(); c.central.receive.replica = 3; return c; }, "agent-receiver:central.receive.replica", /unknown key/],
    ["missing kube context", () => { const c = central(); c.kubernetes = {}; return c; }, "agent-receiver:kubernetes.context", /./],
    ["bad cluster name", () => ({ ...central(), clusterName: "Cluster_01" }), "agent-receiver:clusterName", /RFC 1123/],
    ["central section missing", () => { const c = central(); delete c.central; return c; }, "agent-receiver:central", /required when role is central/],
    ["edge section on central", () => ({ ...central(), edge: {} }), "agent-receiver:edge", /must not be set/],
    ["edge section missing", () => { const e = edge(); delete e.edge; return e; }, "agent-receiver:edge", /required when role is edge/],
    ["RF larger than replicas", () => { const c = central(); c.central.receive.replicas = 1; c.central.receive.replicationFactor = 3; return c; }, "agent-receiver:central.receive.replicationFactor", /must not exceed receive.replicas/],
    ["even RF", () => { const c = central(); c.central.receive.replicas = 4; c.central.receive.replicationFactor = 2; return c; }, "agent-receiver:central.receive.replicationFactor", /must be odd/],
    ["zero replicas", () => { const c = central(); c.central.receive.replicas = 0; return c; }, "agent-receiver:central.receive.replicas", /./],
    ["malformed MinIO endpoint (scheme)", () => { const c = central(); c.central.objectStorage.endpoint = "https://minio:9000"; return c; }, "agent-receiver:central.objectStorage.endpoint", /host:port/],
    ["MinIO port out of range", () => { const c = central(); c.central.objectStorage.endpoint = "minio.local:70000"; return c; }, "agent-receiver:central.objectStorage.endpoint", /port/],
    ["malformed CIDR", () => { const c = central(); c.central.objectStorage.cidr = "192.168.101.0/33"; return c; }, "agent-receiver:central.objectStorage.cidr", /prefix/],
    ["malformed hostname", () => { const c = central(); c.central.receive.hostname = "https://receive"; return c; }, "agent-receiver:central.receive.hostname", /DNS name/],
    ["bad duration", () => { const c = central(); c.central.receive.localRetention = "2 days"; return c; }, "agent-receiver:central.receive.localRetention", /duration/],
    ["negative retention", () => { const c = central(); c.central.compactor = { retention: { raw: "-5d" } }; return c; }, "agent-receiver:central.compactor.retention.raw", /duration/],
    ["raw retention before 5m downsampling", () => { const c = central(); c.central.compactor = { retention: { raw: "1d" } }; return c; }, "agent-receiver:central.compactor.retention.raw", /longer than 40h/],
    ["5m retention shorter than raw", () => { const c = central(); c.central.compactor = { retention: { raw: "60d", fiveMinutes: "30d" } }; return c; }, "agent-receiver:central.compactor.retention.fiveMinutes", /not be shorter than raw/],
    ["1h retention shorter than 5m", () => { const c = central(); c.central.compactor = { retention: { oneHour: "60d" } }; return c; }, "agent-receiver:central.compactor.retention.oneHour", /not be shorter than fiveMinutes/],
    ["backstop expiry races the compactor", () => { const c = central(); c.central.objectStorage.lifecycle = { backstopExpiryDays: 370 }; return c; }, "agent-receiver:central.objectStorage.lifecycle.backstopExpiryDays", /beyond the longest retention/],
    ["local retention below one block", () => { const c = central(); c.central.receive.localRetention = "1h"; return c; }, "agent-receiver:central.receive.localRetention", /at least 2h/],
    ["limits for an unknown writer", () => { const c = central(); c.central.receive.limits = { tenants: { "cluster-09": { uniqueHeadSeries: 1 } } }; return c; }, "agent-receiver:central.receive.limits.tenants.cluster-09", /unknown writer/],
    ["writer listed twice", () => { const c = central(); c.central.writers.push({ cluster: "cluster-03" }); return c; }, "agent-receiver:central.writers[3]", /listed twice/],
    ["central cluster not a writer", () => { const c = central(); c.central.writers.shift(); return c; }, "agent-receiver:central.writers", /must include the central cluster/],
    ["heartbeat without the self-monitoring check", () => { const c = central(); c.central.monitoring.alerting.heartbeat = { webhookUrlSecret: "alertWebhookHeartbeat" }; return c; }, "agent-receiver:central.monitoring.alerting.heartbeat.selfMonitoringWebhookUrlSecret", /is required with a heartbeat: .*SelfMonitoringWatchdog.*pulumi config set --secret/],
    ["both watchdogs on one heartbeat check", () => { const c = central(); c.central.monitoring.alerting.heartbeat = { webhookUrlSecret: "alertWebhookHeartbeat", selfMonitoringWebhookUrlSecret: "alertWebhookHeartbeat" }; return c; }, "agent-receiver:central.monitoring.alerting.heartbeat.selfMonitoringWebhookUrlSecret", /must differ from heartbeat.webhookUrlSecret/],
    ["the former headSeries key (it counted every replica)", () => { const c = central(); c.central.receive.limits = { default: { headSeries: 2000000 } }; return c; }, "agent-receiver:central.receive.limits.default.headSeries", /^is no longer read: Receive's limiter sums the head series of every receiver, so this limit counted each series 3 times \(replicationFactor 3\)\. Set uniqueHeadSeries instead, in series as the writer sends them: uniqueHeadSeries = headSeries \/ replicationFactor \(2000000 \/ 3 = 666666 keeps the limit it enforced\); the program multiplies it back$/],
    ["the former headSeries key, per tenant", () => { const c = central(); c.central.receive.limits = { tenants: { "cluster-03": { headSeries: 900 } } }; return c; }, "agent-receiver:central.receive.limits.tenants.cluster-03.headSeries", /\(900 \/ 3 = 300 keeps/],
    ["negative request limit", () => { const c = central(); c.central.receive.limits = { default: { requestSeries: -1 } }; return c; }, "agent-receiver:central.receive.limits.default.requestSeries", /./],
    ["bad memory quantity", () => { const c = central(); c.central.receive.resources = { requests: { memory: "4 GB" } }; return c; }, "agent-receiver:central.receive.resources.requests.memory", /memory quantity/],
    ["node in two tenants", () => { const e = edge(); e.edge.tenants[1].nodes.push("n1"); return e; }, "agent-receiver:edge.tenants[1].nodes[2]", /already belongs to tenant "a"/],
    ["tenant without nodes", () => { const e = edge(); e.edge.tenants[0].nodes = []; return e; }, "agent-receiver:edge.tenants[0].nodes", /at least one node/],
    ["tenant listed twice", () => { const e = edge(); e.edge.tenants[1].name = "a"; return e; }, "agent-receiver:edge.tenants[1].name", /listed twice/],
    ["namespace in two tenants", () => { const e = edge(); e.edge.tenants[1].namespaces = ["tenant-a"]; return e; }, "agent-receiver:edge.tenants[1].namespaces[0]", /already belongs/],
    ["tenant takes the platform namespace", () => { const e = edge(); e.edge.tenants[0].namespaces = ["monitoring"]; return e; }, "agent-receiver:edge.tenants[0].namespaces[0]", /platform's own namespace/],
    ["bad taint effect", () => { const e = edge(); e.edge.tenantTaintEffect = "NoRun"; return e; }, "agent-receiver:edge.tenantTaintEffect", /./],
    ["malformed central stack name", () => { const e = edge(); e.edge.centralStack = "cluster-01"; return e; }, "agent-receiver:edge.centralStack", /organization/],
    ["minShards above maxShards", () => { const e = edge(); e.edge.agent = { remoteWrite: { minShards: 20, maxShards: 10 } }; return e; }, "agent-receiver:edge.agent.remoteWrite.minShards", /maxShards/],
    ["capacity below samples per send", () => { const e = edge(); e.edge.agent = { remoteWrite: { capacity: 500, maxSamplesPerSend: 2000 } }; return e; }, "agent-receiver:edge.agent.remoteWrite.capacity", /maxSamplesPerSend/],
    ["min backoff above max backoff", () => { const e = edge(); e.edge.agent = { remoteWrite: { minBackoff: "10s", maxBackoff: "5s" } }; return e; }, "agent-receiver:edge.agent.remoteWrite.minBackoff", /maxBackoff/],
    ["sample age limit shorter than the promised outage", () => { const e = edge(); e.edge.agent = { remoteWrite: { sampleAgeLimit: "1h" } }; return e; }, "agent-receiver:edge.agent.remoteWrite.sampleAgeLimit", /survivableOutage/],
    ["WAL retention shorter than sample age limit", () => { const e = edge(); e.edge.agent = { walRetention: "2h" }; return e; }, "agent-receiver:edge.agent.walRetention", /sampleAgeLimit/],
    ["bad extra drop metric", () => { const e = edge(); e.edge.agent = { extraDropMetrics: ["not a metric"] }; return e; }, "agent-receiver:edge.agent.extraDropMetrics[0]", /metric name/],
    ["no alert receiver", () => { const c = central(); c.central.monitoring.alerting.receivers = []; return c; }, "agent-receiver:central.monitoring.alerting.receivers", /at least one receiver/],
    ["webhook secret key not alertWebhook<Name>", () => { const c = central(); c.central.monitoring.alerting.receivers[0].webhookUrlSecret = "slackUrl"; return c; }, "agent-receiver:central.monitoring.alerting.receivers[0].webhookUrlSecret", /alertWebhook<Name>/],
    ["route to an unknown receiver", () => { const c = central(); c.central.monitoring.alerting.routes = [{ receiver: "pager" }]; return c; }, "agent-receiver:central.monitoring.alerting.routes[0].receiver", /unknown receiver "pager"/],
    ["route for an unknown writer", () => { const c = central(); c.central.monitoring.alerting.routes = [{ receiver: "platform", tenants: ["cluster-09"] }]; return c; }, "agent-receiver:central.monitoring.alerting.routes[0].tenants", /unknown writer "cluster-09"/],
    ["default receiver unknown", () => { const c = central(); c.central.monitoring.alerting.defaultReceiver = "nobody"; return c; }, "agent-receiver:central.monitoring.alerting.defaultReceiver", /unknown receiver/],
    ["Grafana hostname missing", () => { const c = central(); delete c.central.monitoring.grafana.hostname; return c; }, "agent-receiver:central.monitoring.grafana.hostname", /./],
    ["logs hostname malformed", () => { const c = central(); c.central.logs.hostname = "Logs_Host"; return c; }, "agent-receiver:central.logs.hostname", /DNS name/],
    ["cache hit ratio above 1", () => { const c = central(); c.central.monitoring.thresholds = { cacheHitRatioMin: 2 }; return c; }, "agent-receiver:central.monitoring.thresholds.cacheHitRatioMin", /./],
    ["Dashboards on Grafana's host name", () => { const c = central(); c.central.logs.dashboards.hostname = c.central.monitoring.grafana.hostname; return c; }, "agent-receiver:central.logs.dashboards.hostname", /must differ from central\.monitoring\.grafana\.hostname/],
    ["OpenSearch disk threshold above 1", () => { const c = central(); c.central.monitoring.thresholds = { logDiskFreeRatioMin: 20 }; return c; }, "agent-receiver:central.monitoring.thresholds.logDiskFreeRatioMin", /./],
];

describe("stack config schema", () => {
    for (const [what, make, key, pattern] of cases) {
        it(`rejects ${what}, naming ${key}`, () => {
            const err = errorOf(make());
            assert.match(err.message, /stack "test-stack"/);
            const hit = err.problems.find((p) => p.path === key);
            assert.ok(hit, `no problem at ${key}; got:\n${err.message}`);
            assert.match(hit.message, pattern);
        });
    }

    it("reports every bad key at once", () => {
        const c = central();
        c.role = "hub";
        c.central.receive.replicationFactor = 2;
        c.central.objectStorage.endpoint = "nope";
        const err = errorOf(c);
        const paths = err.problems.map((p) => p.path);
        assert.ok(paths.includes("agent-receiver:role"));
        assert.ok(paths.includes("agent-receiver:central.objectStorage.endpoint"));
    });

    it("fills documented defaults", () => {
        const cfg = parseStackConfig("s", central());
        assert.strictEqual(cfg.central!.receive.replicas, 3);
        assert.strictEqual(cfg.central!.receive.replicationFactor, 3);
        assert.strictEqual(cfg.central!.receive.terminationGracePeriodSeconds, 900);
        assert.deepStrictEqual(cfg.central!.compactor.retention, { raw: "30d", fiveMinutes: "90d", oneHour: "365d" });
        assert.strictEqual(cfg.kubernetes.storageClass, "local-path");
        const e = parseStackConfig("s", edge());
        assert.strictEqual(e.edge!.centralStack, "organization/agent-receiver/cluster-01");
        assert.strictEqual(e.edge!.agent.remoteWrite.retryOnHttp429, true);
    });

    it("parses durations", () => {
        assert.strictEqual(durationSeconds("1h30m"), 5400);
        assert.strictEqual(durationSeconds("90d"), 90 * 86400);
    });
});

describe("stack config: secrets", () => {
    const flat = (extra: Record<string, string> = {}) => {
        const c = central();
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(c)) out[`agent-receiver:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
        return { ...out, ...extra };
    };

    it("requires the MinIO password on the central stack, naming the command", () => {
        assert.throws(() => parseFlatConfig("cluster-01", flat(), () => true), /agent-receiver:minioPassword: is required: pulumi config set --secret agent-receiver:minioPassword --stack cluster-01/);
    });

    it("rejects a secret stored in plaintext", () => {
        assert.throws(
            () => parseFlatConfig("cluster-01", flat({ "agent-receiver:minioPassword": "x" }), () => false),
            /agent-receiver:minioPassword: is stored in plaintext/,
        );
    });

    it("requires each alert receiver's webhook URL as a secret, naming the key and the command", () => {
        assert.throws(
            () => parseFlatConfig("cluster-01", flat({ "agent-receiver:minioPassword": "x" }), () => true),
            /agent-receiver:alertWebhookPlatform: is required: pulumi config set --secret agent-receiver:alertWebhookPlatform --stack cluster-01/,
        );
        assert.throws(
            () => parseFlatConfig("cluster-01", flat({ "agent-receiver:minioPassword": "x", "agent-receiver:alertWebhookPlatform": "https://x" }), (k) => !k.endsWith("alertWebhookPlatform")),
            /agent-receiver:alertWebhookPlatform: is stored in plaintext/,
        );
    });

    it("accepts it when set as a secret, and ignores other namespaces", () => {
        const cfg = parseFlatConfig("cluster-01", flat({ "agent-receiver:minioPassword": "x", "agent-receiver:alertWebhookPlatform": "https://hooks.example/x", "kubernetes:context": "y" }), () => true);
        assert.strictEqual(cfg.role, "central");
    });

    for (const stack of STACKS) {
        it(`${stack}: the committed stack file is valid and holds no secret value`, () => {
            const file = readStackFile(stack);
            const cfg = parseFlatConfig(stack, file.flat, (k) => file.secretKeys.includes(k));
            assert.strictEqual(cfg.clusterName, stack);
            for (const key of file.secretKeys) {
                assert.strictEqual(file.flat[key], "PLACEHOLDER-set-with-pulumi-config-set-secret", `${key} has a committed value`);
            }
        });
    }
});
