/** The network of a plan, as the evaluator reads it: namespaces, pods (real labels) and every policy. */
import { kubeStateMetricsPodLabels } from "../../components/kubeStateMetrics";
import { Plan, isHelmChart } from "../../tools/plan";
import { CiliumNetworkPolicy, NetworkPolicy, Pod, World } from "../../tools/networkPolicyEvaluator";
import { k8sObjects, manifest } from "./plan";

export function worldOf(plan: Plan): World {
    const namespaces: World["namespaces"] = {};
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

/**
 * Every pod the plan runs: the program's own workloads and Jobs from their templates, and the chart workloads whose
 * labels the program knows (kube-state-metrics on the edges, from the chart's selector labels).
 */
export function podsOf(plan: Plan): Pod[] {
    const pods: Pod[] = [];
    for (const r of k8sObjects(plan)) {
        const m = manifest(r);
        if (!["Deployment", "StatefulSet", "DaemonSet", "Job"].includes(m.kind)) continue;
        const t = m.spec.template;
        const ports = (t.spec.containers as { ports?: Pod["ports"] }[]).flatMap((c) => c.ports ?? []);
        pods.push({ name: `${m.metadata.namespace}/${m.metadata.name}`, namespace: m.metadata.namespace, labels: t.metadata?.labels ?? {}, ports });
    }
    for (const r of plan.resources.filter(isHelmChart)) {
        const v = manifest(r);
        if (v.chart === "kube-state-metrics") {
            pods.push({ name: `${v.namespace}/${v.values.fullnameOverride}`, namespace: v.namespace, labels: kubeStateMetricsPodLabels(r.name), ports: [{ name: "http", containerPort: 8080 }] });
        }
    }
    return pods;
}

export function pod(pods: Pod[], name: string): Pod {
    const p = pods.find((x) => x.name === name);
    if (!p) throw new Error(`no pod ${name}; pods: ${pods.map((x) => x.name).join(", ")}`);
    return p;
}
