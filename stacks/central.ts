/**
 * The central stack (cluster-01), in named steps: object storage (the only MinIO-aware code), the metrics pipeline
 * (remote-write PKI, Receive, Store, Query, the frontend and its cache, Compactor), central monitoring (Prometheus,
 * Alertmanager, Grafana, Ruler), logs (OpenSearch, Dashboards, this cluster's Fluent Bit) and the outputs the edges
 * read. Who may talk to whom comes from `network.ts`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as minio from "@pulumi/minio";
import * as pulumi from "@pulumi/pulumi";
import { ALERTMANAGER_JOB, CentralMonitoring, GRAFANA_PORT, GRAFANA_SERVICE, THANOS_DATASOURCE_UID, THANOS_JOBS } from "../components/centralMonitoring";
import { HttpsGateway } from "../components/httpsGateway";
import { DASHBOARDS_NAME, DASHBOARDS_PORT, LogDashboards } from "../components/logDashboards";
import { LogShipper } from "../components/logShipper";
import { LogStore } from "../components/logStore";
import { Memcached, MemcachedRole } from "../components/memcached";
import { NodeExporter } from "../components/nodeExporter";
import { PlatformNamespace } from "../components/platformNamespace";
import { RemoteWritePki } from "../components/remoteWritePki";
import { BUCKET_ROLES, BucketRole, ThanosBucket, objstoreSecretName } from "../components/thanosBucket";
import { ThanosCompactor } from "../components/thanosCompactor";
import { QUERY_NAME, ThanosQuery, queryHttpUrl } from "../components/thanosQuery";
import { ThanosQueryFrontend } from "../components/thanosQueryFrontend";
import { RECEIVE_NAME, ThanosReceive } from "../components/thanosReceive";
import { ThanosRuler, grafanaExploreLink } from "../components/thanosRuler";
import { ThanosStoreGateway } from "../components/thanosStoreGateway";
import { ALERTMANAGER_PORT } from "../components/centralMonitoring";
import { centralInfraRelabelings } from "../lib/agentConfig";
import { renderAlertRules } from "../lib/alertRules";
import { selfMonitoringRuleGroups } from "../lib/selfMonitoringRules";
import { renderAlertmanagerConfig } from "../lib/alertmanagerConfig";
import { CentralConfig, StackConfig, allWriterIds, externalWriterIds, receiveHeadSeriesLimit, webhookSecretKeys, writerIds } from "../lib/config";
import { dashboards } from "../lib/dashboards";
import { CentralSizing, centralSizing } from "../lib/sizing";
import { THANOS_PORTS, ThanosTracing, dnsSrv } from "../lib/thanos";
import { imageName, images } from "../lib/versions";
import { CENTRAL_OUTPUTS, EXTERNAL_WRITER_CREDENTIALS_OUTPUT } from "./contract";
import { CentralWorkloads, Flow, Workload, centralNetwork, egressPeers, entityEgress, externalCidrs, externalSources, ingressPeers } from "./network";
import { CENTRAL_MONITORING_NAMESPACE, LOG_SHIPPER_NAMESPACE, StackSecrets, logShipperNamespace, nodeExporterNamespace, pullSecretFor } from "./shared";

/** What every step needs: the stack's config, its secrets, the providers and the flow table. */
interface Central {
    readonly cfg: StackConfig;
    readonly c: CentralConfig;
    readonly secrets: StackSecrets;
    readonly opts: pulumi.ComponentResourceOptions;
    readonly cluster: string;
    readonly mirror?: string;
    readonly w: CentralWorkloads;
    readonly flows: Flow[];
    /** Requests, limits and cache sizes from the expected series, where the config sets none (lib/sizing.ts). */
    readonly sizing: CentralSizing;
}

/** The Thanos namespace and the arguments every Thanos component shares. */
type ThanosCommon = ReturnType<typeof thanosNamespace>["common"];

export function buildCentral(cfg: StackConfig, c: CentralConfig, secrets: StackSecrets, provider: k8s.Provider): Record<string, unknown> {
    // A render-only stack creates nothing on MinIO: the bucket and its users belong to the deployed stack alone.
    const rendering = cfg.kubernetes.renderYamlToDirectory !== undefined;
    const minioProvider = rendering
        ? undefined
        : new minio.Provider(`${cfg.clusterName}-minio`, {
              minioServer: c.objectStorage.endpoint,
              minioUser: c.objectStorage.adminUser,
              minioPassword: secrets.minioPassword,
              minioSsl: c.objectStorage.tls,
              minioRegion: c.objectStorage.region,
          });
    const { w, flows } = centralNetwork(c);
    const s: Central = {
        cfg,
        c,
        secrets,
        opts: { providers: minioProvider ? { kubernetes: provider, minio: minioProvider } : { kubernetes: provider } },
        cluster: cfg.clusterName,
        mirror: cfg.images.registryMirror,
        w,
        flows,
        sizing: centralSizing(c, allWriterIds(c)),
    };
    const thanos = thanosNamespace(s);
    const storage = objectStorage(s, thanos.ns);
    const pipeline = metricsPipeline(s, thanos.common, storage);
    // Logs first: the central Prometheus pair publishes the expiry of OpenSearch's certificates too.
    const m = c.monitoring.grafana;
    const logs = centralLogs(s, { gatewayClassName: m.gatewayClassName, clusterIssuer: m.clusterIssuer });
    const monitoring = centralMonitoring(s, thanos.common, pipeline, logs.store);
    return {
        clusterName: s.cluster,
        role: cfg.role,
        grafanaUrl: monitoring.grafanaUrl,
        logsDashboardsUrl: logs.dashboardsUrl,
        [CENTRAL_OUTPUTS.logsEndpoint]: logs.store.endpoint,
        [CENTRAL_OUTPUTS.logsCaCertPem]: logs.store.caCertPem,
        [CENTRAL_OUTPUTS.logsCredentials]: logs.store.credentials,
        openSearchAdminPassword: logs.store.adminPassword,
        grafanaAdminPassword: monitoring.grafanaAdminPassword,
        [CENTRAL_OUTPUTS.remoteWriteUrl]: pipeline.receive.remoteWriteUrl,
        [CENTRAL_OUTPUTS.receiveLoadBalancerIP]: c.receive.loadBalancerIP,
        [CENTRAL_OUTPUTS.logsLoadBalancerIP]: c.logs.loadBalancerIP,
        [CENTRAL_OUTPUTS.caCertPem]: pipeline.pki.caCertPem,
        [CENTRAL_OUTPUTS.writers]: pipeline.writers,
        // The edges' credentials only: an external writer's key is not every edge stack's to read.
        [CENTRAL_OUTPUTS.writerCredentials]: credentialsOf(pipeline.pki, pipeline.writers),
        [CENTRAL_OUTPUTS.outOfOrderWindow]: c.receive.outOfOrderWindow,
        queryFrontendUrl: pipeline.frontend.httpUrl,
        bucket: storage.bucketName,
        hashring: pipeline.receive.hashring,
        // Only with external writers, so a stack without them exports exactly what it did.
        ...(c.externalWriters.length > 0 ? { [EXTERNAL_WRITER_CREDENTIALS_OUTPUT]: credentialsOf(pipeline.pki, externalWriterIds(c)) } : {}),
    };
}

/** The client credentials of some writers, as a secret output. */
function credentialsOf(pki: RemoteWritePki, ids: string[]) {
    return pulumi.secret(pki.writerCredentials.apply((all) => Object.fromEntries(ids.map((id) => [id, all[id]]))));
}

/** What a Thanos component needs to send traces to `central.tracing` (undefined without it: no flag, no egress). */
function tracingOf(s: Central, from: Workload): ThanosTracing | undefined {
    const t = s.c.tracing;
    if (t === undefined) return undefined;
    return {
        otlpEndpoint: t.otlpEndpoint,
        protocol: t.protocol,
        insecure: t.insecure,
        serverName: t.serverName,
        samplingRatio: t.samplingRatio,
        cluster: s.cluster,
        egress: { cidrs: externalCidrs(s.flows, from, "tracing"), port: Number(t.otlpEndpoint.slice(t.otlpEndpoint.lastIndexOf(":") + 1)) },
    };
}

function objectStoragePort(c: CentralConfig): number {
    return Number(c.objectStorage.endpoint.split(":")[1]);
}

function thanosNamespace(s: Central) {
    const ns = new PlatformNamespace(`${s.cluster}-thanos`, { namespace: s.c.namespace, pullSecret: pullSecretFor(s.cfg, s.secrets) }, s.opts);
    const common = {
        namespace: ns.name,
        namespaceName: s.c.namespace,
        image: imageName(images.thanos, s.mirror),
        version: images.thanos.tag,
        imagePullSecrets: ns.imagePullSecrets,
    };
    return { ns, common };
}

/** The bucket, its user and the `objstore.yml` Secret on the existing MinIO, and where the components reach it. */
function objectStorage(s: Central, ns: PlatformNamespace) {
    const o = s.c.objectStorage;
    const [objectStorageCidr] = externalCidrs(s.flows, s.w.receive, "object-storage");
    const network = { objectStorageCidr, objectStoragePort: objectStoragePort(s.c) };
    if (s.cfg.kubernetes.renderYamlToDirectory !== undefined) {
        // Rendered manifests name the deployed stack's objstore Secrets; they are not rendered (no keys exist here).
        const secrets = Object.fromEntries(BUCKET_ROLES.map((r) => [r, pulumi.output(objstoreSecretName(r))])) as Record<BucketRole, pulumi.Output<string>>;
        return { bucketName: pulumi.output(o.bucket), network, secrets };
    }
    const bucket = new ThanosBucket(
        `${s.cluster}-thanos-bucket`,
        {
            bucket: o.bucket,
            endpoint: o.endpoint,
            tls: o.tls,
            region: o.region,
            userName: `thanos-${s.cluster}`,
            namespace: ns.name,
            noncurrentVersionDays: o.lifecycle.noncurrentVersionDays,
            backstopExpiryDays: o.lifecycle.backstopExpiryDays,
            sharedUser: o.sharedUser,
            keyGenerations: s.c.rotation.objectStorage,
        },
        s.opts,
    );
    return { bucketName: bucket.bucketName, network, secrets: bucket.secretNames };
}

/** Remote-write PKI, Receive, Store Gateway, Query, the frontend with its cache, and the Compactor. */
function metricsPipeline(s: Central, common: ThanosCommon, storage: ReturnType<typeof objectStorage>) {
    const { c, w, flows, cluster, sizing } = s;
    // The edges' writer ids (the `writers` output they check themselves against); the PKI also issues the external
    // writers' credentials.
    const writers = c.writers.flatMap(writerIds);
    const pki = new RemoteWritePki(
        `${cluster}-remote-write-pki`,
        {
            writers: allWriterIds(c),
            serverDnsNames: [c.receive.hostname, `${RECEIVE_NAME}.${c.namespace}.svc`, `${RECEIVE_NAME}.${c.namespace}.svc.cluster.local`],
            serverIpAddresses: c.receive.loadBalancerIP ? [c.receive.loadBalancerIP] : undefined,
            caGeneration: c.rotation.ca,
            writerGenerations: c.rotation.writers,
        },
        s.opts,
    );
    // Receive is created before Query (Query discovers it) but needs Query's URL for meta-monitoring.
    const receive = new ThanosReceive(
        `${cluster}-receive`,
        {
            ...common,
            ...storage.network,
            objstoreSecretName: storage.secrets.receive,
            storageClass: s.cfg.kubernetes.storageClass,
            replicas: c.receive.replicas,
            replicationFactor: c.receive.replicationFactor,
            localRetention: c.receive.localRetention,
            outOfOrderWindow: c.receive.outOfOrderWindow,
            tooFarInFutureWindow: c.receive.tooFarInFutureWindow,
            storageSize: c.receive.storageSize,
            terminationGracePeriodSeconds: c.receive.terminationGracePeriodSeconds,
            defaultTenant: c.receive.defaultTenant,
            resources: sizing.receive.resources,
            limits: receiveLimits(c, sizing),
            tls: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem, caCertPem: pki.caCertPem },
            metaMonitoringUrl: queryHttpUrl(c.namespace),
            exposure: { hostname: c.receive.hostname, loadBalancerIP: c.receive.loadBalancerIP },
            remoteWriteSources: { cidrs: externalSources(flows, w.receive, "remote-write"), peers: ingressPeers(flows, w.receive, "remote-write") },
            storeApiClients: ingressPeers(flows, w.receive, "store-api"),
            metricsScrapers: ingressPeers(flows, w.receive, "metrics"),
            tracing: tracingOf(s, w.receive),
        },
        s.opts,
    );
    const sg = c.storeGateway;
    const storeCache = memcachedFleet(s, common, `${cluster}-store-memcached`, "store-cache", { ...sg.cache, memoryMiB: sizing.storeCacheMiB }, w.storeCache);
    const store = new ThanosStoreGateway(
        `${cluster}-store`,
        {
            ...common,
            ...storage.network,
            objstoreSecretName: storage.secrets.store,
            storageClass: s.cfg.kubernetes.storageClass,
            replicas: sg.replicas,
            storageSize: sg.storageSize,
            resources: sizing.storeGateway,
            limits: sg.limits,
            cache: { addresses: [storeCache.address], maxItemSizeMiB: sg.cache.maxItemSizeMiB },
            cachePeers: egressPeers(flows, w.store, "store-cache"),
            storeApiClients: ingressPeers(flows, w.store, "store-api"),
            metricsScrapers: ingressPeers(flows, w.store, "metrics"),
            tracing: tracingOf(s, w.store),
        },
        s.opts,
    );
    const query = new ThanosQuery(
        `${cluster}-query`,
        {
            ...common,
            replicas: c.query.replicas,
            resources: sizing.query,
            storeEndpoints: [dnsSrv("grpc", receive.headlessServiceName, c.namespace), store.storeEndpoint],
            clients: ingressPeers(flows, w.query, "query"),
            stores: egressPeers(flows, w.query, "store-api"),
            metricsScrapers: ingressPeers(flows, w.query, "metrics"),
            tracing: tracingOf(s, w.query),
        },
        s.opts,
    );
    const memcached = memcachedFleet(s, common, `${cluster}-memcached`, "query-cache", { ...c.memcached, memoryMiB: sizing.resultsCacheMiB }, w.memcached);
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
            clients: ingressPeers(flows, w.queryFrontend, "query"),
            downstream: egressPeers(flows, w.queryFrontend, "query"),
            cache: egressPeers(flows, w.queryFrontend, "query-cache"),
            metricsScrapers: ingressPeers(flows, w.queryFrontend, "metrics"),
            tracing: tracingOf(s, w.queryFrontend),
        },
        s.opts,
    );
    new ThanosCompactor(
        `${cluster}-compactor`,
        {
            ...common,
            ...storage.network,
            objstoreSecretName: storage.secrets.compactor,
            storageClass: s.cfg.kubernetes.storageClass,
            storageSize: c.compactor.storageSize,
            resources: c.compactor.resources,
            retention: c.compactor.retention,
            metricsScrapers: ingressPeers(flows, w.compactor, "metrics"),
            tracing: tracingOf(s, w.compactor),
        },
        s.opts,
    );
    return { writers, pki, receive, frontend };
}

/**
 * Receive's limits file: the configured request limits, and every writer's head-series limit in effect (set, or
 * derived from its expected series). A writer's entry without request limits inherits the default's in Thanos.
 */
function receiveLimits(c: CentralConfig, sizing: CentralSizing) {
    const heads = sizing.receive.uniqueHeadSeries;
    return {
        default: { ...c.receive.limits.default, uniqueHeadSeries: heads.default },
        tenants: Object.fromEntries(Object.keys(heads.writers).map((id) => [id, { ...c.receive.limits.tenants[id], uniqueHeadSeries: heads.writers[id] }])),
    };
}

/** A memcached fleet in the Thanos namespace for `role`, reachable by the clients the flow table gives that role. */
function memcachedFleet(s: Central, common: ThanosCommon, name: string, role: MemcachedRole, size: { replicas: number; memoryMiB: number; maxItemSizeMiB: number }, fleet: Workload) {
    return new Memcached(
        name,
        {
            namespace: common.namespace,
            namespaceName: s.c.namespace,
            image: imageName(images.memcached, s.mirror),
            exporterImage: imageName(images.memcachedExporter, s.mirror),
            version: images.memcached.tag,
            imagePullSecrets: common.imagePullSecrets,
            role,
            replicas: size.replicas,
            memoryMiB: size.memoryMiB,
            maxItemSizeMiB: size.maxItemSizeMiB,
            clients: ingressPeers(s.flows, fleet, role),
            metricsScrapers: ingressPeers(s.flows, fleet, "metrics"),
        },
        s.opts,
    );
}

/** kube-prometheus-stack (Prometheus pair, Alertmanager, Grafana), node exporter, Grafana's gateway and the Ruler. */
function centralMonitoring(s: Central, common: ThanosCommon, pipeline: ReturnType<typeof metricsPipeline>, logStore: LogStore) {
    const { c, w, flows, cluster, cfg } = s;
    const m = c.monitoring;
    // Every namespace the platform runs containers in, on any cluster (the edges use the same names by default).
    const platformNamespaces = [c.namespace, CENTRAL_MONITORING_NAMESPACE, nodeExporterNamespace(CENTRAL_MONITORING_NAMESPACE), c.logs.namespace, LOG_SHIPPER_NAMESPACE];
    // Every writer is expected to send and has its head-series limit, the external ones too.
    const writers = allWriterIds(c);
    const rules = renderAlertRules(
        {
            writers,
            // As Thanos counts them (every replica's copy), like the sum the alert divides.
            headSeriesLimits: Object.fromEntries(writers.map((id) => [id, receiveHeadSeriesLimit(s.sizing.receive.uniqueHeadSeries.writers[id], c.receive.replicationFactor)])),
            thresholds: m.thresholds,
            platformNamespaces,
            centralCluster: cluster,
            runbookBaseUrl: m.alerting.runbookBaseUrl,
        },
        m.ruler.evaluationInterval,
    );
    const monNs = new PlatformNamespace(`${cluster}-monitoring`, { namespace: CENTRAL_MONITORING_NAMESPACE, pullSecret: pullSecretFor(cfg, s.secrets) }, s.opts);
    const monNodeNs = new PlatformNamespace(
        `${cluster}-monitoring-node`,
        {
            namespace: nodeExporterNamespace(CENTRAL_MONITORING_NAMESPACE),
            podSecurity: "privileged",
            podSecurityReason: "node-exporter reads the host: hostNetwork, hostPID and hostPath mounts",
            pullSecret: pullSecretFor(cfg, s.secrets),
        },
        s.opts,
    );
    // The pair's own kubelet, cAdvisor, kube-state-metrics and node-exporter scrapes keep the used metrics only.
    const infra = centralInfraRelabelings(m.prometheus.keepMetrics);
    const monitoring = new CentralMonitoring(
        `${cluster}-monitoring`,
        {
            namespace: monNs.name,
            namespaceName: CENTRAL_MONITORING_NAMESPACE,
            cluster,
            storageClass: cfg.kubernetes.storageClass,
            imagePullSecrets: monNs.imagePullSecrets,
            registryMirror: s.mirror,
            prometheus: m.prometheus,
            infraRelabelings: { kubelet: infra.kubelet, cadvisor: infra.cadvisor, kubeStateMetrics: infra["kube-state-metrics"] },
            alertmanager: m.alertmanager,
            grafanaAdminPasswordGeneration: c.rotation.grafanaAdmin,
            alertmanagerConfig: pulumi.secret(
                pulumi
                    .all(Object.fromEntries(webhookSecretKeys(c).map((k) => [k, pulumi.output(s.secrets[k] as pulumi.Input<string>)])))
                    .apply((urls) => renderAlertmanagerConfig(m.alerting, urls as Record<string, string>)),
            ),
            remoteWrite: {
                url: pipeline.receive.internalRemoteWriteUrl,
                caCertPem: pipeline.pki.caCertPem,
                certPem: pipeline.pki.writerCredentials.apply((cr) => cr[cluster].certPem),
                keyPem: pulumi.secret(pipeline.pki.writerCredentials.apply((cr) => cr[cluster].keyPem)),
            },
            queryFrontendUrl: pipeline.frontend.httpUrl,
            grafanaHostname: m.grafana.hostname,
            dashboards: dashboards(platformNamespaces),
            // The certificates cluster-01 mounts: the remote-write CA and server certificate, its own client
            // certificate, OpenSearch's. The edges publish their client certificates' themselves.
            selfMonitoringRules: pulumi
                // NotAfter is no secret; the credentials it comes with are.
                .all([
                    pipeline.pki.expiries,
                    pulumi.unsecret(pipeline.pki.writerCredentials.apply((cr) => cr[cluster].notAfter)),
                    logStore.expiries,
                    pulumi.unsecret(pipeline.pki.writerCredentials.apply((cr) => externalWriterIds(c).map((id) => ({ certificate: "remote-write-client", writer: id, notAfter: cr[id].notAfter })))),
                ])
                .apply(([pki, ownClient, logsCerts, externalClients]) =>
                    selfMonitoringRuleGroups(
                        {
                            thanosJobs: THANOS_JOBS,
                            namespaces: platformNamespaces,
                            alertmanager: { job: ALERTMANAGER_JOB, replicas: m.alertmanager.replicas },
                            runbookBaseUrl: m.alerting.runbookBaseUrl,
                        },
                        // An external writer's certificate as issued here: no stack of this program mounts it (README,
                        // "An existing Prometheus as a writer": after a renewal its files must be copied).
                        [...pki, { certificate: "remote-write-client", writer: cluster, notAfter: ownClient }, ...logsCerts, ...externalClients],
                    ),
                ),
            thanosNamespace: c.namespace,
            logShipperNamespace: LOG_SHIPPER_NAMESPACE,
            logStoreNamespace: c.logs.namespace,
            alertSenders: ingressPeers(flows, w.alertmanager, "alerts"),
            queryFrontend: egressPeers(flows, w.grafana, "query"),
            metricsScrapers: ingressPeers(flows, w.grafana, "metrics"),
            webhookCidrs: externalCidrs(flows, w.alertmanager, "webhooks"),
            entityEgress: {
                operator: entityEgress(flows, w.operator),
                kubeStateMetrics: entityEgress(flows, w.kubeStateMetrics),
                grafana: entityEgress(flows, w.grafana),
            },
        },
        { ...s.opts, dependsOn: [monNs, monNodeNs] },
    );
    new NodeExporter(`${cluster}-node-exporter`, { namespace: monNodeNs.name, registryMirror: s.mirror, serviceMonitor: true, metricRelabelings: infra["node-exporter"] }, s.opts);
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
        s.opts,
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
            queryAddress: `${QUERY_NAME}.${c.namespace}.svc.cluster.local:${THANOS_PORTS.http}`,
            alertmanagerUrl: monitoring.alertmanagerUrl,
            // Query is not exposed: an alert's link opens its expression in Grafana's Explore (behind Grafana's login).
            alertLink: grafanaExploreLink(grafana.url, THANOS_DATASOURCE_UID),
            query: egressPeers(flows, w.ruler, "query"),
            alertmanagers: egressPeers(flows, w.ruler, "alerts"),
            alertmanagerPort: ALERTMANAGER_PORT,
            metricsScrapers: ingressPeers(flows, w.ruler, "metrics"),
            tracing: tracingOf(s, w.ruler),
        },
        s.opts,
    );
    return { grafanaUrl: grafana.url, grafanaAdminPassword: monitoring.grafanaAdminPassword };
}

/** OpenSearch for every cluster's logs, Dashboards behind a gateway, and this cluster's own Fluent Bit. */
function centralLogs(s: Central, gatewayClass: { gatewayClassName: string; clusterIssuer?: string }) {
    const { c, w, flows, cluster, cfg } = s;
    const logNs = new PlatformNamespace(`${cluster}-logging`, { namespace: c.logs.namespace, pullSecret: pullSecretFor(cfg, s.secrets) }, s.opts);
    const store = new LogStore(
        `${cluster}-logs`,
        {
            namespace: logNs.name,
            namespaceName: c.logs.namespace,
            clusters: [...new Set(c.writers.map((wr) => wr.cluster))],
            passwordGenerations: c.rotation.logs,
            adminPasswordGeneration: c.rotation.openSearchAdmin,
            hostname: c.logs.hostname,
            loadBalancerIP: c.logs.loadBalancerIP,
            retentionDays: c.logs.retentionDays,
            replicas: c.logs.replicas,
            storageClass: cfg.kubernetes.storageClass,
            storageSize: c.logs.storageSize,
            heapSize: c.logs.heapSize,
            registryMirror: s.mirror,
            imagePullSecrets: logNs.imagePullSecrets,
            image: imageName(images.openSearch, s.mirror),
            exporterImage: imageName(images.openSearchExporter, s.mirror),
            exporterVersion: images.openSearchExporter.tag,
            metricsScrapers: ingressPeers(flows, w.openSearchExporter, "metrics"),
            httpClients: {
                cidrs: externalSources(flows, w.openSearch, "logs"),
                peers: [...ingressPeers(flows, w.openSearch, "logs"), ...ingressPeers(flows, w.openSearch, "logs-search"), ...ingressPeers(flows, w.openSearch, "logs-admin")],
            },
        },
        s.opts,
    );
    const ui = new LogDashboards(
        `${cluster}-logs-dashboards`,
        {
            namespace: logNs.name,
            openSearchUrl: `https://${store.internalEndpoint}`,
            caCertPem: store.caCertPem,
            serverCredential: store.dashboardsServerCredential,
            publicUrl: `https://${c.logs.dashboards.hostname}/`,
            openSearchPods: egressPeers(flows, w.dashboards, "logs-search"),
            registryMirror: s.mirror,
            imagePullSecrets: logNs.imagePullSecrets,
        },
        s.opts,
    );
    const gateway = new HttpsGateway(
        `${cluster}-logs-dashboards-gateway`,
        {
            app: DASHBOARDS_NAME,
            namespace: logNs.name,
            hostname: c.logs.dashboards.hostname,
            gatewayClassName: gatewayClass.gatewayClassName,
            clusterIssuer: gatewayClass.clusterIssuer,
            loadBalancerIP: c.logs.dashboards.loadBalancerIP,
            serviceName: ui.serviceName,
            servicePort: ui.servicePort,
            podSelector: ui.podSelector,
            targetPort: DASHBOARDS_PORT,
        },
        s.opts,
    );
    const shipperNs = logShipperNamespace(cfg, s.secrets, s.opts);
    new LogShipper(
        `${cluster}-fluent-bit`,
        {
            namespace: shipperNs.name,
            cluster,
            tenantOfNamespace: {},
            endpoint: store.internalEndpoint,
            caCertPem: store.caCertPem,
            credential: store.credentials.apply((cr) => cr[cluster]),
            registryMirror: s.mirror,
            imagePullSecrets: shipperNs.imagePullSecrets,
            metricsScrapers: ingressPeers(flows, w.fluentBit, "metrics"),
            destination: { peers: egressPeers(flows, w.fluentBit, "logs") },
            entityEgress: entityEgress(flows, w.fluentBit),
        },
        s.opts,
    );
    return { store, dashboardsUrl: gateway.url };
}
