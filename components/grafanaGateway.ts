import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface GrafanaGatewayArgs {
    readonly namespace: pulumi.Input<string>;
    readonly hostname: string;
    /** GatewayClass (Cilium's is `cilium`). */
    readonly gatewayClassName: string;
    /** cert-manager ClusterIssuer; without it the Secret `tlsSecretName` must exist. */
    readonly clusterIssuer?: string;
    readonly loadBalancerIP?: string;
    readonly serviceName: string;
    readonly servicePort: number;
    /** Grafana pods' selector and container port, for the Cilium policy that lets the Gateway's proxy in. */
    readonly podSelector: Record<string, string>;
    readonly targetPort: number;
}

export const GRAFANA_TLS_SECRET = "grafana-tls";

/**
 * Grafana's one way in from outside the cluster: a Gateway API Gateway (HTTPS, TLS terminated at the Gateway with a
 * certificate for the configured hostname) and an HTTPRoute to Grafana, which asks for its own login. The Query
 * Frontend has no authentication and is not routed.
 *
 * Under Cilium the Gateway's Envoy reaches the backend as the reserved `ingress` identity, which a Kubernetes
 * NetworkPolicy cannot name: a CiliumNetworkPolicy lets exactly that identity reach Grafana's port.
 */
export class GrafanaGateway extends pulumi.ComponentResource {
    public readonly url: string;

    constructor(name: string, args: GrafanaGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:monitoring:GrafanaGateway", name, {}, opts);
        const labels = { "app.kubernetes.io/part-of": "agent-receiver", "app.kubernetes.io/managed-by": "pulumi" };
        this.url = `https://${args.hostname}/`;
        const gateway = new k8s.apiextensions.CustomResource(
            `${name}-gateway`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "Gateway",
                metadata: {
                    name: "grafana",
                    namespace: args.namespace,
                    labels,
                    // cert-manager's gateway-shim issues the listener's certificate into GRAFANA_TLS_SECRET.
                    annotations: args.clusterIssuer ? { "cert-manager.io/cluster-issuer": args.clusterIssuer } : undefined,
                },
                spec: {
                    gatewayClassName: args.gatewayClassName,
                    ...(args.loadBalancerIP ? { infrastructure: { annotations: { "lbipam.cilium.io/ips": args.loadBalancerIP } } } : {}),
                    listeners: [
                        {
                            name: "https",
                            protocol: "HTTPS",
                            port: 443,
                            hostname: args.hostname,
                            tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: GRAFANA_TLS_SECRET }] },
                            allowedRoutes: { namespaces: { from: "Same" } },
                        },
                    ],
                },
            },
            { parent: this },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-route`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: { name: "grafana", namespace: args.namespace, labels },
                spec: {
                    parentRefs: [{ name: "grafana", sectionName: "https" }],
                    hostnames: [args.hostname],
                    rules: [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ name: args.serviceName, port: args.servicePort }] }],
                },
            },
            { parent: this, dependsOn: gateway },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-cilium-ingress`,
            {
                apiVersion: "cilium.io/v2",
                kind: "CiliumNetworkPolicy",
                metadata: { name: "grafana-from-gateway", namespace: args.namespace, labels },
                spec: {
                    endpointSelector: { matchLabels: args.podSelector },
                    ingress: [{ fromEntities: ["ingress"], toPorts: [{ ports: [{ port: String(args.targetPort), protocol: "TCP" }] }] }],
                },
            },
            { parent: this },
        );
        this.registerOutputs({ url: this.url });
    }
}
