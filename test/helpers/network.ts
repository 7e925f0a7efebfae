/** The network of a plan, as the evaluator reads it: namespaces, pods (real labels) and every policy. */
import { CENTRAL_POD_LABELS, KPS_RELEASE, OPERATOR_METRICS_PORT } from "../../components/centralMonitoring";
import { kubeStateMetricsPodLabels } from "../../components/kubeStateMetrics";
import { Plan, isHelmChart } from "../../tools/plan";
import { CiliumNetworkPolicy, NetworkPolicy, Pod, World } from "../../tools/networkPolicyEvaluator";
import { k8sObjects, manifest } from "./plan";

export function worldOf(plan: Plan): World {
    const namespaces: Record<string, Record<string, string>> = {};
    const policies: (NetworkPolicy | CiliumNetworkPolicy)[] = [];
    for (const r of k8sObjects(plan)) {
        const m = manifest(r);
        if (m.kind === "Namespace") namespaces[m.metadata.name] = m.metadata.labels ?? {};
        if (m.kind === "NetworkPolicy" || m.kind === "CiliumNetworkPolicy") {
            policies.push({ kind: m.kind, namespace: m.metadata.namespace, name: m.metadata.name, spec: m.spec });
        }
    }
    return { namespaces, policies };
}

const tcp = (...ports: [string, number][]) => ports.map(([name, containerPort]) => ({ name, containerPort }));

/**
 * The pods the charts run, with the labels and container ports their pinned templates give them (see each
 * component's label constants for the template each comes from). Host-network pods (node exporter) are left out:
 * pod policies do not apply to them.
 */
function chartPods(release: string, chart: string, namespace: string, values: any): Pod[] {
    const pod = (name: string, labels: Record<string, string>, ports: Pod["ports"]): Pod => ({ name: `${namespace}/${name}`, namespace, labels, ports });
    switch (chart) {
        case "kube-prometheus-stack":
            if (release !== KPS_RELEASE) return [];
            return [
                pod("prometheus", { ...CENTRAL_POD_LABELS.prometheus, "operator.prometheus.io/name": `${KPS_RELEASE}-prometheus` }, tcp(["http-web", 9090], ["reloader-web", 8080])),
                pod("alertmanager", { ...CENTRAL_POD_LABELS.alertmanager }, tcp(["http-web", 9093], ["mesh-tcp", 9094], ["reloader-web", 8080])),
                pod("grafana", { ...CENTRAL_POD_LABELS.grafana, "helm.sh/chart": "grafana-12.11.1" }, tcp(["grafana", 3000], ["gossip-tcp", 9094], ["profiling", 6060])),
                pod("prometheus-operator", { ...CENTRAL_POD_LABELS.operator, app: "kube-prometheus-stack-operator", "app.kubernetes.io/instance": KPS_RELEASE }, tcp(["http", OPERATOR_METRICS_PORT])),
                pod("kube-state-metrics-central", { ...CENTRAL_POD_LABELS.kubeStateMetrics, release: KPS_RELEASE }, tcp(["http", 8080], ["metrics", 8081])),
            ];
        case "kube-state-metrics":
            return [pod(values.fullnameOverride, kubeStateMetricsPodLabels(release), tcp(["http", 8080], ["metrics", 8081]))];
        case "opensearch":
            return [pod("opensearch", { "app.kubernetes.io/name": "opensearch", "app.kubernetes.io/instance": release, "app.kubernetes.io/component": "opensearch-cluster-master" }, tcp(["http", 9200], ["transport", 9300], ["metrics", 9600]))];
        case "opensearch-dashboards":
            return [pod("opensearch-dashboards", { "app.kubernetes.io/name": "opensearch-dashboards", "app.kubernetes.io/instance": release }, tcp(["http", 5601]))];
        case "fluent-bit":
            return [pod("fluent-bit", { "app.kubernetes.io/name": "fluent-bit", "app.kubernetes.io/instance": release }, tcp(["http", 2020]))];
        default:
            return [];
    }
}

/**
 * Every pod the plan runs: the program's own workloads and Jobs from their templates, the charts' pods with their
 * real labels, and one stand-in application pod in each tenant namespace.
 */
export function podsOf(plan: Plan): Pod[] {
    const pods: Pod[] = [];
    for (const r of k8sObjects(plan)) {
        const m = manifest(r);
        if (m.kind === "Namespace" && m.metadata.labels?.tenant) {
            pods.push({ name: `${m.metadata.name}/app`, namespace: m.metadata.name, labels: { app: "tenant-app" }, ports: tcp(["http", 8080]) });
        }
        if (!["Deployment", "StatefulSet", "DaemonSet", "Job"].includes(m.kind)) continue;
        const t = m.spec.template;
        if (t.spec.hostNetwork) continue;
        const ports = (t.spec.containers as { ports?: Pod["ports"] }[]).flatMap((c) => c.ports ?? []);
        pods.push({ name: `${m.metadata.namespace}/${m.metadata.name}`, namespace: m.metadata.namespace, labels: t.metadata?.labels ?? {}, ports });
    }
    for (const r of plan.resources.filter(isHelmChart)) {
        const v = manifest(r);
        pods.push(...chartPods(v.name ?? r.name, v.chart, v.namespace, v.values));
    }
    return pods;
}

export function pod(pods: Pod[], name: string): Pod {
    const p = pods.find((x) => x.name === name);
    if (!p) throw new Error(`no pod ${name}; pods: ${pods.map((x) => x.name).join(", ")}`);
    return p;
}
