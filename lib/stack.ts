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
import { ThanosQuery, QUERY_NAME } from "../components/thanosQuery";
import { ThanosQueryFrontend, QUERY_FRONTEND_NAME } from "../components/thanosQueryFrontend";
import { RECEIVE_NAME, ThanosReceive } from "../components/thanosReceive";
import { STORE_NAME, ThanosStoreGateway } from "../components/thanosStoreGateway";
import { CentralConfig, StackConfig, writerIds } from "./config";
import { dnsSrv } from "./thanos";
import { imageName, images } from "./versions";

/** Secret config values (set by the operator with `pulumi config set --secret`). */
export interface StackSecrets {
    readonly minioPassword?: pulumi.Input<string>;
    readonly registryPassword?: pulumi.Input<string>;
}

/** Namespace of the central Prometheus, Alertmanager and Grafana (kube-prometheus-stack). */
export const CENTRAL_MONITORING_NAMESPACE = "monitoring";

/** Names of the stack outputs the edges read through the stack reference: the contract between stacks. */
export const CENTRAL_OUTPUTS = {
    remoteWriteUrl: "receiveRemoteWriteUrl",
    caCertPem: "receiveCaCertPem",
    writers: "writers",
    writerCredentials: "writerCredentials",
} as const;

export function buildStack(cfg: StackConfig, secrets: StackSecrets): Record<string, unknown> {
    const provider = new k8s.Provider(`${cfg.clusterName}-k8s`, {
        context: cfg.kubernetes.context,
        enableServerSideApply: true,
        renderYamlToDirectory: cfg.kubernetes.renderYamlToDirectory,
    });
    if (cfg.role === "central") return buildCentral(cfg, cfg.central as CentralConfig, secrets, provider);
    throw new Error(`role ${cfg.role} is handled by the edge wiring`);
}

function pullSecretFor(cfg: StackConfig, secrets: StackSecrets) {
    const ps = cfg.images.pullSecret;
    if (!ps) return undefined;
    if (secrets.registryPassword === undefined) throw new Error("registryPassword is required with images.pullSecret");
    return { registry: ps.registry, username: ps.username, password: secrets.registryPassword };
}

function nsPeer(namespace: string, podLabels?: Record<string, string>): k8s.types.input.networking.v1.NetworkPolicyPeer {
    return {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
        ...(podLabels ? { podSelector: { matchLabels: podLabels } } : {}),
    };
}

function buildCentral(cfg: StackConfig, c: CentralConfig, secrets: StackSecrets, provider: k8s.Provider): Record<string, unknown> {
    if (secrets.minioPassword === undefined) throw new Error("minioPassword is required on the central stack");
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
    const queryClients = [byName(QUERY_FRONTEND_NAME), byName(RECEIVE_NAME), nsPeer(CENTRAL_MONITORING_NAMESPACE)];

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

    const queryUrl = `http://${QUERY_NAME}.${c.namespace}.svc.cluster.local:10902`;
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

    return {
        clusterName: cluster,
        role: cfg.role,
        [CENTRAL_OUTPUTS.remoteWriteUrl]: receive.remoteWriteUrl,
        [CENTRAL_OUTPUTS.caCertPem]: pki.caCertPem,
        [CENTRAL_OUTPUTS.writers]: writers,
        [CENTRAL_OUTPUTS.writerCredentials]: pki.writerCredentials,
        queryFrontendUrl: frontend.httpUrl,
        bucket: bucket.bucketName,
        hashring: receive.hashring,
    };
}
