import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import { charts, pinnedChartArgs } from "../lib/versions";
import { OPENSEARCH_IMAGE_SECURITY } from "./logStore";

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export interface LogDashboardsArgs {
    readonly namespace: pulumi.Input<string>;
    /** OpenSearch's HTTPS URL inside the cluster, and the CA of its certificate. */
    readonly openSearchUrl: string;
    readonly caCertPem: pulumi.Input<string>;
    /** The Dashboards server's own OpenSearch user (mapped to the reserved `kibana_server` role). */
    readonly serverCredential: pulumi.Input<{ username: string; password: string }>;
    /** Public URL operators use (behind the Gateway), for links Dashboards generates. */
    readonly publicUrl: string;
    readonly openSearchPods: Peer[];
    readonly registryMirror?: string;
    readonly imagePullSecrets?: { name: string }[];
}

export const DASHBOARDS_NAME = "opensearch-dashboards";
export const DASHBOARDS_PORT = 5601;
const CA_SECRET = "opensearch-dashboards-ca";
const ACCOUNT_SECRET = "opensearch-dashboards-account";
const CERT_DIR = "/usr/share/opensearch-dashboards/config/certs";

/** Helm values for the pinned opensearch-dashboards chart (checked against its defaults by the tests). */
export function dashboardsValues(a: LogDashboardsArgs): Record<string, unknown> {
    return {
        fullnameOverride: DASHBOARDS_NAME,
        replicaCount: 1,
        image: a.registryMirror ? { repository: `${a.registryMirror}/docker.io/opensearchproject/opensearch-dashboards` } : {},
        imagePullSecrets: a.imagePullSecrets ?? [],
        opensearchHosts: a.openSearchUrl,
        // Username, password and the session cookie's key, from the program's Secret (env, never in the config file).
        opensearchAccount: { secret: ACCOUNT_SECRET },
        // It does not talk to the Kubernetes API.
        serviceAccount: { automountServiceAccountToken: false },
        rbac: { create: false },
        secretMounts: [{ name: "opensearch-ca", secretName: CA_SECRET, path: CERT_DIR }],
        config: {
            "opensearch_dashboards.yml": stringify({
                "server.name": DASHBOARDS_NAME,
                "server.host": "0.0.0.0",
                "server.publicBaseUrl": a.publicUrl.replace(/\/$/, ""),
                "opensearch.hosts": [a.openSearchUrl],
                "opensearch.ssl.verificationMode": "full",
                "opensearch.ssl.certificateAuthorities": [`${CERT_DIR}/ca.crt`],
                "opensearch.requestHeadersAllowlist": ["authorization", "securitytenant"],
                // Operators log in with OpenSearch users; the session cookie only travels over the Gateway's HTTPS.
                "opensearch_security.cookie.secure": true,
                "opensearch_security.multitenancy.enabled": false,
            }),
        },
        // `cpu: null` deletes the chart's default CPU limit (100m): Helm merges our `limits` into the chart's, and a
        // null value removes a default key. No CPU limit anywhere in this program (throttling a Node.js UI at 100m makes
        // it crawl). @pulumi/kubernetes passes an inline null through to Helm since v4.30 (pulumi-kubernetes#4293).
        resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: null, memory: "1Gi" } },
        ...OPENSEARCH_IMAGE_SECURITY,
    };
}

/**
 * OpenSearch Dashboards (official chart, pinned): where operators search the container logs of every cluster.
 * It reaches OpenSearch over verified TLS as its own server user; people log in with OpenSearch users (the security
 * plugin). It is exposed through an HttpsGateway wired by the stack, like Grafana.
 */
export class LogDashboards extends pulumi.ComponentResource {
    public readonly serviceName = DASHBOARDS_NAME;
    public readonly servicePort = DASHBOARDS_PORT;
    public readonly podSelector = { "app.kubernetes.io/name": DASHBOARDS_NAME };

    constructor(name: string, args: LogDashboardsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:logs:LogDashboards", name, {}, opts);
        const ns = args.namespace;
        const labels = { "app.kubernetes.io/part-of": "agent-receiver", "app.kubernetes.io/managed-by": "pulumi" };

        // Only the CA: OpenSearch's own TLS Secret also holds its private keys.
        const ca = new k8s.core.v1.Secret(`${name}-ca`, { metadata: { name: CA_SECRET, namespace: ns, labels }, stringData: { "ca.crt": args.caCertPem } }, { parent: this });
        // The security plugin needs at least 32 characters to encrypt the session cookie.
        const cookie = new random.RandomPassword(`${name}-cookie-key`, { length: 32, special: false }, { parent: this });
        const account = new k8s.core.v1.Secret(
            `${name}-account`,
            {
                metadata: { name: ACCOUNT_SECRET, namespace: ns, labels },
                stringData: pulumi.secret(
                    pulumi.all([pulumi.output(args.serverCredential), cookie.result]).apply(([c, key]) => ({ username: c.username, password: c.password, cookie: key })),
                ),
            },
            { parent: this },
        );
        new k8s.helm.v4.Chart(
            `${name}-chart`,
            { ...pinnedChartArgs(charts.openSearchDashboards, ns, dashboardsValues(args)), name: DASHBOARDS_NAME },
            { parent: this, dependsOn: [ca, account] },
        );
        new k8s.networking.v1.NetworkPolicy(
            `${name}-netpol`,
            {
                metadata: { name: DASHBOARDS_NAME, namespace: ns, labels },
                spec: {
                    podSelector: { matchLabels: this.podSelector },
                    // Ingress comes from the Gateway's proxy only (the HttpsGateway's CiliumNetworkPolicy).
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [],
                    egress: [{ to: args.openSearchPods, ports: [{ protocol: "TCP", port: 9200 }] }],
                },
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
