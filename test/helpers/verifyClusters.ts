/**
 * The fake clusters `npm run verify`'s tests check: what `pulumi up` of each stack would leave on the API server, read
 * from the stack's real offline plan (the Receive StatefulSet and hashring ConfigMap, the tenants' node labels, taints
 * and admission policies as the program declares them), with the status a healthy cluster reports, and the pods the
 * checks reach with the labels the plan's workloads and charts give them. Each pod's ports are carried to local
 * stand-ins (a Prometheus for Thanos Query, an Alertmanager, a Fluent Bit exposition).
 */
import * as http from "http";
import * as net from "net";
import { FakeKube, FakePod } from "./fakeKube";
import { podsOf } from "./network";
import { k8sObjects, manifest, one, planStack } from "./plan";

/** Local ports standing in for the central pods' ports. */
export interface CentralTargets {
    /** Thanos Query's HTTP port (10902) of each Query pod. */
    readonly query?: number;
    /** Alertmanager's API port (9093), one per replica. */
    readonly alertmanagers: (number | undefined)[];
    /** Fluent Bit's metrics port (2020), one per pod. */
    readonly fluentBits: (number | undefined)[];
}

/** A pod's port carried to a local stand-in, or (none) refused like a port nothing listens on. */
function forwardOf(podPort: number, local: number | undefined): Record<number, number> {
    return local === undefined ? {} : { [podPort]: local };
}

function readyStatus(replicas: number, revision: string) {
    return { replicas, readyReplicas: replicas, updatedReplicas: replicas, currentReplicas: replicas, currentRevision: revision, updateRevision: revision, observedGeneration: 1 };
}

/** The pod labels of a chart workload the network helper knows (`namespace/name`). */
async function chartPodLabels(stack: string, name: string): Promise<Record<string, string>> {
    const p = podsOf(await planStack(stack)).find((x) => x.name === name);
    if (!p) throw new Error(`no pod ${name} in the plan of ${stack}`);
    return p.labels;
}

async function fluentBitPods(stack: string, ports: (number | undefined)[]): Promise<FakePod[]> {
    const labels = await chartPodLabels(stack, "logging-node/fluent-bit");
    return ports.map((port, i) => ({ namespace: "logging-node", name: `fluent-bit-${"abcdefgh"[i]}x2k9`, labels, ready: true, forward: forwardOf(2020, port) }));
}

/** cluster-01 as `pulumi up` leaves it, healthy. */
export async function fillCentral(fake: FakeKube, t: CentralTargets): Promise<void> {
    const plan = await planStack("cluster-01");
    const sts = manifest(one(plan, "kubernetes:apps/v1:StatefulSet", "-receive-statefulset"));
    const ring = manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-receive-hashring"));
    const query = manifest(one(plan, "kubernetes:apps/v1:Deployment", "-query-deployment"));
    const revision = "thanos-receive-6d5f8b7c9";
    fake.objects = [
        { ...sts, metadata: { ...sts.metadata, generation: 1 }, status: readyStatus(sts.spec.replicas, revision) },
        ring,
    ];
    const receivePods: FakePod[] = Array.from({ length: sts.spec.replicas }, (_, i) => ({
        namespace: sts.metadata.namespace,
        name: `${sts.metadata.name}-${i}`,
        labels: { ...sts.spec.template.metadata.labels, "controller-revision-hash": revision },
        ready: true,
        forward: {},
    }));
    const queryPods: FakePod[] = [0, 1].map((i) => ({
        namespace: query.metadata.namespace,
        name: `${query.metadata.name}-7c9d6b5f4-${"ab"[i]}x7q2`,
        labels: query.spec.template.metadata.labels,
        ready: true,
        forward: forwardOf(10902, t.query),
    }));
    const amLabels = await chartPodLabels("cluster-01", "monitoring/alertmanager");
    const alertmanagers: FakePod[] = t.alertmanagers.map((port, i) => ({
        namespace: "monitoring",
        name: `alertmanager-kps-alertmanager-${i}`,
        labels: amLabels,
        ready: true,
        forward: forwardOf(9093, port),
    }));
    fake.pods = [...receivePods, ...queryPods, ...alertmanagers, ...(await fluentBitPods("cluster-01", t.fluentBits))];
}

/** The taints the plan's taint Jobs set (`kubectl taint nodes <node>… key=value:effect --overwrite`), per node. */
function plannedTaints(objects: any[]): Map<string, { key: string; value: string; effect: string }[]> {
    const out = new Map<string, { key: string; value: string; effect: string }[]>();
    for (const job of objects.filter((o) => o.kind === "Job")) {
        const cmd: string[] = job.spec.template.spec.containers[0].command ?? [];
        if (cmd[0] !== "kubectl" || cmd[1] !== "taint" || cmd[2] !== "nodes") continue;
        const spec = cmd.find((a) => /^[^=]+=[^:]+:\w+$/.test(a)) as string;
        const [, key, value, effect] = /^([^=]+)=([^:]+):(\w+)$/.exec(spec) as RegExpExecArray;
        for (const node of cmd.slice(3).filter((a) => a !== spec && !a.startsWith("--"))) out.set(node, [...(out.get(node) ?? []), { key, value, effect }]);
    }
    return out;
}

/** An edge as `pulumi up` leaves it: its tenants' nodes labelled and tainted, the placement policies bound, Fluent Bit. */
export async function fillEdge(fake: FakeKube, stack: string, fluentBits: (number | undefined)[]): Promise<void> {
    const objects = k8sObjects(await planStack(stack)).map(manifest);
    const taints = plannedTaints(objects);
    const nodes = objects
        .filter((o) => o.kind === "Node")
        .map((patch) => ({
            apiVersion: "v1",
            kind: "Node",
            metadata: { name: patch.metadata.name, labels: { "kubernetes.io/hostname": patch.metadata.name, "kubernetes.io/os": "linux", ...patch.metadata.labels } },
            spec: { taints: taints.get(patch.metadata.name) ?? [] },
        }));
    const policies = objects.filter((o) => o.kind === "ValidatingAdmissionPolicy").map((p) => ({ ...p, status: { observedGeneration: 1, typeChecking: {} } }));
    const bindings = objects.filter((o) => o.kind === "ValidatingAdmissionPolicyBinding");
    fake.objects = [...nodes, ...policies, ...bindings];
    fake.pods = await fluentBitPods(stack, fluentBits);
}

/**
 * A Fluent Bit stand-in: `/api/v1/metrics/prometheus` in its old format (with timestamps), the delivered counter
 * rising by `step` on every read, and `dropped` chunks dropped after retries rising by `droppedStep`.
 */
export async function fluentBitExposition(opts: { step: number; droppedStep?: number }): Promise<{ port: number; close(): void }> {
    let reads = 0;
    const server = http.createServer((req, res) => {
        if (req.url !== "/api/v1/metrics/prometheus") {
            res.writeHead(404).end();
            return;
        }
        reads++;
        const ts = Date.now();
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
        res.end(
            [
                "# HELP fluentbit_output_proc_records_total Number of processed output records.",
                "# TYPE fluentbit_output_proc_records_total counter",
                `fluentbit_output_proc_records_total{name="opensearch.0"} ${1000 + reads * opts.step} ${ts}`,
                "# TYPE fluentbit_output_errors_total counter",
                `fluentbit_output_errors_total{name="opensearch.0"} 2 ${ts}`,
                "# TYPE fluentbit_output_retries_failed_total counter",
                `fluentbit_output_retries_failed_total{name="opensearch.0"} ${reads * (opts.droppedStep ?? 0)} ${ts}`,
                "",
            ].join("\n"),
        );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}
