import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import type { CertificateExpiry } from "../lib/certificates";
import { createHash } from "crypto";
import { stringify } from "yaml";
import { logIndexPrefix } from "../lib/fluentBitConfig";
import { hardenedContainer, restrictedPodSecurityContext } from "../lib/k8s";
import { generationName } from "../lib/rotation";
import { OpenSearchExporter } from "./openSearchExporter";
import { charts, pinnedChartArgs } from "../lib/versions";

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export interface LogStoreArgs {
    readonly namespace: pulumi.Input<string>;
    readonly namespaceName: string;
    /** Clusters whose Fluent Bit writes here; each gets its own user, allowed to write `logs-<cluster>-*` only. */
    readonly clusters: string[];
    /** Password generation per cluster; raising one replaces that cluster's password. Default 0. */
    readonly passwordGenerations?: Record<string, number>;
    /** Rotation generation of the admin password (`central.rotation.openSearchAdmin`). */
    readonly adminPasswordGeneration?: number;
    /** Name the edges use (on the HTTP certificate), and an optional fixed LoadBalancer IP. */
    readonly hostname: string;
    readonly loadBalancerIP?: string;
    readonly retentionDays: number;
    readonly replicas: number;
    readonly storageClass: string;
    readonly storageSize: string;
    readonly heapSize: string;
    readonly registryMirror?: string;
    readonly imagePullSecrets?: { name: string }[];
    /** Image that runs the one-shot configuration Job (the OpenSearch image itself: it has securityadmin.sh and curl). */
    readonly image: string;
    /** The metrics exporter's image and version (see `OpenSearchExporter`). */
    readonly exporterImage: string;
    readonly exporterVersion: string;
    readonly metricsScrapers: Peer[];
    /** Who may use the HTTP API: the edges' ranges (through the LoadBalancer) and in-cluster clients. */
    readonly httpClients: { readonly cidrs: string[]; readonly peers: Peer[] };
}

export interface LogCredential {
    readonly username: string;
    readonly password: string;
}

export const OPENSEARCH_SERVICE = "opensearch-cluster-master";
export const OPENSEARCH_PORT = 9200;
export const OPENSEARCH_TRANSPORT_PORT = 9300;
const TRANSPORT_PORT = OPENSEARCH_TRANSPORT_PORT;
const TLS_SECRET = "opensearch-tls";
/** The admin client certificate and key, for the configure Job only. */
export const ADMIN_TLS_SECRET = "opensearch-admin-tls";
const SECURITY_SECRET = "opensearch-security-config";
const ADMIN_DN = "CN=opensearch-admin,O=agent-receiver";
const NODE_DN = "CN=opensearch-node,O=agent-receiver";
const CERT_DIR = "/usr/share/opensearch/config/certs";
export const ISM_POLICY_ID = "logs-retention";
/** The metrics exporter's user: read-only cluster monitoring, no index data. */
export const EXPORTER_USER = "metrics-exporter";
const EXPORTER_ROLE = "metrics-reader";
/** OpenSearch Dashboards' server user, mapped to the security plugin's reserved `kibana_server` role. */
export const DASHBOARDS_SERVER_USER = "dashboards-server";

/**
 * Pod and container security of the OpenSearch project's images (OpenSearch, Dashboards), as chart values: they run as
 * uid 1000 and write under their home, so the root filesystem stays writable (README, exceptions); the rest is
 * Pod Security `restricted`.
 */
export const OPENSEARCH_IMAGE_SECURITY = {
    podSecurityContext: { fsGroup: 1000, runAsUser: 1000, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    },
};

/** The ISM policy: every `logs-*` index is deleted `retentionDays` after creation. */
export function ismPolicy(retentionDays: number): Record<string, unknown> {
    return {
        policy: {
            description: `Delete container log indices after ${retentionDays} days (agent-receiver:central.logs.retentionDays).`,
            default_state: "hot",
            states: [
                { name: "hot", actions: [], transitions: [{ state_name: "delete", conditions: { min_index_age: `${retentionDays}d` } }] },
                { name: "delete", actions: [{ delete: {} }], transitions: [] },
            ],
            ism_template: [{ index_patterns: ["logs-*"], priority: 100 }],
        },
    };
}

/** The security plugin's files. Users carry bcrypt hashes only; passwords stay in Pulumi secrets. */
export function securityConfigFiles(
    adminHash: string,
    writers: { cluster: string; username: string; hash: string }[],
    exporterHash: string,
    dashboardsHash: string,
): Record<string, string> {
    const meta = (type: string) => ({ _meta: { type, config_version: 2 } });
    return {
        "config.yml": stringify({
            ...meta("config"),
            config: {
                dynamic: {
                    http: { anonymous_auth_enabled: false },
                    authc: {
                        basic_internal_auth_domain: {
                            http_enabled: true,
                            transport_enabled: true,
                            order: 0,
                            http_authenticator: { type: "basic", challenge: true },
                            authentication_backend: { type: "intern" },
                        },
                    },
                },
            },
        }),
        "internal_users.yml": stringify({
            ...meta("internalusers"),
            admin: { hash: adminHash, reserved: true, backend_roles: ["admin"], description: "Operators (generated password)" },
            ...Object.fromEntries(writers.map((w) => [w.username, { hash: w.hash, reserved: true, description: `Fluent Bit of ${w.cluster}` }])),
            [EXPORTER_USER]: { hash: exporterHash, reserved: true, description: "Prometheus exporter (cluster health and node stats)" },
            [DASHBOARDS_SERVER_USER]: { hash: dashboardsHash, reserved: true, description: "OpenSearch Dashboards server" },
        }),
        "roles.yml": stringify({
            ...meta("roles"),
            ...Object.fromEntries(
                writers.map((w) => [
                    `log-writer-${w.cluster}`,
                    {
                        reserved: true,
                        cluster_permissions: ["cluster_monitor", "indices:data/write/bulk"],
                        // Write and create its own indices; no read (`crud` would let one cluster's shipper read its logs back).
                        index_permissions: [{ index_patterns: [`${logIndexPrefix(w.cluster)}-*`], allowed_actions: ["write", "create_index"] }],
                    },
                ]),
            ),
            // Cluster health, node stats and `GET /`: the exporter's default collectors, nothing that reads logs.
            [EXPORTER_ROLE]: { reserved: true, cluster_permissions: ["cluster_monitor"] },
        }),
        "roles_mapping.yml": stringify({
            ...meta("rolesmapping"),
            all_access: { reserved: true, backend_roles: ["admin"] },
            ...Object.fromEntries(writers.map((w) => [`log-writer-${w.cluster}`, { reserved: true, users: [w.username] }])),
            [EXPORTER_ROLE]: { reserved: true, users: [EXPORTER_USER] },
            kibana_server: { reserved: true, users: [DASHBOARDS_SERVER_USER] },
        }),
        "action_groups.yml": stringify(meta("actiongroups")),
        "tenants.yml": stringify(meta("tenants")),
    };
}

/** Helm values for the pinned opensearch chart (checked against its defaults by the tests). */
export function openSearchValues(a: LogStoreArgs): Record<string, unknown> {
    const heap = a.heapSize.replace(/Gi$/, "g").replace(/Mi$/, "m");
    const heapGi = a.heapSize.endsWith("Gi") ? Number(a.heapSize.slice(0, -2)) : Number(a.heapSize.slice(0, -2)) / 1024;
    return {
        replicas: a.replicas,
        image: a.registryMirror ? { repository: `${a.registryMirror}/docker.io/opensearchproject/opensearch` } : {},
        imagePullSecrets: a.imagePullSecrets ?? [],
        opensearchJavaOpts: `-Xms${heap} -Xmx${heap}`,
        resources: { requests: { cpu: "500m", memory: `${heapGi * 2}Gi` }, limits: { memory: `${heapGi * 2}Gi` } },
        // No root init container to chown the volume: fsGroup does it, and restricted Pod Security forbids root.
        persistence: { enabled: true, enableInitChown: false, storageClass: a.storageClass, size: a.storageSize },
        antiAffinity: "hard",
        config: {
            "opensearch.yml": stringify({
                "cluster.name": "opensearch-cluster",
                "network.host": "0.0.0.0",
                // Without mmap the vm.max_map_count bootstrap check does not apply, so no privileged sysctl init
                // container is needed and the namespace stays at Pod Security `restricted`.
                "node.store.allow_mmap": false,
                "plugins.security.ssl.transport.pemcert_filepath": "certs/tls.crt",
                "plugins.security.ssl.transport.pemkey_filepath": "certs/tls.key",
                "plugins.security.ssl.transport.pemtrustedcas_filepath": "certs/ca.crt",
                "plugins.security.ssl.transport.enforce_hostname_verification": false,
                "plugins.security.ssl.http.enabled": true,
                "plugins.security.ssl.http.pemcert_filepath": "certs/tls.crt",
                "plugins.security.ssl.http.pemkey_filepath": "certs/tls.key",
                "plugins.security.ssl.http.pemtrustedcas_filepath": "certs/ca.crt",
                "plugins.security.allow_default_init_securityindex": true,
                "plugins.security.authcz.admin_dn": [ADMIN_DN],
                "plugins.security.nodes_dn": [NODE_DN],
                "plugins.security.audit.type": "internal_opensearch",
            }),
        },
        // The image installs demo certificates and a demo admin unless told not to.
        extraEnvs: [{ name: "DISABLE_INSTALL_DEMO_CONFIG", value: "true" }],
        secretMounts: [{ name: "certs", secretName: TLS_SECRET, path: CERT_DIR }],
        securityConfig: { enabled: true, config: { securityConfigSecret: SECURITY_SECRET, dataComplete: true } },
        ...OPENSEARCH_IMAGE_SECURITY,
        sysctlInit: { enabled: false },
    };
}

/**
 * OpenSearch (official chart, pinned) for every cluster's container logs: security plugin on, TLS on HTTP and
 * transport with a private CA, a generated admin password, one user per cluster that may only write its own
 * `logs-<cluster>-*` indices, and an index lifecycle policy that deletes indices after the configured retention.
 * Edges reach it through a LoadBalancer Service (TLS passthrough to OpenSearch itself).
 */
export class LogStore extends pulumi.ComponentResource {
    public readonly caCertPem: pulumi.Output<string>;
    /** `host:port` for Fluent Bit outside the cluster, and inside it. */
    public readonly endpoint: string;
    public readonly internalEndpoint: string;
    /** cluster → credential; secret. */
    public readonly credentials: pulumi.Output<Record<string, LogCredential>>;
    public readonly adminPassword: pulumi.Output<string>;
    /** NotAfter of the logs CA, the node certificate (HTTP and transport) and the admin client certificate. */
    public readonly expiries: pulumi.Output<CertificateExpiry[]>;
    /** OpenSearch Dashboards' server user; secret. */
    public readonly dashboardsServerCredential: pulumi.Output<{ username: string; password: string }>;

    constructor(name: string, args: LogStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:logs:LogStore", name, {}, opts);
        const ns = args.namespace;
        const labels = { "app.kubernetes.io/part-of": "agent-receiver", "app.kubernetes.io/managed-by": "pulumi" };
        this.endpoint = `${args.hostname}:${OPENSEARCH_PORT}`;
        this.internalEndpoint = `${OPENSEARCH_SERVICE}.${args.namespaceName}.svc.cluster.local:${OPENSEARCH_PORT}`;

        // PKI: a CA, one node certificate (HTTP and transport), and the admin client certificate securityadmin uses.
        const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "RSA", rsaBits: 3072 }, { parent: this });
        const ca = new tls.SelfSignedCert(
            `${name}-ca`,
            {
                privateKeyPem: caKey.privateKeyPem,
                isCaCertificate: true,
                subject: { commonName: "agent-receiver logs CA", organization: "agent-receiver" },
                validityPeriodHours: 87600,
                earlyRenewalHours: 24 * 365,
                allowedUses: ["cert_signing", "crl_signing"],
            },
            { parent: this },
        );
        this.caCertPem = ca.certPem;
        const leaf = (id: string, cn: string, uses: string[], dnsNames?: string[], ipAddresses?: string[]) => {
            const key = new tls.PrivateKey(`${name}-${id}-key`, { algorithm: "RSA", rsaBits: 2048 }, { parent: this });
            const csr = new tls.CertRequest(
                `${name}-${id}-csr`,
                { privateKeyPem: key.privateKeyPem, subject: { commonName: cn, organization: "agent-receiver" }, dnsNames, ipAddresses },
                { parent: this },
            );
            const cert = new tls.LocallySignedCert(
                `${name}-${id}-cert`,
                {
                    certRequestPem: csr.certRequestPem,
                    caPrivateKeyPem: caKey.privateKeyPem,
                    caCertPem: ca.certPem,
                    validityPeriodHours: 8760,
                    earlyRenewalHours: 24 * 30,
                    allowedUses: ["digital_signature", "key_encipherment", ...uses],
                },
                { parent: this },
            );
            // OpenSearch reads PKCS#8 keys only.
            return { certPem: cert.certPem, keyPem: key.privateKeyPemPkcs8, notAfter: cert.validityEndTime };
        };
        const svc = (n: string) => [n, `${n}.${args.namespaceName}.svc`, `${n}.${args.namespaceName}.svc.cluster.local`];
        const node = leaf(
            "node",
            "opensearch-node",
            ["server_auth", "client_auth"],
            [args.hostname, ...svc(OPENSEARCH_SERVICE), ...svc(`${OPENSEARCH_SERVICE}-headless`), `*.${OPENSEARCH_SERVICE}-headless.${args.namespaceName}.svc.cluster.local`],
            args.loadBalancerIP ? [args.loadBalancerIP] : undefined,
        );
        const admin = leaf("admin", "opensearch-admin", ["client_auth"]);
        this.expiries = pulumi.all([ca.validityEndTime, node.notAfter, admin.notAfter]).apply(([caEnd, nodeEnd, adminEnd]) => [
            { certificate: "logs-ca", notAfter: caEnd },
            { certificate: "logs-node", notAfter: nodeEnd },
            { certificate: "logs-admin", notAfter: adminEnd },
        ]);
        const tlsSecret = new k8s.core.v1.Secret(
            `${name}-tls`,
            {
                metadata: { name: TLS_SECRET, namespace: ns, labels },
                stringData: {
                    "ca.crt": ca.certPem,
                    "tls.crt": node.certPem,
                    "tls.key": pulumi.secret(node.keyPem),
                },
            },
            { parent: this },
        );
        // The admin client certificate (superuser through the security plugin) lives apart, mounted by the configure
        // Job only: no OpenSearch pod needs it.
        const adminTlsSecret = new k8s.core.v1.Secret(
            `${name}-admin-tls`,
            {
                metadata: { name: ADMIN_TLS_SECRET, namespace: ns, labels },
                stringData: { "ca.crt": ca.certPem, "admin.crt": admin.certPem, "admin.key": pulumi.secret(admin.keyPem) },
            },
            { parent: this },
        );

        const adminPassword = new random.RandomPassword(generationName(`${name}-admin-password`, args.adminPasswordGeneration), { length: 32, special: false }, { parent: this });
        this.adminPassword = pulumi.secret(adminPassword.result);
        const writers = args.clusters.map((cluster) => ({
            cluster,
            username: `fluent-bit-${cluster}`,
            password: new random.RandomPassword(generationName(`${name}-writer-${cluster}`, args.passwordGenerations?.[cluster]), { length: 32, special: false }, { parent: this }),
        }));
        this.credentials = pulumi.secret(
            pulumi.all(writers.map((w) => w.password.result)).apply((ps) => Object.fromEntries(writers.map((w, i) => [w.cluster, { username: w.username, password: ps[i] }]))),
        );
        const exporterPassword = new random.RandomPassword(`${name}-exporter-password`, { length: 32, special: false }, { parent: this });
        const dashboardsPassword = new random.RandomPassword(`${name}-dashboards-password`, { length: 32, special: false }, { parent: this });
        this.dashboardsServerCredential = pulumi.secret(dashboardsPassword.result.apply((password) => ({ username: DASHBOARDS_SERVER_USER, password })));
        const files = pulumi
            .all([adminPassword.bcryptHash, exporterPassword.bcryptHash, dashboardsPassword.bcryptHash, ...writers.map((w) => w.password.bcryptHash)])
            .apply(([adminHash, exporterHash, dashboardsHash, ...hashes]) =>
                securityConfigFiles(adminHash, writers.map((w, i) => ({ cluster: w.cluster, username: w.username, hash: hashes[i] })), exporterHash, dashboardsHash),
            );
        const securitySecret = new k8s.core.v1.Secret(
            `${name}-security-config`,
            { metadata: { name: SECURITY_SECRET, namespace: ns, labels }, stringData: pulumi.secret(files) },
            { parent: this },
        );

        const chart = new k8s.helm.v4.Chart(
            `${name}-chart`,
            { ...pinnedChartArgs(charts.openSearch, ns, openSearchValues(args)), name: "opensearch" },
            { parent: this, dependsOn: [tlsSecret, securitySecret] },
        );
        const selector = { "app.kubernetes.io/name": "opensearch" };

        new k8s.core.v1.Service(
            `${name}-external`,
            {
                metadata: {
                    name: "opensearch-external",
                    namespace: ns,
                    labels,
                    annotations: args.loadBalancerIP ? { "lbipam.cilium.io/ips": args.loadBalancerIP } : undefined,
                },
                spec: {
                    type: "LoadBalancer",
                    // Only the edges' ranges, enforced at the LoadBalancer; the client address is kept for the
                    // NetworkPolicy (and OpenSearch's audit log).
                    loadBalancerSourceRanges: args.httpClients.cidrs,
                    externalTrafficPolicy: "Local",
                    selector,
                    ports: [{ name: "https", port: OPENSEARCH_PORT, targetPort: OPENSEARCH_PORT, protocol: "TCP" }],
                },
            },
            { parent: this },
        );

        // Applies the security files (users, roles) and the lifecycle policy. securityadmin reads the files only at
        // first start otherwise; the Job's name carries a hash so that a change (a new cluster, a rotated password,
        // another retention) runs it again.
        const policy = JSON.stringify(ismPolicy(args.retentionDays));
        const jobHash = files.apply((f) => createHash("sha256").update(JSON.stringify(f) + policy).digest("hex").slice(0, 10));
        const base = `https://${OPENSEARCH_SERVICE}:${OPENSEARCH_PORT}`;
        const curl = `curl -sf --cacert ${CERT_DIR}/ca.crt --cert ${CERT_DIR}/admin.crt --key ${CERT_DIR}/admin.key -H 'Content-Type: application/json'`;
        const script = [
            "set -eu",
            `until ${curl} ${base}/_cluster/health >/dev/null; do echo waiting for OpenSearch; sleep 10; done`,
            `/usr/share/opensearch/plugins/opensearch-security/tools/securityadmin.sh -cd /security -icl -nhnv -h ${OPENSEARCH_SERVICE} -cacert ${CERT_DIR}/ca.crt -cert ${CERT_DIR}/admin.crt -key ${CERT_DIR}/admin.key`,
            // Create the policy, or update it in place with the sequence numbers OpenSearch requires.
            `if current=$(${curl} ${base}/_plugins/_ism/policies/${ISM_POLICY_ID}); then`,
            `  seq=$(echo "$current" | sed -n 's/.*"_seq_no":\\([0-9]*\\).*/\\1/p'); term=$(echo "$current" | sed -n 's/.*"_primary_term":\\([0-9]*\\).*/\\1/p')`,
            `  ${curl} -X PUT "${base}/_plugins/_ism/policies/${ISM_POLICY_ID}?if_seq_no=$seq&if_primary_term=$term" -d "$POLICY"`,
            "else",
            `  ${curl} -X PUT ${base}/_plugins/_ism/policies/${ISM_POLICY_ID} -d "$POLICY"`,
            "fi",
        ].join("\n");
        new k8s.batch.v1.Job(
            `${name}-configure`,
            {
                metadata: { name: jobHash.apply((h) => `opensearch-configure-${h}`), namespace: ns, labels },
                spec: {
                    backoffLimit: 20,
                    // No ttlSecondsAfterFinished: a Job the TTL controller deletes would show as drift and be re-created.
                    template: {
                        metadata: { labels: { ...labels, "app.kubernetes.io/name": "opensearch-configure" } },
                        spec: {
                            restartPolicy: "OnFailure",
                            automountServiceAccountToken: false,
                            imagePullSecrets: args.imagePullSecrets,
                            securityContext: restrictedPodSecurityContext(1000),
                            containers: [
                                hardenedContainer({
                                    name: "configure",
                                    image: args.image,
                                    command: ["/bin/bash", "-c", script],
                                    env: [{ name: "POLICY", value: policy }],
                                    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
                                    volumeMounts: [
                                        { name: "certs", mountPath: CERT_DIR, readOnly: true },
                                        { name: "security", mountPath: "/security", readOnly: true },
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                }),
                            ],
                            volumes: [
                                { name: "certs", secret: { secretName: ADMIN_TLS_SECRET } },
                                { name: "security", secret: { secretName: SECURITY_SECRET } },
                                { name: "tmp", emptyDir: {} },
                            ],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [chart, adminTlsSecret], deleteBeforeReplace: true },
        );

        const np = (id: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
            new k8s.networking.v1.NetworkPolicy(`${name}-netpol-${id}`, { metadata: { name: id, namespace: ns, labels }, spec }, { parent: this });
        np("opensearch", {
            podSelector: { matchLabels: selector },
            policyTypes: ["Ingress", "Egress"],
            ingress: [
                // Fluent Bit of the edges through the LoadBalancer (their ranges only) and the in-cluster clients; TLS
                // and a per-cluster user authenticate each on top.
                { from: [...args.httpClients.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ...args.httpClients.peers], ports: [{ protocol: "TCP", port: OPENSEARCH_PORT }] },
                { from: [{ podSelector: { matchLabels: selector } }], ports: [{ protocol: "TCP", port: TRANSPORT_PORT }] },
            ],
            egress: [{ to: [{ podSelector: { matchLabels: selector } }], ports: [{ protocol: "TCP", port: TRANSPORT_PORT }] }],
        });
        np("opensearch-configure", {
            podSelector: { matchLabels: { "app.kubernetes.io/name": "opensearch-configure" } },
            policyTypes: ["Egress"],
            // securityadmin.sh and curl use the REST API (securityadmin's default port is 9200): no transport port.
            egress: [{ to: [{ podSelector: { matchLabels: selector } }], ports: [{ protocol: "TCP", port: OPENSEARCH_PORT }] }],
        });

        new OpenSearchExporter(
            `${name}-exporter`,
            {
                namespace: ns,
                image: args.exporterImage,
                version: args.exporterVersion,
                imagePullSecrets: args.imagePullSecrets,
                url: `https://${OPENSEARCH_SERVICE}:${OPENSEARCH_PORT}`,
                caSecret: { name: TLS_SECRET, key: "ca.crt" },
                credential: pulumi.secret(exporterPassword.result.apply((password) => ({ username: EXPORTER_USER, password }))),
                openSearchPods: [{ podSelector: { matchLabels: selector } }],
                metricsScrapers: args.metricsScrapers,
            },
            { parent: this, dependsOn: [tlsSecret] },
        );
        this.registerOutputs({ endpoint: this.endpoint, caCertPem: this.caCertPem });
    }
}
