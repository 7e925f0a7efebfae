/**
 * Turns a validated stack configuration into components: the central pipeline on `central` stacks, the agents on
 * `edge` stacks. `index.ts` calls `buildStack` with the stack's own config; the tests and the offline plan call it
 * with any stack's config, so all four stacks run in one process.
 */
import * as k8s from "@pulumi/kubernetes";
import * as minio from "@pulumi/minio";
import * as pulumi from "@pulumi/pulumi";
import { PlatformNamespace } from "../components/platformNamespace";
import { Memcached } from "../components/memcached";
import { RemoteWritePki } from "../components/remoteWritePki";
import { ThanosBucket } from "../components/thanosBucket";
import { ThanosCompactor } from "../components/thanosCompactor";
import { QUERY_NAME, ThanosQuery, queryHttpUrl } from "../components/thanosQuery";
import { ThanosQueryFrontend, QUERY_FRONTEND_NAME } from "../components/thanosQueryFrontend";
import { RECEIVE_NAME, ThanosReceive } from "../components/thanosReceive";
import { STORE_NAME, ThanosStoreGateway } from "../components/thanosStoreGateway";
import { KubeStateMetrics } from "../components/kubeStateMetrics";
import { NodeExporter } from "../components/nodeExporter";
import { AGENT_PATHS, PrometheusAgent, agentSelector } from "../components/prometheusAgent";
import type { WriterCredential } from "../components/remoteWritePki";
import { TenantIsolation, tenantToleration } from "../components/tenantIsolation";
import { ALERTMANAGER_PORT, CentralMonitoring, GRAFANA_PORT, GRAFANA_SERVICE } from "../components/centralMonitoring";
import { HttpsGateway } from "../components/httpsGateway";
import { RULER_NAME, ThanosRuler } from "../components/thanosRuler";
import { DASHBOARDS_NAME, DASHBOARDS_PORT, LogDashboards } from "../components/logDashboards";
import { LogCredential, LogStore } from "../components/logStore";
import { LogShipper } from "../components/logShipper";
import { renderAgentConfig } from "./agentConfig";
import { CentralConfig, EdgeConfig, SecretKey, StackConfig, webhookSecretKeys, writerIds } from "./config";
import { renderAlertRules } from "./alertRules";
import { renderAlertmanagerConfig } from "./alertmanagerConfig";
import { dashboards } from "./dashboards";
import { dnsSrv } from "./thanos";
import { imageName, images } from "./versions";
import { OperatorError } from "./errors";

/** Secret config values (set by the operator with `pulumi config set --secret`). */
export type StackSecrets = { readonly [K in SecretKey]?: pulumi.Input<string> };

/** Namespace of the central Prometheus, Alertmanager and Grafana (kube-prometheus-stack). */
export const CENTRAL_MONITORING_NAMESPACE = "monitoring";

/** Names of the stack outputs the edges read through the stack reference: the contract between stacks. */
export const CENTRAL_OUTPUTS = {
    remoteWriteUrl: "receiveRemoteWriteUrl",
    caCertPem: "receiveCaCertPem",
    writers: "writers",
    writerCredentials: "writerCredentials",
    logsEndpoint: "logsEndpoint",
    logsCaCertPem: "logsCaCertPem",
    logsCredentials: "logsCredentials",
} as const;

/** Namespace of Fluent Bit on every cluster (Pod Security privileged: it reads the node's log files). */
export const LOG_SHIPPER_NAMESPACE = "logging-node";

export async function buildStack(cfg: StackConfig, secrets: StackSecrets): Promise<Record<string, unknown>> {
    const provider = new k8s.Provider(`${cfg.clusterName}-k8s`, {
        context: cfg.kubernetes.context,
        enableServerSideApply: true,
        renderYamlToDirectory: cfg.kubernetes.renderYamlToDirectory,
    });
    if (cfg.role === "central") return buildCentral(cfg, cfg.central as CentralConfig, secrets, provider);
    return buildEdge(cfg, cfg.edge as EdgeConfig, secrets, provider);
}

/** Writer ids an edge stack writes as: the cluster, or `<cluster>-<tenant>` per tenant. */
export function edgeWriterIds(cfg: StackConfig): string[] {
    const tenants = cfg.edge?.tenants ?? [];
    return tenants.length === 0 ? [cfg.clusterName] : tenants.map((t) => `${cfg.clusterName}-${t.name}`);
}

/**
 * What to tell the operator when some of this edge's writer ids are not on the central stack: a cluster that is
 * missing is added as a writer; a tenant of a cluster that is listed is added to that writer's `tenants`.
 */
export function unregisteredWriterAdvice(cfg: StackConfig, missing: string[], known: string[], centralStack: string): string {
    const cluster = cfg.clusterName;
    const tenants = (cfg.edge?.tenants ?? []).map((t) => t.name);
    const clusterListed = known.includes(cluster) || known.some((w) => tenants.some((t) => w === `${cluster}-${t}`));
    const file = `Pulumi.${centralStack}.yaml`;
    const fix =
        tenants.length > 0 && clusterListed
            ? `add tenant(s) ${tenants.filter((t) => missing.includes(`${cluster}-${t}`)).join(", ")} to the tenants of writer ${cluster} in agent-receiver:central.writers (${file})`
            : tenants.length > 0
              ? `add { cluster: ${cluster}, tenants: [${tenants.join(", ")}] } to agent-receiver:central.writers (${file})`
              : `add { cluster: ${cluster} } to agent-receiver:central.writers (${file})`;
    return (
        `writer(s) ${missing.join(", ")} not registered on the central stack (known: ${known.join(", ") || "none"}). ` +
        `To fix: ${fix}, then run pulumi up --stack ${centralStack} before this stack.`
    );
}

/**
 * Read the central stack's outputs and check them before any edge resource exists: a missing output means the
 * central stack was not deployed; a missing writer means the central config does not list this edge.
 */
export async function readCentral(cfg: StackConfig, e: EdgeConfig) {
    const ref = new pulumi.StackReference(`${cfg.clusterName}-central`, { name: e.centralStack });
    const missingOutputs: string[] = [];
    const details = async (name: string) => {
        const d = await ref.getOutputDetails(name);
        const value = d.value ?? d.secretValue;
        if (value === undefined) missingOutputs.push(name);
        return { value, secret: d.secretValue !== undefined };
    };
    const url = await details(CENTRAL_OUTPUTS.remoteWriteUrl);
    const ca = await details(CENTRAL_OUTPUTS.caCertPem);
    const writers = await details(CENTRAL_OUTPUTS.writers);
    const creds = await details(CENTRAL_OUTPUTS.writerCredentials);
    const logsEndpoint = await details(CENTRAL_OUTPUTS.logsEndpoint);
    const logsCa = await details(CENTRAL_OUTPUTS.logsCaCertPem);
    const logsCreds = await details(CENTRAL_OUTPUTS.logsCredentials);
    const centralStackName = e.centralStack.split("/").pop();
    const where = `stack "${cfg.clusterName}": central stack "${e.centralStack}" (agent-receiver:edge.centralStack)`;
    if (missingOutputs.length === Object.keys(CENTRAL_OUTPUTS).length) {
        throw new OperatorError(`${where} has none of the outputs an edge reads: it is not deployed yet. Deploy it first: pulumi up --stack ${centralStackName}`);
    }
    if (missingOutputs.length > 0) {
        throw new OperatorError(
            `${where} lacks the output(s) ${missingOutputs.join(", ")}: it was deployed by an older version of the program. ` +
                `Run pulumi up --stack ${centralStackName} first.`,
        );
    }
    for (const [n, d] of [[CENTRAL_OUTPUTS.writerCredentials, creds], [CENTRAL_OUTPUTS.logsCredentials, logsCreds]] as const) {
        if (!d.secret) {
            throw new OperatorError(
                `stack "${cfg.clusterName}": central stack "${e.centralStack}" exports "${n}" in plaintext; it must be a secret output. ` +
                    `Run pulumi up --stack ${centralStackName} with this version of the program.`,
            );
        }
    }
    const known = (writers.value as string[]) ?? [];
    const missing = edgeWriterIds(cfg).filter((w) => !known.includes(w));
    if (missing.length > 0) {
        throw new OperatorError(`stack "${cfg.clusterName}": ${unregisteredWriterAdvice(cfg, missing, known, centralStackName ?? e.centralStack)}`);
    }
    return {
        remoteWriteUrl: url.value as string,
        caCertPem: ca.value as string,
        credentials: ref.requireOutput(CENTRAL_OUTPUTS.writerCredentials) as pulumi.Output<Record<string, WriterCredential>>,
        logs: {
            endpoint: logsEndpoint.value as string,
            caCertPem: logsCa.value as string,
            credential: pulumi.secret((ref.requireOutput(CENTRAL_OUTPUTS.logsCredentials) as pulumi.Output<Record<string, LogCredential>>).apply((c) => {
                const mine = c[cfg.clusterName];
                if (!mine) {
                    throw new OperatorError(
                        `stack "${cfg.clusterName}": central stack "${e.centralStack}" has no log credential for ${cfg.clusterName}: ` +
                            `add it to agent-receiver:central.writers in Pulumi.${centralStackName}.yaml and run pulumi up --stack ${centralStackName} first.`,
                    );
                }
                return mine;
            })),
        },
    };
}

function pullSecretFor(cfg: StackConfig, secrets: StackSecrets) {
    const ps = cfg.images.pullSecret;
    if (!ps) return undefined;
    if (secrets.registryPassword === undefined) throw new Error("registryPassword is required with images.pullSecret");
    return { registry: ps.registry, username: ps.username, password: secrets.registryPassword };
}

function logShipperNamespace(cfg: StackConfig, secrets: StackSecrets, opts: pulumi.ComponentResourceOptions): PlatformNamespace {
    return new PlatformNamespace(
        `${cfg.clusterName}-logging-node`,
        {
            namespace: LOG_SHIPPER_NAMESPACE,
            podSecurity: "privileged",
            // hostPath mounts of /var/log (read) and the node's buffer directory; baseline forbids hostPath.
            podSecurityReason: "Fluent Bit reads container logs from the node through hostPath",
            pullSecret: pullSecretFor(cfg, secrets),
        },
        opts,
    );
}

function nsPeer(namespace: string, podLabels?: Record<string, string>): k8s.types.input.networking.v1.NetworkPolicyPeer {
    return {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
        ...(podLabels ? { podSelector: { matchLabels: podLabels } } : {}),
    };
}

function buildCentral(cfg: StackConfig, c: CentralConfig, secrets: StackSecrets, provider: k8s.Provider): Record<string, unknown> {
    const missing = (["minioPassword", ...webhookSecretKeys(c)] as SecretKey[]).filter((k) => secrets[k] === undefined);
    if (missing.length > 0) throw new Error(`stack "${cfg.clusterName}": secret config ${missing.map((k) => `agent-receiver:${k}`).join(", ")} required on the central stack`);
    const cluster = cfg.clusterName;
    const minioProvider = new minio.Provider(`${cluster}-minio`, {
        minioServer: c.objectStorage.endpoint,
        minioUser: c.objectStorage.adminUser,
        minioPassword: secrets.minioPassword,
        minioSsl: c.objectStorage.tls,
        minioRegion: c.objectStorage.region,
    });
    const opts: pulumi.ComponentResourceOptions = { providers: { kubernetes: provider, minio: minioProvider } };
    const mirror = cfg.images.registryMirror;
    const thanosImage = imageName(images.thanos, mirror);
    const version = images.thanos.tag;

    const ns = new PlatformNamespace(`${cluster}-thanos`, { namespace: c.namespace, pullSecret: pullSecretFor(cfg, secrets) }, opts);
    const common = {
        namespace: ns.name,
        namespaceName: c.namespace,
        image: thanosImage,
        version,
        imagePullSecrets: ns.imagePullSecrets.length > 0 ? ns.imagePullSecrets : undefined,
    };
    const minioPort = Number(c.objectStorage.endpoint.split(":")[1]);
    const byName = (name: string) => ({ podSelector: { matchLabels: { "app.kubernetes.io/name": name } } });
    // The central Prometheus pair (scrapes everything) and Grafana/ruler live in the monitoring namespace.
    const scrapers = [nsPeer(CENTRAL_MONITORING_NAMESPACE)];
    const queryClients = [byName(QUERY_FRONTEND_NAME), byName(RECEIVE_NAME), byName(RULER_NAME), nsPeer(CENTRAL_MONITORING_NAMESPACE)];

    const writers = c.writers.flatMap(writerIds);
    const pki = new RemoteWritePki(
        `${cluster}-remote-write-pki`,
        {
            writers,
            serverDnsNames: [
                c.receive.hostname,
                `${RECEIVE_NAME}.${c.namespace}.svc`,
                `${RECEIVE_NAME}.${c.namespace}.svc.cluster.local`,
            ],
            serverIpAddresses: c.receive.loadBalancerIP ? [c.receive.loadBalancerIP] : undefined,
            caGeneration: c.rotation.ca,
            writerGenerations: c.rotation.writers,
        },
        opts,
    );

    const bucket = new ThanosBucket(
        `${cluster}-thanos-bucket`,
        {
            bucket: c.objectStorage.bucket,
            endpoint: c.objectStorage.endpoint,
            tls: c.objectStorage.tls,
            region: c.objectStorage.region,
            userName: `thanos-${cluster}`,
            namespace: ns.name,
            noncurrentVersionDays: c.objectStorage.lifecycle.noncurrentVersionDays,
            backstopExpiryDays: c.objectStorage.lifecycle.backstopExpiryDays,
        },
        opts,
    );
    const bucketNet = { objectStorageCidr: c.objectStorage.cidr, objectStoragePort: minioPort, objstoreSecretName: bucket.secretName };

    // Receive is created before Query (Query discovers it) but needs Query's URL for meta-monitoring.
    const queryUrl = queryHttpUrl(c.namespace);
    const receive = new ThanosReceive(
        `${cluster}-receive`,
        {
            ...common,
            ...bucketNet,
            storageClass: cfg.kubernetes.storageClass,
            replicas: c.receive.replicas,
            replicationFactor: c.receive.replicationFactor,
            localRetention: c.receive.localRetention,
            outOfOrderWindow: c.receive.outOfOrderWindow,
            storageSize: c.receive.storageSize,
            terminationGracePeriodSeconds: c.receive.terminationGracePeriodSeconds,
            defaultTenant: c.receive.defaultTenant,
            resources: c.receive.resources,
            limits: c.receive.limits,
            tls: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, caCertPem: pki.caCertPem },
            metaMonitoringUrl: queryUrl,
            exposure: { hostname: c.receive.hostname, loadBalancerIP: c.receive.loadBalancerIP },
            storeApiClients: [byName(QUERY_NAME)],
            metricsScrapers: scrapers,
        },
        opts,
    );
    const store = new ThanosStoreGateway(
        `${cluster}-store`,
        {
            ...common,
            ...bucketNet,
            storageClass: cfg.kubernetes.storageClass,
            replicas: c.storeGateway.replicas,
            storageSize: c.storeGateway.storageSize,
            resources: c.storeGateway.resources,
            storeApiClients: [byName(QUERY_NAME)],
            metricsScrapers: scrapers,
        },
        opts,
    );
    const query = new ThanosQuery(
        `${cluster}-query`,
        {
            ...common,
            replicas: c.query.replicas,
            resources: c.query.resources,
            storeEndpoints: [dnsSrv("grpc", receive.headlessServiceName, c.namespace), store.storeEndpoint],
            clients: queryClients,
            stores: [byName(RECEIVE_NAME), byName(STORE_NAME)],
            metricsScrapers: scrapers,
        },
        opts,
    );
    const memcached = new Memcached(
        `${cluster}-memcached`,
        {
            namespace: ns.name,
            namespaceName: c.namespace,
            image: imageName(images.memcached, mirror),
            exporterImage: imageName(images.memcachedExporter, mirror),
            version: images.memcached.tag,
            imagePullSecrets: common.imagePullSecrets,
            replicas: c.memcached.replicas,
            memoryMiB: c.memcached.memoryMiB,
            maxItemSizeMiB: c.memcached.maxItemSizeMiB,
            clients: [byName(QUERY_FRONTEND_NAME)],
            metricsScrapers: scrapers,
        },
        opts,
    );
    const frontend = new ThanosQueryFrontend(
        `${cluster}-query-frontend`,
        {
            ...common,
            replicas: c.queryFrontend.replicas,
            resources: c.queryFrontend.resources,
            downstreamUrl: query.httpUrl,
            memcachedAddresses: [memcached.address],
            maxItemSizeMiB: c.memcached.maxItemSizeMiB,
            splitInterval: c.queryFrontend.splitInterval,
            clients: [nsPeer(CENTRAL_MONITORING_NAMESPACE)],
            downstream: [byName(QUERY_NAME)],
            cache: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "memcached" } } }],
            metricsScrapers: scrapers,
        },
        opts,
    );
    new ThanosCompactor(
        `${cluster}-compactor`,
        {
            ...common,
            ...bucketNet,
            storageClass: cfg.kubernetes.storageClass,
            storageSize: c.compactor.storageSize,
            resources: c.compactor.resources,
            retention: c.compactor.retention,
            metricsScrapers: scrapers,
        },
        opts,
    );

    const m = c.monitoring;
    // Every namespace the platform runs containers in, on any cluster (the edges use the same names by default).
    const platformNamespaces = [c.namespace, CENTRAL_MONITORING_NAMESPACE, `${CENTRAL_MONITORING_NAMESPACE}-node`, c.logs.namespace, LOG_SHIPPER_NAMESPACE];
    const rules = renderAlertRules(
        {
            writers,
            headSeriesLimits: Object.fromEntries(writers.map((w) => [w, c.receive.limits.tenants[w]?.headSeries ?? c.receive.limits.default.headSeries ?? 0])),
            thresholds: m.thresholds,
            platformNamespaces,
            runbookBaseUrl: m.alerting.runbookBaseUrl,
        },
        m.ruler.evaluationInterval,
    );
    const monNs = new PlatformNamespace(`${cluster}-monitoring`, { namespace: CENTRAL_MONITORING_NAMESPACE, pullSecret: pullSecretFor(cfg, secrets) }, opts);
    const monNodeNs = new PlatformNamespace(
        `${cluster}-monitoring-node`,
        {
            namespace: `${CENTRAL_MONITORING_NAMESPACE}-node`,
            podSecurity: "privileged",
            podSecurityReason: "node-exporter reads the host: hostNetwork, hostPID and hostPath mounts",
            pullSecret: pullSecretFor(cfg, secrets),
        },
        opts,
    );
    const monitoring = new CentralMonitoring(
        `${cluster}-monitoring`,
        {
            namespace: monNs.name,
            namespaceName: CENTRAL_MONITORING_NAMESPACE,
            cluster,
            storageClass: cfg.kubernetes.storageClass,
            imagePullSecrets: monNs.imagePullSecrets.length > 0 ? monNs.imagePullSecrets : undefined,
            prometheus: m.prometheus,
            alertmanager: m.alertmanager,
            alertmanagerConfig: pulumi.secret(
                pulumi
                    .all(Object.fromEntries(webhookSecretKeys(c).map((k) => [k, pulumi.output(secrets[k] as pulumi.Input<string>)])))
                    .apply((urls) => renderAlertmanagerConfig(m.alerting, urls as Record<string, string>)),
            ),
            remoteWrite: {
                url: receive.internalRemoteWriteUrl,
                caCertPem: pki.caCertPem,
                certPem: pki.writerCredentials.apply((w) => w[cluster].certPem),
                keyPem: pulumi.secret(pki.writerCredentials.apply((w) => w[cluster].keyPem)),
            },
            queryFrontendUrl: frontend.httpUrl,
            grafanaHostname: m.grafana.hostname,
            dashboards: dashboards(platformNamespaces),
            thanosNamespace: c.namespace,
            logShipperNamespace: LOG_SHIPPER_NAMESPACE,
            logStoreNamespace: c.logs.namespace,
            alertSenders: [nsPeer(c.namespace, { "app.kubernetes.io/name": RULER_NAME })],
            queryFrontend: [nsPeer(c.namespace, { "app.kubernetes.io/name": QUERY_FRONTEND_NAME })],
        },
        { ...opts, dependsOn: [monNs, monNodeNs] },
    );
    new NodeExporter(`${cluster}-node-exporter`, { namespace: monNodeNs.name, registryMirror: mirror, serviceMonitor: true }, opts);
    const grafana = new HttpsGateway(
        `${cluster}-grafana-gateway`,
        {
            app: "grafana",
            namespace: monNs.name,
            hostname: m.grafana.hostname,
            gatewayClassName: m.grafana.gatewayClassName,
            clusterIssuer: m.grafana.clusterIssuer,
            loadBalancerIP: m.grafana.loadBalancerIP,
            serviceName: GRAFANA_SERVICE,
            servicePort: 80,
            podSelector: { "app.kubernetes.io/name": "grafana" },
            targetPort: GRAFANA_PORT,
        },
        opts,
    );
    new ThanosRuler(
        `${cluster}-ruler`,
        {
            ...common,
            replicas: m.ruler.replicas,
            evaluationInterval: m.ruler.evaluationInterval,
            storageClass: cfg.kubernetes.storageClass,
            storageSize: m.ruler.storageSize,
            resources: m.ruler.resources,
            rules,
            queryAddress: `${QUERY_NAME}.${c.namespace}.svc.cluster.local:10902`,
            alertmanagerUrl: monitoring.alertmanagerUrl,
            query: [byName(QUERY_NAME)],
            alertmanagers: [nsPeer(CENTRAL_MONITORING_NAMESPACE, { "app.kubernetes.io/name": "alertmanager" })],
            alertmanagerPort: ALERTMANAGER_PORT,
            metricsScrapers: scrapers,
        },
        opts,
    );

    // Logs: OpenSearch for every cluster, and this cluster's own Fluent Bit.
    const logNs = new PlatformNamespace(`${cluster}-logging`, { namespace: c.logs.namespace, pullSecret: pullSecretFor(cfg, secrets) }, opts);
    const clusters = [...new Set(c.writers.map((w) => w.cluster))];
    const logStore = new LogStore(
        `${cluster}-logs`,
        {
            namespace: logNs.name,
            namespaceName: c.logs.namespace,
            clusters,
            passwordGenerations: c.rotation.logs,
            hostname: c.logs.hostname,
            loadBalancerIP: c.logs.loadBalancerIP,
            retentionDays: c.logs.retentionDays,
            replicas: c.logs.replicas,
            storageClass: cfg.kubernetes.storageClass,
            storageSize: c.logs.storageSize,
            heapSize: c.logs.heapSize,
            registryMirror: mirror,
            imagePullSecrets: logNs.imagePullSecrets.length > 0 ? logNs.imagePullSecrets : undefined,
            image: imageName(images.openSearch, mirror),
            exporterImage: imageName(images.openSearchExporter, mirror),
            exporterVersion: images.openSearchExporter.tag,
            metricsScrapers: scrapers,
        },
        opts,
    );
    const logsUi = new LogDashboards(
        `${cluster}-logs-dashboards`,
        {
            namespace: logNs.name,
            openSearchUrl: `https://${logStore.internalEndpoint}`,
            caCertPem: logStore.caCertPem,
            serverCredential: logStore.dashboardsServerCredential,
            publicUrl: `https://${c.logs.dashboards.hostname}/`,
            openSearchPods: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "opensearch" } } }],
            registryMirror: mirror,
            imagePullSecrets: logNs.imagePullSecrets.length > 0 ? logNs.imagePullSecrets : undefined,
        },
        opts,
    );
    const logsUiGateway = new HttpsGateway(
        `${cluster}-logs-dashboards-gateway`,
        {
            app: DASHBOARDS_NAME,
            namespace: logNs.name,
            hostname: c.logs.dashboards.hostname,
            gatewayClassName: m.grafana.gatewayClassName,
            clusterIssuer: m.grafana.clusterIssuer,
            loadBalancerIP: c.logs.dashboards.loadBalancerIP,
            serviceName: logsUi.serviceName,
            servicePort: logsUi.servicePort,
            podSelector: logsUi.podSelector,
            targetPort: DASHBOARDS_PORT,
        },
        opts,
    );
    const shipperNs = logShipperNamespace(cfg, secrets, opts);
    new LogShipper(
        `${cluster}-fluent-bit`,
        {
            namespace: shipperNs.name,
            cluster,
            tenantOfNamespace: {},
            endpoint: logStore.internalEndpoint,
            caCertPem: logStore.caCertPem,
            credential: logStore.credentials.apply((cr) => cr[cluster]),
            registryMirror: mirror,
            imagePullSecrets: shipperNs.imagePullSecrets.length > 0 ? shipperNs.imagePullSecrets : undefined,
            metricsScrapers: scrapers,
        },
        opts,
    );

    return {
        clusterName: cluster,
        role: cfg.role,
        grafanaUrl: grafana.url,
        logsDashboardsUrl: logsUiGateway.url,
        [CENTRAL_OUTPUTS.logsEndpoint]: logStore.endpoint,
        [CENTRAL_OUTPUTS.logsCaCertPem]: logStore.caCertPem,
        [CENTRAL_OUTPUTS.logsCredentials]: logStore.credentials,
        openSearchAdminPassword: logStore.adminPassword,
        grafanaAdminPassword: monitoring.grafanaAdminPassword,
        [CENTRAL_OUTPUTS.remoteWriteUrl]: receive.remoteWriteUrl,
        [CENTRAL_OUTPUTS.caCertPem]: pki.caCertPem,
        [CENTRAL_OUTPUTS.writers]: writers,
        [CENTRAL_OUTPUTS.writerCredentials]: pki.writerCredentials,
        queryFrontendUrl: frontend.httpUrl,
        bucket: bucket.bucketName,
        hashring: receive.hashring,
    };
}

async function buildEdge(cfg: StackConfig, e: EdgeConfig, secrets: StackSecrets, provider: k8s.Provider): Promise<Record<string, unknown>> {
    const central = await readCentral(cfg, e);
    const cluster = cfg.clusterName;
    const opts: pulumi.ComponentResourceOptions = { providers: { kubernetes: provider } };
    const mirror = cfg.images.registryMirror;
    const pullSecret = pullSecretFor(cfg, secrets);

    const ns = new PlatformNamespace(`${cluster}-monitoring`, { namespace: e.namespace, pullSecret }, opts);
    const imagePullSecrets = ns.imagePullSecrets.length > 0 ? ns.imagePullSecrets : undefined;
    const nodeNamespace = `${e.namespace}-node`;
    const nodeNs = new PlatformNamespace(
        `${cluster}-monitoring-node`,
        {
            namespace: nodeNamespace,
            podSecurity: "privileged",
            // hostNetwork, hostPID and read-only hostPath mounts of /proc, /sys and / are what node-exporter
            // measures; baseline forbids all three.
            podSecurityReason: "node-exporter reads the host: hostNetwork, hostPID and hostPath mounts",
            pullSecret,
        },
        opts,
    );
    new NodeExporter(`${cluster}-node-exporter`, { namespace: nodeNs.name, registryMirror: mirror, imagePullSecrets }, opts);

    const scopes =
        e.tenants.length === 0
            ? [{ writer: cluster, tenant: undefined, nodes: undefined, namespaces: [] as string[], placement: undefined }]
            : e.tenants.map((t) => ({
                  writer: `${cluster}-${t.name}`,
                  tenant: t.name,
                  nodes: [...t.nodes],
                  namespaces: [...t.namespaces],
                  placement: { nodeSelector: { tenant: t.name }, tolerations: [tenantToleration(t.name, e.tenantTaintEffect)] },
              }));

    const shipperNs = logShipperNamespace(cfg, secrets, opts);
    new LogShipper(
        `${cluster}-fluent-bit`,
        {
            namespace: shipperNs.name,
            cluster,
            tenantOfNamespace: Object.fromEntries(e.tenants.flatMap((t) => t.namespaces.map((n) => [n, t.name]))),
            endpoint: central.logs.endpoint,
            caCertPem: central.logs.caCertPem,
            credential: central.logs.credential,
            registryMirror: mirror,
            imagePullSecrets,
            metricsScrapers: [nsPeer(e.namespace)],
        },
        opts,
    );

    const agents: Record<string, string> = {};
    for (const s of scopes) {
        const suffix = s.tenant ? `-${s.tenant}` : "";
        const ksm = new KubeStateMetrics(
            `${cluster}-kube-state-metrics${suffix}`,
            {
                namespace: ns.name,
                namespaceName: e.namespace,
                tenant: s.tenant,
                namespaces: s.namespaces,
                nodeSelector: s.placement?.nodeSelector,
                tolerations: s.placement?.tolerations,
                registryMirror: mirror,
                imagePullSecrets,
                // Its own agent only (by the agent's instance labels): a tenant's agent cannot read the other's.
                scrapers: [{ podSelector: { matchLabels: agentSelector(s.tenant) } }],
            },
            opts,
        );
        const config = renderAgentConfig({
            cluster,
            scope: { tenant: s.tenant, namespaces: s.namespaces, kubeStateMetrics: ksm.address, nodes: s.nodes, logShipperNamespace: LOG_SHIPPER_NAMESPACE },
            scrapeInterval: e.agent.scrapeInterval,
            remoteWriteUrl: central.remoteWriteUrl,
            remoteWrite: e.agent.remoteWrite,
            tlsFiles: AGENT_PATHS.tls,
            extraDropMetrics: e.agent.extraDropMetrics,
        });
        const agent = new PrometheusAgent(
            `${cluster}-agent${suffix}`,
            {
                namespace: ns.name,
                image: imageName(images.prometheus, mirror),
                version: images.prometheus.tag,
                reloaderImage: imageName(images.configReloader, mirror),
                imagePullSecrets,
                storageClass: cfg.kubernetes.storageClass,
                walSize: e.agent.walSize,
                walRetention: e.agent.walRetention,
                flushDeadline: e.survivableOutage,
                resources: e.agent.resources,
                config,
                credentials: pulumi.secret(central.credentials.apply((c) => c[s.writer])),
                caCertPem: central.caCertPem,
                scope: { tenant: s.tenant, nodes: s.nodes, namespaces: s.namespaces },
                platformScrapeNamespaces: [LOG_SHIPPER_NAMESPACE],
                nodeSelector: s.placement?.nodeSelector,
                tolerations: s.placement?.tolerations,
                scrapePeers: [
                    { podSelector: { matchLabels: ksm.podLabels } },
                    ...s.namespaces.map((n) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": n } } })),
                    nsPeer(LOG_SHIPPER_NAMESPACE, { "app.kubernetes.io/name": "fluent-bit" }),
                ],
            },
            opts,
        );
        if (s.tenant) {
            const tenant = e.tenants.find((t) => t.name === s.tenant)!;
            new TenantIsolation(
                `${cluster}-tenant-${s.tenant}`,
                {
                    tenant,
                    taintEffect: e.tenantTaintEffect,
                    platformNamespace: e.namespace,
                    agentSelector: agent.selector,
                    kubectlImage: imageName(images.kubectl, mirror),
                    imagePullSecrets,
                    pullSecret,
                },
                opts,
            );
        }
        agents[s.writer] = config;
    }

    return {
        clusterName: cluster,
        role: cfg.role,
        remoteWriteUrl: central.remoteWriteUrl,
        writers: edgeWriterIds(cfg),
        agentConfigs: agents,
    };
}
