/**
 * The objects rendered by a chart that are allowed to break a rule, each naming exactly which part of which rule it
 * waives and why. The README's security section lists every entry (a test checks it).
 *
 * An exemption applies only to an object rendered by a helm.v4 Chart that the named component of this program
 * declares (its URN's parent types end with `<component>$kubernetes:helm.sh/v4:Chart`), of that kind and name: never to an
 * object the program declares itself, and never to the same name from another chart.
 *
 * `exception`: what the workload needs to do its job (README, "Exceptions"). `gap`: a known shortfall of the chart
 * values, not a need; it should be fixed in the values (which changes plans/) and its entry removed.
 */
import type { HardeningCheck, KubernetesObject, RbacField } from "../lib/policyRules";

export interface Exemption {
    /** The program's ComponentResource type whose helm.v4 Chart renders the object. */
    readonly component: string;
    readonly kind: string;
    /** `metadata.name` of the rendered object. */
    readonly name: string;
    readonly waives: { readonly hardenedContainers?: readonly HardeningCheck[]; readonly wildcardRbac?: readonly RbacField[] };
    readonly category: "exception" | "gap";
    /** What the README says about it. */
    readonly what: string;
    readonly reason: string;
}

export const EXEMPTIONS: readonly Exemption[] = [
    {
        component: "agent-receiver:logs:LogShipper",
        kind: "DaemonSet",
        name: "fluent-bit",
        waives: { hardenedContainers: ["runAsNonRoot"] },
        category: "exception",
        what: "Fluent Bit",
        reason: "runs as root (uid 0) to read the nodes' log files (root-owned, mode 0640) through hostPath; every other check holds",
    },
    {
        component: "agent-receiver:monitoring:CentralMonitoring",
        kind: "Deployment",
        name: "kps-grafana",
        waives: { hardenedContainers: ["readOnlyRootFilesystem"] },
        category: "exception",
        what: "Grafana",
        reason: "writes plugins and temporary files under its root filesystem",
    },
    {
        component: "agent-receiver:logs:LogStore",
        kind: "StatefulSet",
        name: "opensearch-cluster-master",
        waives: { hardenedContainers: ["readOnlyRootFilesystem"] },
        category: "exception",
        what: "OpenSearch",
        reason: "the JVM and the plugins write under its home on the root filesystem",
    },
    {
        component: "agent-receiver:logs:LogDashboards",
        kind: "Deployment",
        name: "opensearch-dashboards",
        waives: { hardenedContainers: ["readOnlyRootFilesystem"] },
        category: "exception",
        what: "OpenSearch Dashboards",
        reason: "writes its data directory and bundles under its home on the root filesystem",
    },
    {
        component: "agent-receiver:monitoring:CentralMonitoring",
        kind: "ClusterRole",
        name: "kps-operator",
        waives: { wildcardRbac: ["verbs"] },
        category: "exception",
        what: "Prometheus Operator",
        reason: "verbs * on the Secrets and ConfigMaps it writes (each Prometheus' and Alertmanager's configuration), its StatefulSets and its own custom resources; resources and API groups stay named",
    },
];

/**
 * The component whose helm.v4 Chart rendered the resource at this URN, or undefined when the resource is not a chart's
 * child. A URN is `urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>`; a chart's child's parent types end
 * with `<component>$kubernetes:helm.sh/v4:Chart`.
 */
export function chartComponent(urn: string): string | undefined {
    const types = (urn.split("::")[2] ?? "").split("$");
    return types.length >= 3 && types[types.length - 2] === "kubernetes:helm.sh/v4:Chart" ? types[types.length - 3] : undefined;
}

/** The exemptions that apply to this object at this URN (none for an object the program declares itself). */
export function exemptionsFor(urn: string, obj: KubernetesObject, list: readonly Exemption[] = EXEMPTIONS): Exemption[] {
    const component = chartComponent(urn);
    return component === undefined ? [] : list.filter((e) => e.component === component && obj.kind === e.kind && obj.metadata?.name === e.name);
}
