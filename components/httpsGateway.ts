import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface HttpsGatewayArgs {
    /** Names the Gateway, the route, the policy and the certificate Secret (`<app>-tls`). */
    readonly app: string;
    readonly namespace: pulumi.Input<string>;
    readonly hostname: string;
    /** GatewayClass (Cilium's is `cilium`). */
    readonly gatewayClassName: string;
    /** cert-manager ClusterIssuer; without it the Secret `<app>-tls` must exist in the namespace. */
    readonly clusterIssuer?: string;
    readonly loadBalancerIP?: string;
    readonly serviceName: string;
    readonly servicePort: number;
    /** The backend pods' selector and container port, for the Cilium policy that lets the Gateway's proxy in. */
    readonly podSelector: Record<string, string>;
    readonly targetPort: number;
}

/** The Secret a Gateway's HTTPS listener serves (issued by cert-manager's gateway-shim when a ClusterIssuer is set). */
export function tlsSecretName(app: string): string {
    return `${app}-tls`;
}

/**
 * The one way in from outside the cluster for a UI with its own login (Grafana, OpenSearch Dashboards): a Gateway API
 * Gateway (HTTPS, TLS terminated at the Gateway with a certificate for the configured hostname) and an HTTPRoute to
 * the UI's Service. Backends without authentication (the Query Frontend) are never routed.
 *
 * Under Cilium the Gateway's Envoy reaches the backend as the reserved `ingress` identity, which a Kubernetes
 * NetworkPolicy cannot name: a CiliumNetworkPolicy lets exactly that identity reach the backend's port.
 */
export class HttpsGateway extends pulumi.ComponentResource {
    public readonly url: string;

    constructor(name: string, args: HttpsGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:network:HttpsGateway", name, {}, opts);
        const labels = { "app.kubernetes.io/part-of": "agent-receiver", "app.kubernetes.io/managed-by": "pulumi" };
        this.url = `https://${args.hostname}/`;
        const gateway = new k8s.apiextensions.CustomResource(
            `${name}-gateway`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "Gateway",
                metadata: {
                    name: args.app,
                    namespace: args.namespace,
                    labels,
                    // cert-manager's gateway-shim issues the listener's certificate into the listener's Secret.
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
                            tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: tlsSecretName(args.app) }] },
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
                metadata: { name: args.app, namespace: args.namespace, labels },
                spec: {
                    parentRefs: [{ name: args.app, sectionName: "https" }],
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
                metadata: { name: `${args.app}-from-gateway`, namespace: args.namespace, labels },
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
