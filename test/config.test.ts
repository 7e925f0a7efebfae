import * as assert from "assert";
import { ConfigError, durationSeconds, parseFlatConfig, parseStackConfig } from "../lib/config";
import { edgeWriterIds, outOfOrderWindowProblem, unregisteredWriterAdvice } from "../stacks/contract";
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
            edgeSourceRanges: ["192.168.103.0/24"],
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

/** A message: a pattern, or (a string) the exact text. */
type Message = RegExp | string;
type Case = [string, () => any, string, Message];

function assertMessage(actual: string, expected: Message): void {
    if (typeof expected === "string") assert.strictEqual(actual, expected);
    else assert.match(actual, expected);
}

// Each rule of the schema: [what, broken config, key path the error must name, message pattern or exact text].
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
    ["IPv4 octet over 255 in the MinIO endpoint", () => { const c = central(); c.central.objectStorage.endpoint = "192.168.101.300:9000"; return c; }, "agent-receiver:central.objectStorage.endpoint", "must have IPv4 octets of 0-255 (192.168.101.300)"],
    ["IPv4 octet over 255 in a CIDR", () => { const c = central(); c.central.objectStorage.cidr = "192.168.256.0/24"; return c; }, "agent-receiver:central.objectStorage.cidr", "must have IPv4 octets of 0-255 (192.168.256.0/24)"],
    ["IPv4 octet over 255 in a LoadBalancer IP", () => { const c = central(); c.central.receive.loadBalancerIP = "192.168.101.999"; return c; }, "agent-receiver:central.receive.loadBalancerIP", "must have IPv4 octets of 0-255 (192.168.101.999)"],
    ["IPv4 octet over 255 in the Grafana gateway IP", () => { const c = central(); c.central.monitoring.grafana.loadBalancerIP = "300.1.1.1"; return c; }, "agent-receiver:central.monitoring.grafana.loadBalancerIP", "must have IPv4 octets of 0-255 (300.1.1.1)"],
    ["IPv4 octet over 255 in an edge source range", () => { const c = central(); c.central.edgeSourceRanges = ["192.168.103.0/24", "10.300.0.0/16"]; return c; }, "agent-receiver:central.edgeSourceRanges[1]", "must have IPv4 octets of 0-255 (10.300.0.0/16)"],
    ["MinIO address outside the MinIO CIDR", () => { const c = central(); c.central.objectStorage.endpoint = "192.168.102.10:9000"; return c; }, "agent-receiver:central.objectStorage.endpoint", "(192.168.102.10) is outside central.objectStorage.cidr (192.168.101.0/24): Receive, Store and Compactor may reach MinIO only within that CIDR"],
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
    // Namespaces: each owned by one component or tenant, none of them Kubernetes' own.
    ["namespace in two tenants", () => { const e = edge(); e.edge.tenants[1].namespaces = ["tenant-a"]; return e; }, "agent-receiver:edge.tenants[1].namespaces[0]", 'namespace "tenant-a" is already the namespace of tenant "a" (edge.tenants[0].namespaces[0]); choose another for tenant "b"'],
    ["tenant takes the platform namespace", () => { const e = edge(); e.edge.tenants[0].namespaces = ["monitoring"]; return e; }, "agent-receiver:edge.tenants[0].namespaces[0]", 'namespace "monitoring" is already the namespace of the agents and kube-state-metrics (edge.namespace); choose another for tenant "a"'],
    ["tenant takes node-exporter's namespace", () => { const e = edge(); e.edge.tenants[0].namespaces.push("monitoring-node"); return e; }, "agent-receiver:edge.tenants[0].namespaces[1]", 'namespace "monitoring-node" is already the namespace of node-exporter (<edge.namespace>-node); choose another for tenant "a"'],
    ["tenant takes Fluent Bit's namespace", () => { const e = edge(); e.edge.tenants[1].namespaces = ["logging-node"]; return e; }, "agent-receiver:edge.tenants[1].namespaces[0]", 'namespace "logging-node" is already the namespace of Fluent Bit; choose another for tenant "b"'],
    ["tenant given kube-system", () => { const e = edge(); e.edge.tenants[0].namespaces = ["kube-system"]; return e; }, "agent-receiver:edge.tenants[0].namespaces[0]", 'namespace "kube-system" belongs to Kubernetes: the platform locks down every namespace it is given (Pod Security, default-deny NetworkPolicies); choose another for tenant "a"'],
    ["tenant given default", () => { const e = edge(); e.edge.tenants[1].namespaces = ["tenant-b", "default"]; return e; }, "agent-receiver:edge.tenants[1].namespaces[1]", 'namespace "default" belongs to Kubernetes: the platform locks down every namespace it is given (Pod Security, default-deny NetworkPolicies); choose another for tenant "b"'],
    ["edge agents given kube-public", () => { const e = edge(); e.edge.namespace = "kube-public"; return e; }, "agent-receiver:edge.namespace", 'namespace "kube-public" belongs to Kubernetes: the platform locks down every namespace it is given (Pod Security, default-deny NetworkPolicies); choose another for the agents and kube-state-metrics'],
    ["edge agents in Fluent Bit's namespace", () => { const e = edge(); e.edge.namespace = "logging-node"; return e; }, "agent-receiver:edge.namespace", 'namespace "logging-node" is already the namespace of Fluent Bit; choose another for the agents and kube-state-metrics'],
    ["edge namespace whose node-exporter namespace is Fluent Bit's", () => { const e = edge(); e.edge.namespace = "logging"; return e; }, "agent-receiver:edge.namespace", 'namespace "logging-node" (<edge.namespace>-node) is already the namespace of Fluent Bit; choose another for node-exporter'],
    ["Thanos given kube-node-lease", () => { const c = central(); c.central.namespace = "kube-node-lease"; return c; }, "agent-receiver:central.namespace", 'namespace "kube-node-lease" belongs to Kubernetes: the platform locks down every namespace it is given (Pod Security, default-deny NetworkPolicies); choose another for the Thanos components'],
    ["Thanos in the central monitoring namespace", () => { const c = central(); c.central.namespace = "monitoring"; return c; }, "agent-receiver:central.namespace", 'namespace "monitoring" is already the namespace of the central Prometheus, Alertmanager and Grafana; choose another for the Thanos components'],
    ["OpenSearch and Thanos in one namespace", () => { const c = central(); c.central.logs.namespace = "thanos"; return c; }, "agent-receiver:central.logs.namespace", 'namespace "thanos" is already the namespace of the Thanos components (central.namespace); choose another for OpenSearch'],
    ["OpenSearch in Fluent Bit's namespace", () => { const c = central(); c.central.logs.namespace = "logging-node"; return c; }, "agent-receiver:central.logs.namespace", 'namespace "logging-node" is already the namespace of Fluent Bit; choose another for OpenSearch'],
    ["legacy tenant label without tenants", () => { const e = edge(); e.edge.tenants = []; e.edge.legacyTenantNodeLabel = true; return e; }, "agent-receiver:edge.legacyTenantNodeLabel", /only applies to a cluster with edge.tenants/],
    ["tenant team bound to a system group", () => { const e = edge(); e.edge.tenants[1].group = "system:authenticated"; return e; }, "agent-receiver:edge.tenants[1].group", /must not be a system: group/],
    ["two tenants with one team group", () => { const e = edge(); e.edge.tenants[1].group = "tenant-a"; return e; }, "agent-receiver:edge.tenants[1].group", /already tenant "a"'s/],
    ["bad taint effect", () => { const e = edge(); e.edge.tenantTaintEffect = "NoRun"; return e; }, "agent-receiver:edge.tenantTaintEffect", /./],
    ["malformed central stack name", () => { const e = edge(); e.edge.centralStack = "cluster-01"; return e; }, "agent-receiver:edge.centralStack", /organization/],
    ["minShards (resharding drops batches: fixed shards)", () => { const e = edge(); e.edge.agent = { remoteWrite: { minShards: 1 } }; return e; }, "agent-receiver:edge.agent.remoteWrite.minShards", /no longer read: the agent runs a fixed number of shards.*edge\.agent\.remoteWrite\.shards/],
    ["maxShards (resharding drops batches: fixed shards)", () => { const e = edge(); e.edge.agent = { remoteWrite: { maxShards: 10 } }; return e; }, "agent-receiver:edge.agent.remoteWrite.maxShards", /no longer read/],
    ["more shards than the agent's memory is sized for", () => { const e = edge(); e.edge.agent = { remoteWrite: { shards: 80 } }; return e; }, "agent-receiver:edge.agent.remoteWrite.shards", /at most 50/],
    ["a flush deadline over 10m", () => { const e = edge(); e.edge.agent = { remoteWrite: { flushDeadline: "2h" } }; return e; }, "agent-receiver:edge.agent.remoteWrite.flushDeadline", /between 1s and 10m: a stopping agent scrapes nothing/],
    ["expected series as a string", () => { const e = edge(); e.edge.agent = { expectedSeries: "54k" }; return e; }, "agent-receiver:edge.agent.expectedSeries", /number of active series/],
    ["zero expected series", () => { const e = edge(); e.edge.agent = { expectedSeries: 0 }; return e; }, "agent-receiver:edge.agent.expectedSeries", /at least 1/],
    ["a tenant's expected series beyond one agent", () => { const e = edge(); e.edge.tenants[1].expectedSeries = 9_000_000; return e; }, "agent-receiver:edge.tenants[1].expectedSeries", /at most 5000000/],
    ["an agent memory limit below its derived request", () => { const e = edge(); e.edge.agent = { expectedSeries: 200000, resources: { limits: { memory: "400Mi" } } }; return e; }, "agent-receiver:edge.agent.resources.limits.memory", /\(400Mi\) is below the memory request of prometheus-agent-a \(\d+Mi, set or derived from 200000 expected series\)/],
    ["a WAL size change on a deployed agent", () => { const e = edge(); e.edge.agent = { walSize: "20Gi" }; return e; }, "agent-receiver:edge.agent.walSize", /differs from walSizeDeployed \(10Gi\).*patch pvc wal-prometheus-agent-a-0 .*set walSizeDeployed to 20Gi/],
    ["expected series of an unknown writer", () => { const c = central(); c.central.expectedSeries = { writers: { "cluster-09": 1000 } }; return c; }, "agent-receiver:central.expectedSeries.writers.cluster-09", /unknown writer "cluster-09"/],
    ["zero expected series per writer", () => { const c = central(); c.central.expectedSeries = { default: 0 }; return c; }, "agent-receiver:central.expectedSeries.default", /at least 1/],
    ["a Receive memory limit below its derived request", () => { const c = central(); c.central.expectedSeries = { default: 500000 }; c.central.receive.resources = { limits: { memory: "4Gi" } }; return c; }, "agent-receiver:central.receive.resources.limits.memory", /\(4Gi\) is below the memory request \(\d+Mi, set or derived from \d+ expected series\)/],
    ["a Query memory limit below its set request", () => { const c = central(); c.central.query = { resources: { requests: { memory: "3Gi" }, limits: { memory: "2Gi" } } }; return c; }, "agent-receiver:central.query.resources.limits.memory", /\(2Gi\) is below the memory request \(3Gi/],
    ["capacity below samples per send", () => { const e = edge(); e.edge.agent = { remoteWrite: { capacity: 500, maxSamplesPerSend: 2000 } }; return e; }, "agent-receiver:edge.agent.remoteWrite.capacity", /maxSamplesPerSend/],
    ["min backoff above max backoff", () => { const e = edge(); e.edge.agent = { remoteWrite: { minBackoff: "10s", maxBackoff: "5s" } }; return e; }, "agent-receiver:edge.agent.remoteWrite.minBackoff", /maxBackoff/],
    ["sample age limit shorter than the promised outage", () => { const e = edge(); e.edge.agent = { remoteWrite: { sampleAgeLimit: "1h" } }; return e; }, "agent-receiver:edge.agent.remoteWrite.sampleAgeLimit", /survivableOutage/],
    ["WAL retention shorter than sample age limit", () => { const e = edge(); e.edge.agent = { walRetention: "2h" }; return e; }, "agent-receiver:edge.agent.walRetention", /sampleAgeLimit/],
    ["bad extra drop metric", () => { const e = edge(); e.edge.agent = { extraDropMetrics: ["not a metric"] }; return e; }, "agent-receiver:edge.agent.extraDropMetrics[0]", /metric name/],
    ["kept metric that is a recording rule's name", () => { const e = edge(); e.edge.agent = { keepMetrics: ["instance:node_cpu:ratio"] }; return e; }, "agent-receiver:edge.agent.keepMetrics[0]", /recording rule/],
    ["central kept metric that is a recording rule's name", () => { const c = central(); c.central.monitoring.prometheus = { keepMetrics: ["a:b"] }; return c; }, "agent-receiver:central.monitoring.prometheus.keepMetrics[0]", /recording rule/],
    ["kept metric that is also dropped", () => { const e = edge(); e.edge.agent = { keepMetrics: ["a", "node_load1"], extraDropMetrics: ["node_load1"] }; return e; }, "agent-receiver:edge.agent.keepMetrics[1]", '"node_load1" is also in edge.agent.extraDropMetrics, which wins: remove it from one of the two'],
    ["no alert receiver", () => { const c = central(); c.central.monitoring.alerting.receivers = []; return c; }, "agent-receiver:central.monitoring.alerting.receivers", /at least one receiver/],
    ["webhook secret key not alertWebhook<Name>", () => { const c = central(); c.central.monitoring.alerting.receivers[0].webhookUrlSecret = "slackUrl"; return c; }, "agent-receiver:central.monitoring.alerting.receivers[0].webhookUrlSecret", /alertWebhook<Name>/],
    ["route to an unknown receiver", () => { const c = central(); c.central.monitoring.alerting.routes = [{ receiver: "pager" }]; return c; }, "agent-receiver:central.monitoring.alerting.routes[0].receiver", /unknown receiver "pager"/],
    ["route for an unknown writer", () => { const c = central(); c.central.monitoring.alerting.routes = [{ receiver: "platform", tenants: ["cluster-09"] }]; return c; }, "agent-receiver:central.monitoring.alerting.routes[0].tenants", /unknown writer "cluster-09"/],
    ["default receiver unknown", () => { const c = central(); c.central.monitoring.alerting.defaultReceiver = "nobody"; return c; }, "agent-receiver:central.monitoring.alerting.defaultReceiver", /unknown receiver/],
    ["Grafana hostname missing", () => { const c = central(); delete c.central.monitoring.grafana.hostname; return c; }, "agent-receiver:central.monitoring.grafana.hostname", /./],
    ["logs hostname malformed", () => { const c = central(); c.central.logs.hostname = "Logs_Host"; return c; }, "agent-receiver:central.logs.hostname", /DNS name/],
    ["cache hit ratio above 1", () => { const c = central(); c.central.monitoring.thresholds = { cacheHitRatioMin: 2 }; return c; }, "agent-receiver:central.monitoring.thresholds.cacheHitRatioMin", /./],
    ["Dashboards on Grafana's host name", () => { const c = central(); c.central.logs.dashboards.hostname = c.central.monitoring.grafana.hostname; return c; }, "agent-receiver:central.logs.dashboards.hostname", /must differ from central\.monitoring\.grafana\.hostname/],
    // Values as `pulumi config set --path` stores them: a bare number is a JSON number.
    ["a duration as a bare number (no unit)", () => { const e = edge(); e.edge.survivableOutage = 2; return e; }, "agent-receiver:edge.survivableOutage", "must be a duration with a unit, such as 2s, 2m or 2h (2 has none)"],
    ["a memory quantity as a bare number (bytes)", () => { const e = edge(); e.edge.tenants[0].quota = { memory: 32 }; return e; }, "agent-receiver:edge.tenants[0].quota.memory", "must be a memory quantity with a unit, such as 32Mi or 32Gi (a bare 32 would be bytes)"],
    ["a storage size as a bare number (bytes)", () => { const c = central(); c.central.receive.storageSize = 50; return c; }, "agent-receiver:central.receive.storageSize", "must be a memory quantity with a unit, such as 50Mi or 50Gi (a bare 50 would be bytes)"],
    ["a negative CPU number", () => { const e = edge(); e.edge.tenants[0].quota = { cpu: -2 }; return e; }, "agent-receiver:edge.tenants[0].quota.cpu", "must be a CPU quantity such as 250m or 2"],
    ["an OpenSearch heap the JVM cannot take", () => { const c = central(); c.central.logs.heapSize = "2.5Gi"; return c; }, "agent-receiver:central.logs.heapSize", "must be a whole number of Mi or Gi, such as 2Gi or 1536Mi: the JVM's -Xmx takes m or g"],
    ["an OpenSearch heap as a bare number", () => { const c = central(); c.central.logs.heapSize = 2; return c; }, "agent-receiver:central.logs.heapSize", "must be a heap size with a unit, such as 2Mi or 2Gi (a bare 2 would be bytes)"],
    // Replica counts beyond the schema's stated maxima.
    ["Receive replicas beyond 20", () => { const c = central(); c.central.receive.replicas = 21; return c; }, "agent-receiver:central.receive.replicas", "must be at most 20: the hashring's members restart one at a time on a rollout, each flushing its head (up to terminationGracePeriodSeconds)"],
    ["Query replicas beyond 10", () => { const c = central(); c.central.query = { replicas: 11 }; return c; }, "agent-receiver:central.query.replicas", "must be at most 10: Query is stateless; replicas add availability, not speed"],
    ["Query Frontend replicas beyond 10", () => { const c = central(); c.central.queryFrontend = { replicas: 11 }; return c; }, "agent-receiver:central.queryFrontend.replicas", "must be at most 10: the frontend is stateless and shares its results cache; replicas add availability, not speed"],
    ["memcached replicas beyond 10", () => { const c = central(); c.central.memcached = { replicas: 12 }; return c; }, "agent-receiver:central.memcached.replicas", "must be at most 10: the results cache is sharded over the replicas; grow memoryMiB before adding shards"],
    ["Store Gateway replicas beyond 5", () => { const c = central(); c.central.storeGateway = { replicas: 6 }; return c; }, "agent-receiver:central.storeGateway.replicas", "must be at most 5: every replica serves every block (no sharding is configured); replicas add copies, not capacity"],
    ["Prometheus replicas beyond 3", () => { const c = central(); c.central.monitoring.prometheus = { replicas: 4 }; return c; }, "agent-receiver:central.monitoring.prometheus.replicas", "must be at most 3: every replica scrapes every target and writes every series to Receive once more; the HA pair needs 2"],
    ["Alertmanager replicas beyond 5", () => { const c = central(); c.central.monitoring.alertmanager = { replicas: 6 }; return c; }, "agent-receiver:central.monitoring.alertmanager.replicas", "must be at most 5: the members gossip to deduplicate notifications; more add traffic, not capacity"],
    ["Ruler replicas beyond 3", () => { const c = central(); c.central.monitoring.ruler = { replicas: 4 }; return c; }, "agent-receiver:central.monitoring.ruler.replicas", "must be at most 3: every replica evaluates every rule against Query; Alertmanager deduplicates their alerts"],
    ["OpenSearch replicas beyond 7", () => { const c = central(); c.central.logs.replicas = 9; return c; }, "agent-receiver:central.logs.replicas", "must be at most 7: every node is cluster-manager-eligible and holds data; a larger cluster needs dedicated manager nodes, which this program does not deploy"],
    ["OpenSearch disk threshold above 1", () => { const c = central(); c.central.monitoring.thresholds = { logDiskFreeRatioMin: 20 }; return c; }, "agent-receiver:central.monitoring.thresholds.logDiskFreeRatioMin", /./],
];

describe("stack config schema", () => {
    for (const [what, make, key, pattern] of cases) {
        it(`rejects ${what}, naming ${key}`, () => {
            const err = errorOf(make());
            assert.match(err.message, /stack "test-stack"/);
            const hit = err.problems.find((p) => p.path === key);
            assert.ok(hit, `no problem at ${key}; got:\n${err.message}`);
            assertMessage(hit.message, pattern);
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

    it("accepts a CPU quantity as a number (pulumi config set --path stores 8 as 8), normalised to the string the manifests carry", () => {
        const e = edge();
        e.edge.tenants[0].quota = { cpu: 8, pods: 100 };
        e.edge.agent = { resources: { requests: { cpu: 0.5 }, limits: { cpu: 2 } } };
        const cfg = parseStackConfig("s", e);
        assert.strictEqual(cfg.edge!.tenants[0].quota.cpu, "8");
        assert.strictEqual(cfg.edge!.tenants[0].quota.pods, 100);
        assert.deepStrictEqual(cfg.edge!.agent.resources.requests, { cpu: "0.5" });
        assert.strictEqual(cfg.edge!.agent.resources.limits.cpu, "2");
    });

    it("accepts a MinIO address inside its CIDR, at the CIDR's edges, and a MinIO DNS name (not checkable offline)", () => {
        for (const [endpoint, cidr] of [["10.0.0.1:9000", "10.0.0.0/8"], ["10.255.255.254:9000", "10.0.0.0/8"], ["192.168.101.10:9000", "192.168.101.10/32"], ["172.31.255.255:9000", "172.16.0.0/12"], ["minio.storage.internal:9000", "192.168.101.0/24"]]) {
            const c = central();
            c.central.objectStorage = { endpoint, cidr };
            assert.doesNotThrow(() => parseStackConfig("s", c), `${endpoint} in ${cidr}`);
        }
        const c = central();
        c.central.objectStorage = { endpoint: "11.0.0.1:9000", cidr: "10.0.0.0/8" };
        assert.throws(() => parseStackConfig("s", c), /outside central\.objectStorage\.cidr/);
    });

    it("accepts every replica count at its maximum", () => {
        const c = central();
        Object.assign(c.central, { query: { replicas: 10 }, queryFrontend: { replicas: 10 }, memcached: { replicas: 10 }, storeGateway: { replicas: 5 } });
        c.central.receive.replicas = 20;
        c.central.logs.replicas = 7;
        Object.assign(c.central.monitoring, { prometheus: { replicas: 3 }, alertmanager: { replicas: 5 }, ruler: { replicas: 3 } });
        assert.strictEqual(parseStackConfig("s", c).central!.receive.replicas, 20);
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

    it("cluster-02 with its quotas set as the CLI stores them (cpu 16 a number) is the same configuration, so the same plan", () => {
        const file = readStackFile("cluster-02");
        const edgeKey = "agent-receiver:edge";
        const asNumbers = JSON.parse(file.flat[edgeKey]);
        for (const t of asNumbers.tenants) t.quota.cpu = Number(t.quota.cpu);
        assert.strictEqual(typeof asNumbers.tenants[0].quota.cpu, "number");
        const secret = (k: string) => file.secretKeys.includes(k);
        assert.deepStrictEqual(
            parseFlatConfig("cluster-02", { ...file.flat, [edgeKey]: JSON.stringify(asNumbers) }, secret),
            parseFlatConfig("cluster-02", file.flat, secret),
        );
    });

    it("accepts an unused operator secret that was set with --secret (nothing in plaintext)", () => {
        const cfg = parseFlatConfig("cluster-01", flat({ "agent-receiver:minioPassword": "x", "agent-receiver:alertWebhookPlatform": "https://x", "agent-receiver:alertWebhookOld": "https://y", "agent-receiver:registryPassword": "z" }), () => true);
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

/** The flat map Pulumi passes for a raw config (objects as JSON), plus `extra`; the central's secrets are present. */
function flatOf(raw: any, extra: Record<string, string> = {}): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) out[`agent-receiver:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    if (raw.role === "central") Object.assign(out, { "agent-receiver:minioPassword": "x", "agent-receiver:alertWebhookPlatform": "https://x" });
    return { ...out, ...extra };
}

const CENTRAL_SECRETS = ["agent-receiver:minioPassword", "agent-receiver:alertWebhookPlatform"];

// The flat config map as the CLI writes it: [what, stack, flat map, keys set with --secret, key path, exact message].
type FlatCase = [string, string, () => Record<string, string>, string[], string, string];
const flatCases: FlatCase[] = [
    [
        "a dotted key set without --path (on a render-only stack, the only kind that may set this one)",
        "cluster-01-render",
        () => flatOf(central(), { "agent-receiver:kubernetes.renderYamlToDirectory": "out" }),
        CENTRAL_SECRETS,
        "agent-receiver:kubernetes.renderYamlToDirectory",
        'is one flat key named "kubernetes.renderYamlToDirectory", set without --path, so the program does not read it as a nested key. ' +
            "Set it again with --path: pulumi config rm agent-receiver:kubernetes.renderYamlToDirectory --stack cluster-01-render && " +
            "pulumi config set --path agent-receiver:kubernetes.renderYamlToDirectory out --stack cluster-01-render",
    ],
    [
        "a key with an array index set without --path (the shell needs it quoted)",
        "cluster-02",
        () => flatOf(edge(), { "agent-receiver:edge.tenants[0].quota.cpu": "8" }),
        [],
        "agent-receiver:edge.tenants[0].quota.cpu",
        'is one flat key named "edge.tenants[0].quota.cpu", set without --path, so the program does not read it as a nested key. ' +
            "Set it again with --path: pulumi config rm 'agent-receiver:edge.tenants[0].quota.cpu' --stack cluster-02 && " +
            "pulumi config set --path 'agent-receiver:edge.tenants[0].quota.cpu' 8 --stack cluster-02",
    ],
    [
        "a dotted secret key set without --path (its value is not printed)",
        "cluster-01",
        () => flatOf(central(), { "agent-receiver:images.pullSecret.password": "hunter2" }),
        [...CENTRAL_SECRETS, "agent-receiver:images.pullSecret.password"],
        "agent-receiver:images.pullSecret.password",
        'is one flat key named "images.pullSecret.password", set without --path, so the program does not read it as a nested key. ' +
            "Set it again with --path: pulumi config rm agent-receiver:images.pullSecret.password --stack cluster-01 && " +
            "pulumi config set --secret --path agent-receiver:images.pullSecret.password <value> --stack cluster-01",
    ],
    [
        "a namespace one transposition from the project's",
        "cluster-02",
        () => flatOf(edge(), { "agent-reciever:edge": JSON.stringify({ survivableOutage: "1h" }) }),
        [],
        "agent-reciever:edge",
        'the config namespace "agent-reciever" is not this project\'s: did you mean agent-receiver? The program would ignore this key. Rename it to agent-receiver:edge in Pulumi.cluster-02.yaml',
    ],
    [
        "a namespace with an underscore for the hyphen",
        "cluster-02",
        () => flatOf(edge(), { "agent_receiver:clusterName": "cluster-02" }),
        [],
        "agent_receiver:clusterName",
        'the config namespace "agent_receiver" is not this project\'s: did you mean agent-receiver? The program would ignore this key. Rename it to agent-receiver:clusterName in Pulumi.cluster-02.yaml',
    ],
    [
        "a namespace in capitals",
        "cluster-02",
        () => flatOf(edge(), { "Agent-Receiver:images": "{}" }),
        [],
        "Agent-Receiver:images",
        'the config namespace "Agent-Receiver" is not this project\'s: did you mean agent-receiver? The program would ignore this key. Rename it to agent-receiver:images in Pulumi.cluster-02.yaml',
    ],
    [
        "an alert webhook no receiver uses, in plaintext",
        "cluster-01",
        () => flatOf(central(), { "agent-receiver:alertWebhookFoo": "https://hooks.example/foo" }),
        CENTRAL_SECRETS,
        "agent-receiver:alertWebhookFoo",
        "is stored in plaintext and this stack does not use it (no receiver or heartbeat in agent-receiver:central.monitoring.alerting names it): " +
            "remove it: pulumi config rm agent-receiver:alertWebhookFoo --stack cluster-01",
    ],
    [
        "a registry password without a pull secret, in plaintext",
        "cluster-02",
        () => flatOf(edge(), { "agent-receiver:registryPassword": "hunter2" }),
        [],
        "agent-receiver:registryPassword",
        "is stored in plaintext and this stack does not use it (agent-receiver:images.pullSecret is not set): remove it: pulumi config rm agent-receiver:registryPassword --stack cluster-02",
    ],
    [
        "a MinIO password on an edge, in plaintext",
        "cluster-02",
        () => flatOf(edge(), { "agent-receiver:minioPassword": "hunter2" }),
        [],
        "agent-receiver:minioPassword",
        "is stored in plaintext and this stack does not use it (only the central stack logs in to MinIO): remove it: pulumi config rm agent-receiver:minioPassword --stack cluster-02",
    ],
];

describe("stack config: the flat map as the CLI writes it", () => {
    for (const [what, stack, make, secretKeys, key, message] of flatCases) {
        it(`rejects ${what}, naming ${key}`, () => {
            let err: unknown;
            try {
                parseFlatConfig(stack, make(), (k) => secretKeys.includes(k));
            } catch (e) {
                err = e;
            }
            assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
            const hit = err.problems.find((p) => p.path === key);
            assert.ok(hit, `no problem at ${key}; got:\n${err.message}`);
            assert.strictEqual(hit.message, message);
        });
    }

    it("keeps other providers' and the engine's namespaces (kubernetes, minio, pulumi, random, tls, aws, …) and far-off names", () => {
        const others = ["kubernetes:context", "kubernetes:renderYamlToDirectory", "minio:minioServer", "pulumi:tags", "random:x", "tls:x", "aws:region", "agent:x", "receiver:x", "agent-receiver-tools:x"];
        const extra = Object.fromEntries(others.map((k) => [k, "v"]));
        assert.strictEqual(parseFlatConfig("cluster-02", flatOf(edge(), extra), () => false).role, "edge");
    });

    it("reports the flat map's problems with the schema's, at once", () => {
        const f = flatOf(edge(), { "agent-receiver:edge.survivableOutage": "1h", "agent-reciever:role": "edge" });
        f["agent-receiver:clusterName"] = "Cluster_02";
        assert.throws(() => parseFlatConfig("cluster-02", f, () => false), (e: unknown) => {
            assert.ok(e instanceof ConfigError);
            assert.deepStrictEqual(e.problems.map((p) => p.path), ["agent-receiver:edge.survivableOutage", "agent-reciever:role", "agent-receiver:clusterName"]);
            return true;
        });
    });
});

// Across two stacks (checked by the edge against what the central stack exports, before any edge resource):
// [what, the central Receive's outOfOrderWindow, the edge's sampleAgeLimit, exact message or undefined when accepted].
const windowCases: [string, string, string, string | undefined][] = [
    [
        "a window shorter than the edge's sample age limit",
        "3h",
        "4h",
        'stack "cluster-02": agent-receiver:edge.agent.remoteWrite.sampleAgeLimit (4h) is longer than agent-receiver:central.receive.outOfOrderWindow (3h) ' +
            'of central stack "organization/agent-receiver/cluster-01": Receive would refuse the oldest samples of an outage\'s backlog. ' +
            'Raise central.receive.outOfOrderWindow to at least 4h in Pulumi.cluster-01.yaml and run pulumi up --stack cluster-01 first, or lower sampleAgeLimit on stack "cluster-02".',
    ],
    [
        "a window in other units, shorter",
        "150m",
        "2h30m1s",
        'stack "cluster-02": agent-receiver:edge.agent.remoteWrite.sampleAgeLimit (2h30m1s) is longer than agent-receiver:central.receive.outOfOrderWindow (150m) ' +
            'of central stack "organization/agent-receiver/cluster-01": Receive would refuse the oldest samples of an outage\'s backlog. ' +
            'Raise central.receive.outOfOrderWindow to at least 2h30m1s in Pulumi.cluster-01.yaml and run pulumi up --stack cluster-01 first, or lower sampleAgeLimit on stack "cluster-02".',
    ],
    ["a window equal to the limit", "3h", "180m", undefined],
    ["a window longer than the limit", "1d", "3h", undefined],
];

// An edge's writer ids missing from the central writers (checked by the edge against the central output `writers`):
// [what, edge config, writer ids the central stack exports, exact advice]. A tenant of a listed cluster is named as
// the tenant to add, not as a cluster.
const writerCases: [string, () => any, string[], string][] = [
    [
        "an edge tenant missing from a listed cluster",
        edge,
        ["cluster-01", "cluster-02-a"],
        "writer(s) cluster-02-b not registered on the central stack (known: cluster-01, cluster-02-a). " +
            "To fix: add tenant(s) b to the tenants of writer cluster-02 in agent-receiver:central.writers (Pulumi.cluster-01.yaml), then run pulumi up --stack cluster-01 before this stack.",
    ],
    [
        "a cluster with tenants missing altogether",
        edge,
        ["cluster-01"],
        "writer(s) cluster-02-a, cluster-02-b not registered on the central stack (known: cluster-01). " +
            "To fix: add { cluster: cluster-02, tenants: [a, b] } to agent-receiver:central.writers (Pulumi.cluster-01.yaml), then run pulumi up --stack cluster-01 before this stack.",
    ],
    [
        "a cluster without tenants missing",
        () => ({ ...edge(), clusterName: "cluster-03", edge: {} }),
        [],
        "writer(s) cluster-03 not registered on the central stack (known: none). " +
            "To fix: add { cluster: cluster-03 } to agent-receiver:central.writers (Pulumi.cluster-01.yaml), then run pulumi up --stack cluster-01 before this stack.",
    ],
];

describe("stack contract: an edge's writers missing from the central writers", () => {
    for (const [what, make, known, advice] of writerCases) {
        it(`names what to add for ${what}`, () => {
            const cfg = parseStackConfig("edge", make());
            const missing = edgeWriterIds(cfg).filter((w) => !known.includes(w));
            assert.strictEqual(unregisteredWriterAdvice(cfg, missing, known, "cluster-01"), advice);
        });
    }
});

describe("stack contract: the central out-of-order window against an edge's sample age limit", () => {
    for (const [what, window, limit, message] of windowCases) {
        it(`${message === undefined ? "accepts" : "rejects"} ${what} (window ${window}, sampleAgeLimit ${limit})`, () => {
            const e = edge();
            e.edge.agent = { remoteWrite: { sampleAgeLimit: limit }, walRetention: "1d" };
            const cfg = parseStackConfig("cluster-02", e);
            assert.strictEqual(outOfOrderWindowProblem(cfg, cfg.edge!, window), message);
        });
    }
});
