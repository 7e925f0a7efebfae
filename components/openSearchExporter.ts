import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { commonLabels, hardenedContainer, restrictedPodSecurityContext, selectorLabels } from "../lib/k8s";

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export interface OpenSearchExporterArgs {
    readonly namespace: pulumi.Input<string>;
    /** prometheus-community elasticsearch_exporter (it documents OpenSearch support). */
    readonly image: string;
    readonly version: string;
    readonly imagePullSecrets?: { name: string }[];
    /** `https://host:port` of the OpenSearch HTTP Service inside the cluster. */
    readonly url: string;
    /** Secret and key holding the CA that signed OpenSearch's HTTP certificate. */
    readonly caSecret: { readonly name: string; readonly key: string };
    /** The exporter's own OpenSearch user; it may monitor the cluster and nothing else. */
    readonly credential: pulumi.Input<{ username: string; password: string }>;
    /** OpenSearch's pods (egress target) and the pods that scrape the exporter. */
    readonly openSearchPods: Peer[];
    readonly metricsScrapers: Peer[];
}

export const OPENSEARCH_EXPORTER_NAME = "opensearch-exporter";
export const OPENSEARCH_EXPORTER_PORT = 9114;
const CA_DIR = "/etc/opensearch-ca";

/**
 * Prometheus metrics for OpenSearch (cluster health, per-node disk, heap, rejected writes). OpenSearch has no
 * Prometheus endpoint of its own without a third-party plugin in the image; the exporter reads the REST API over
 * verified TLS with a user that holds `cluster_monitor` only.
 */
export class OpenSearchExporter extends pulumi.ComponentResource {
    constructor(name: string, args: OpenSearchExporterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:logs:OpenSearchExporter", name, {}, opts);
        const selector = selectorLabels(OPENSEARCH_EXPORTER_NAME, name, "logs-metrics");
        const labels = commonLabels(OPENSEARCH_EXPORTER_NAME, name, "logs-metrics", args.version);

        const credential = pulumi.output(args.credential);
        const secret = new k8s.core.v1.Secret(
            `${name}-credential`,
            {
                metadata: { name: OPENSEARCH_EXPORTER_NAME, namespace: args.namespace, labels },
                stringData: pulumi.secret(credential.apply((c) => ({ ES_USERNAME: c.username, ES_PASSWORD: c.password }))),
            },
            { parent: this },
        );

        const fromSecret = (key: string) => ({ name: key, valueFrom: { secretKeyRef: { name: OPENSEARCH_EXPORTER_NAME, key } } });
        new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name: OPENSEARCH_EXPORTER_NAME, namespace: args.namespace, labels },
                spec: {
                    // One copy: two would double every series; a gap while it restarts is what `up` is for.
                    replicas: 1,
                    selector: { matchLabels: selector },
                    template: {
                        metadata: { labels },
                        spec: {
                            automountServiceAccountToken: false,
                            imagePullSecrets: args.imagePullSecrets,
                            securityContext: restrictedPodSecurityContext(),
                            containers: [
                                hardenedContainer({
                                    name: "exporter",
                                    image: args.image,
                                    args: [
                                        `--es.uri=${args.url}`,
                                        // Every node's disk and heap, not only the node the request lands on.
                                        "--es.all",
                                        `--es.ca=${CA_DIR}/ca.crt`,
                                        // Under Prometheus' 10 s scrape timeout, so a slow OpenSearch yields partial
                                        // metrics instead of a failed scrape.
                                        "--es.timeout=8s",
                                        `--web.listen-address=:${OPENSEARCH_EXPORTER_PORT}`,
                                    ],
                                    env: [fromSecret("ES_USERNAME"), fromSecret("ES_PASSWORD")],
                                    ports: [{ name: "metrics", containerPort: OPENSEARCH_EXPORTER_PORT }],
                                    resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "128Mi" } },
                                    livenessProbe: { httpGet: { path: "/healthz", port: "metrics" }, periodSeconds: 30 },
                                    readinessProbe: { httpGet: { path: "/healthz", port: "metrics" }, periodSeconds: 10 },
                                    volumeMounts: [{ name: "ca", mountPath: CA_DIR, readOnly: true }],
                                }),
                            ],
                            // Only the CA certificate: the same Secret holds OpenSearch's private keys.
                            volumes: [{ name: "ca", secret: { secretName: args.caSecret.name, items: [{ key: args.caSecret.key, path: "ca.crt" }] } }],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [secret] },
        );

        new k8s.networking.v1.NetworkPolicy(
            `${name}-netpol`,
            {
                metadata: { name: OPENSEARCH_EXPORTER_NAME, namespace: args.namespace, labels },
                spec: {
                    podSelector: { matchLabels: selector },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [{ from: args.metricsScrapers, ports: [{ protocol: "TCP", port: OPENSEARCH_EXPORTER_PORT }] }],
                    egress: [{ to: args.openSearchPods, ports: [{ protocol: "TCP", port: 9200 }] }],
                },
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
