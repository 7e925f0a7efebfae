/** An edge stack: Prometheus agents (one per tenant on a shared cluster) writing to the central Receive, Fluent Bit. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KubeStateMetrics } from "../components/kubeStateMetrics";
import { LogShipper } from "../components/logShipper";
import { NodeExporter } from "../components/nodeExporter";
import { PlatformNamespace } from "../components/platformNamespace";
import { AGENT_PATHS, PrometheusAgent, agentSelector } from "../components/prometheusAgent";
import { TenantIsolation, tenantToleration } from "../components/tenantIsolation";
import { renderAgentConfig } from "../lib/agentConfig";
import { certificateTextfile } from "../lib/certificates";
import { OperatorError } from "../lib/errors";
import { EdgeConfig, StackConfig } from "../lib/config";
import { edgeAgentSizing } from "../lib/sizing";
import { tenantNodeSelector } from "../lib/tenancy";
import { imageName, images } from "../lib/versions";
import { edgeWriterIds, readCentral } from "./contract";
import { Workload, edgeNetwork, egressPeers, entityEgress, externalCidrs, ingressPeers } from "./network";
import { LOG_SHIPPER_NAMESPACE, StackSecrets, logShipperNamespace, nodeExporterNamespace, pullSecretFor } from "./shared";

export async function buildEdge(cfg: StackConfig, e: EdgeConfig, secrets: StackSecrets, provider: k8s.Provider): Promise<Record<string, unknown>> {
    const central = await readCentral(cfg, e);
    const cluster = cfg.clusterName;
    const opts: pulumi.ComponentResourceOptions = { providers: { kubernetes: provider } };
    const mirror = cfg.images.registryMirror;
    const pullSecret = pullSecretFor(cfg, secrets);

    const ns = new PlatformNamespace(`${cluster}-monitoring`, { namespace: e.namespace, pullSecret }, opts);
    const imagePullSecrets = ns.imagePullSecrets;
    const nodeNamespace = nodeExporterNamespace(e.namespace);
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

    const scopes =
        e.tenants.length === 0
            ? [{ writer: cluster, tenant: undefined, nodes: undefined, namespaces: [] as string[], placement: undefined }]
            : e.tenants.map((t) => ({
                  writer: `${cluster}-${t.name}`,
                  tenant: t.name,
                  nodes: [...t.nodes],
                  namespaces: [...t.namespaces],
                  placement: { nodeSelector: tenantNodeSelector(t.name), tolerations: [tenantToleration(t.name, e.tenantTaintEffect)] },
              }));

    // Every agent's client certificate expiry, published by node-exporter on every node (each tenant's agent keeps
    // its own writer's series): the figure comes from the same stack output as the certificate this `pulumi up` mounts.
    const expiries = pulumi.unsecret(
        central.credentials.apply((creds) =>
            scopes.map((s) => {
                const notAfter = creds[s.writer]?.notAfter;
                if (!notAfter) {
                    throw new OperatorError(
                        `stack "${cluster}": central stack "${e.centralStack}" exports no certificate expiry for ${s.writer}: it was deployed by an older version of the program. Run pulumi up --stack ${e.centralStack.split("/").pop()} first.`,
                    );
                }
                return { certificate: "remote-write-client", writer: s.writer, notAfter };
            }),
        ),
    );
    new NodeExporter(`${cluster}-node-exporter`, { namespace: nodeNs.name, registryMirror: mirror, imagePullSecrets, textfile: expiries.apply(certificateTextfile) }, opts);

    // Who may talk to whom on this cluster (network.ts); the central LoadBalancers are the contract's addresses.
    const { fluentBit, scopes: scopeWorkloads, flows } = edgeNetwork(cluster, e, { centralStack: e.centralStack, ...central });

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
            metricsScrapers: ingressPeers(flows, fluentBit, "metrics"),
            destination: { cidrs: externalCidrs(flows, fluentBit, "logs") },
            entityEgress: entityEgress(flows, fluentBit),
        },
        opts,
    );

    const agentConfigs: Record<string, string> = {};
    // Memory, shards and shutdown of each agent, from its expected series (lib/sizing.ts); same order as `scopes`.
    const sizing = edgeAgentSizing(e);
    scopes.forEach((s, i) => {
        const size = sizing[i];
        const { suffix, kubeStateMetricsName, w } = scopeWorkloads[i];
        // A tenant's nodes, namespaces and placement first: its agent and kube-state-metrics select its nodes by the
        // label this puts on them, so they wait for it.
        const tenant = e.tenants.find((t) => t.name === s.tenant);
        const isolation = tenant
            ? new TenantIsolation(
                  `${cluster}-tenant-${tenant.name}`,
                  {
                      tenant,
                      taintEffect: e.tenantTaintEffect,
                      legacyNodeLabel: e.legacyTenantNodeLabel,
                      platformNamespace: e.namespace,
                      agentSelector: agentSelector(tenant.name),
                      kubectlImage: imageName(images.kubectl, mirror),
                      taintJobEgress: entityEgress(flows, w.taintJob as Workload),
                      imagePullSecrets,
                      pullSecret,
                  },
                  opts,
              )
            : undefined;
        const ksm = new KubeStateMetrics(
            kubeStateMetricsName,
            {
                namespace: ns.name,
                namespaceName: e.namespace,
                tenant: s.tenant,
                namespaces: s.namespaces,
                nodeSelector: s.placement?.nodeSelector,
                tolerations: s.placement?.tolerations,
                nodeLabels: isolation?.nodeLabels,
                registryMirror: mirror,
                imagePullSecrets,
                // Its own agent only (by the agent's instance labels): a tenant's agent cannot read the other's.
                scrapers: ingressPeers(flows, w.kubeStateMetrics, "metrics"),
                entityEgress: entityEgress(flows, w.kubeStateMetrics),
            },
            opts,
        );
        const config = renderAgentConfig({
            cluster,
            scope: {
                tenant: s.tenant,
                namespaces: s.namespaces,
                kubeStateMetrics: ksm.address,
                nodes: s.nodes,
                logShipperNamespace: LOG_SHIPPER_NAMESPACE,
                otherWriters: scopes.filter((o) => o.writer !== s.writer).map((o) => o.writer),
            },
            scrapeInterval: e.agent.scrapeInterval,
            remoteWriteUrl: central.remoteWriteUrl,
            remoteWrite: { ...e.agent.remoteWrite, shards: size.shards },
            tlsFiles: AGENT_PATHS.tls,
            extraDropMetrics: e.agent.extraDropMetrics,
            keepMetrics: e.agent.keepMetrics,
        });
        new PrometheusAgent(
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
                flushDeadline: size.flushDeadline,
                terminationGracePeriodSeconds: size.terminationGracePeriodSeconds,
                resources: size.resources,
                config,
                credentials: pulumi.secret(central.credentials.apply((c) => c[s.writer])),
                caCertPem: central.caCertPem,
                scope: { tenant: s.tenant, nodes: s.nodes, namespaces: s.namespaces },
                platformScrapeNamespaces: [LOG_SHIPPER_NAMESPACE],
                nodeSelector: s.placement?.nodeSelector,
                tolerations: s.placement?.tolerations,
                nodeLabels: isolation?.nodeLabels,
                scrapePeers: egressPeers(flows, w.agent, "metrics"),
                remoteWriteCidrs: externalCidrs(flows, w.agent, "remote-write"),
                entityEgress: entityEgress(flows, w.agent),
            },
            opts,
        );
        agentConfigs[s.writer] = config;
    });

    return {
        clusterName: cluster,
        role: cfg.role,
        remoteWriteUrl: central.remoteWriteUrl,
        writers: edgeWriterIds(cfg),
        agentConfigs,
    };
}
