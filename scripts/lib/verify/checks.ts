/**
 * What `npm run verify -- <stack>` checks on a deployed stack, each check a list of PASS/FAIL lines. The names it
 * looks for are the program's own (the components' object names and ports, the flow table's pod labels and
 * namespaces, the alert names, the tenant label Receive writes), so a rename in the program is a rename here.
 *
 * cluster-01 (central): every writer's samples are recent in Thanos Query, the Receive ring is complete and ready,
 * the Watchdogs reach Alertmanager, Receive shipped a block within the upload window, Fluent Bit ships.
 * An edge: its own writers are recent in the central Query (reached through the central stack's kube context), its
 * tenants' nodes and admission policy are in place (a stack with `edge.tenants`), Fluent Bit ships.
 */
import type * as k8s from "@kubernetes/client-node";
import { ALERTMANAGER_PORT } from "../../../components/centralMonitoring";
import { FLUENT_BIT_METRICS_PATH, FLUENT_BIT_METRICS_PORT } from "../../../components/logShipper";
import { RECEIVE_HASHRING_CONFIGMAP, RECEIVE_HASHRING_KEY, RECEIVE_HEADLESS_SERVICE, RECEIVE_NAME } from "../../../components/thanosReceive";
import { AlertName, RECEIVE_UPLOAD_WINDOW } from "../../../lib/alertRules";
import { CentralConfig, EdgeConfig, StackConfig, durationSeconds, writerIds } from "../../../lib/config";
import { generateHashring, receiveEndpoint } from "../../../lib/hashring";
import { SELF_MONITORING_ALERT_NAMES } from "../../../lib/selfMonitoringRules";
import { TENANT_TAINT_KEY, tenantNodeLabels, tenantPlacementBindingName, tenantPlacementPolicyName } from "../../../lib/tenancy";
import { TENANT_LABEL, THANOS_PORTS } from "../../../lib/thanos";
import { edgeWriterIds } from "../../../stacks/contract";
import { centralNetwork, fluentBitWorkload } from "../../../stacks/network";
import { stackConfig, stackNames } from "../../../tools/stacks";
import { ClusterAccess, PodSelector, VerifyError, apiMessage, isNotFound, isReady, labelSelector } from "./kube";

export const CHECK_NAMES = ["writers", "receive-ring", "watchdog", "bucket-upload", "tenant-placement", "log-shipping"] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** What each check proves, for `--help` and the README. */
export const CHECK_DESCRIPTIONS: Record<CheckName, string> = {
    writers: "each writer's newest `up` sample in Thanos Query (by its tenant_id) is at most 3 scrape intervals old",
    "receive-ring": "the Receive StatefulSet has every replica ready and rolled out; the hashring ConfigMap lists exactly the configured endpoints, each a ready pod",
    watchdog: "Watchdog (Thanos Ruler) and SelfMonitoringWatchdog (central Prometheus) are active, not silenced, on every Alertmanager replica",
    "bucket-upload": `Receive uploaded a block to the bucket within the last ${RECEIVE_UPLOAD_WINDOW} (its upload window; blocks are cut every 2h)`,
    "tenant-placement": "each tenant's nodes carry its label and taint, its ValidatingAdmissionPolicy has no type-check warning and is bound with Deny to each of its namespaces",
    "log-shipping": "Fluent Bit's delivered-records counters rise over the window, and no record is dropped after its retries",
};

export interface Line {
    readonly check: CheckName;
    readonly ok: boolean;
    readonly text: string;
}

export interface Check {
    readonly name: CheckName;
    /** The cluster (kube context) it reads. */
    readonly context: string;
    run(): Promise<Line[]>;
}

export interface VerifyOptions {
    /** A kubeconfig file; default: `KUBECONFIG`, then `~/.kube/config` (what kubectl and the Pulumi provider read). */
    readonly kubeconfig?: string;
    /** How long Fluent Bit's counters are watched. */
    readonly logWindowMs: number;
    /** Folder of the `Pulumi.<stack>.yaml` files. */
    readonly dir?: string;
    /** Per check, at most this long (a hung API server or port-forward is a FAIL, not a hung CI job). */
    readonly checkTimeoutMs?: number;
}

/**
 * The RBAC `npm run verify` needs, per cluster role: what it reads, and the port-forwards it opens. A WebSocket
 * port-forward is an HTTP GET, authorized as `get` on `pods/portforward`; since Kubernetes 1.35
 * (`AuthorizePodWebsocketUpgradeCreatePermission`, on by default) also as `create`. The tests check this list
 * against every request the checks make to a fake API server.
 */
export interface RbacRule {
    readonly apiGroup: string;
    readonly resource: string;
    readonly verbs: readonly string[];
    /** Namespaced rules: where. Absent: cluster-scoped. */
    readonly namespaces?: readonly string[];
    readonly names?: readonly string[];
}

/** A Prometheus instant-query answer, one element per series. */
export interface Sample {
    readonly metric: Record<string, string>;
    /** Evaluation time, Unix seconds. */
    readonly time: number;
    readonly value: number;
}

const WATCHDOG: AlertName = "Watchdog";
const SELF_MONITORING_WATCHDOG: (typeof SELF_MONITORING_ALERT_NAMES)[number] = "SelfMonitoringWatchdog";

/**
 * The scrape interval of the central Prometheus pair: the program sets none (the Prometheus Operator's default, 30s)
 * and its PodMonitors scrape every 30s.
 */
const CENTRAL_SCRAPE_INTERVAL = "30s";
/** A writer is fresh when its newest sample is at most this many scrape intervals old (one scrape and one send late). */
const FRESH_SCRAPES = 3;

/** `90s`, `2m5s`, `3h`: a duration in seconds as people read it. */
export function formatSeconds(s: number): string {
    const t = Math.max(0, Math.round(s));
    const h = Math.floor(t / 3600);
    const m = Math.floor((t % 3600) / 60);
    const sec = t % 60;
    return [h ? `${h}h` : "", m ? `${m}m` : "", sec || t === 0 ? `${sec}s` : ""].join("");
}

// ---------------------------------------------------------------------------------------------------------------
// The PromQL the checks send (the tests parse each and check its metric names against lib/producedMetrics.ts)
// ---------------------------------------------------------------------------------------------------------------

/** The newest sample of a writer: `up` of every target it scrapes, by the tenant label Receive gives its series. */
export function writerFreshnessQuery(writer: string): string {
    return `max(timestamp(up{${TENANT_LABEL}="${writer}"}))`;
}

/** Receive's newest successful block upload in the upload window (0: none since the process started). */
export function bucketUploadQuery(): string {
    return `max(max_over_time(thanos_objstore_bucket_last_successful_upload_time{job="${RECEIVE_NAME}"}[${RECEIVE_UPLOAD_WINDOW}]))`;
}

/** Fluent Bit's counters read from each pod (its old metrics API, as the agents and the central Prometheus scrape it). */
export const FLUENT_BIT_COUNTERS = {
    delivered: "fluentbit_output_proc_records_total",
    droppedAfterRetries: "fluentbit_output_retries_failed_total",
    errors: "fluentbit_output_errors_total",
} as const;

/**
 * Sum of every series of `name` in a Prometheus text exposition (0 when it has none). A sample line is
 * `name{labels} value [timestamp]`: Fluent Bit's old metrics API writes the timestamp, so the value is the first field
 * after the labels, not the last one.
 */
export function expositionSum(text: string, name: string): number {
    let sum = 0;
    for (const line of text.split("\n")) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+-?\d+)?\s*$/.exec(line.trim());
        if (m && m[1] === name) sum += Number(m[3]);
    }
    return sum;
}

// ---------------------------------------------------------------------------------------------------------------
// Where things are, from the stack configs
// ---------------------------------------------------------------------------------------------------------------

/** Thanos Query and the Alertmanager pods of a central config (the flow table's workloads). */
function centralPlaces(c: CentralConfig) {
    const { w } = centralNetwork(c);
    return { query: w.query, alertmanager: w.alertmanager, receive: w.receive };
}

/** The freshness limit of each writer: 3 of its cluster's scrape intervals (edge.agent.scrapeInterval). */
export function freshnessLimits(central: StackConfig, dir?: string): Record<string, number> {
    const edges = new Map(
        stackNames(dir)
            .map((s) => stackConfig(s, dir))
            .filter((cfg) => cfg.edge)
            .map((cfg) => [cfg.clusterName, cfg.edge as EdgeConfig]),
    );
    const c = central.central as CentralConfig;
    return Object.fromEntries(
        c.writers.flatMap((w) => {
            const interval = w.cluster === central.clusterName ? CENTRAL_SCRAPE_INTERVAL : (edges.get(w.cluster)?.agent.scrapeInterval ?? CENTRAL_SCRAPE_INTERVAL);
            return writerIds(w).map((id) => [id, FRESH_SCRAPES * durationSeconds(interval)]);
        }),
    );
}

/** The RBAC each stack's verify needs on each cluster it reads (context → rules). */
export function verifyRbac(stack: string, dir?: string): Record<string, RbacRule[]> {
    const cfg = stackConfig(stack, dir);
    const portForward = (namespaces: string[]): RbacRule[] => [
        { apiGroup: "", resource: "pods", verbs: ["list"], namespaces },
        { apiGroup: "", resource: "pods/portforward", verbs: ["get", "create"], namespaces },
    ];
    const fluentBit = fluentBitWorkload().namespace;
    if (cfg.central) {
        const p = centralPlaces(cfg.central);
        return {
            [cfg.kubernetes.context]: [
                ...portForward([...new Set([p.query.namespace, p.receive.namespace, p.alertmanager.namespace, fluentBit])]),
                { apiGroup: "apps", resource: "statefulsets", verbs: ["get"], namespaces: [cfg.central.namespace], names: [RECEIVE_NAME] },
                { apiGroup: "", resource: "configmaps", verbs: ["get"], namespaces: [cfg.central.namespace], names: [RECEIVE_HASHRING_CONFIGMAP] },
            ],
        };
    }
    const e = cfg.edge as EdgeConfig;
    const central = stackConfig(centralStackName(e), dir);
    const tenancy: RbacRule[] =
        e.tenants.length === 0
            ? []
            : [
                  { apiGroup: "", resource: "nodes", verbs: ["get"], names: e.tenants.flatMap((t) => t.nodes) },
                  { apiGroup: "admissionregistration.k8s.io", resource: "validatingadmissionpolicies", verbs: ["get"], names: e.tenants.map((t) => tenantPlacementPolicyName(t.name)) },
                  {
                      apiGroup: "admissionregistration.k8s.io",
                      resource: "validatingadmissionpolicybindings",
                      verbs: ["get"],
                      names: e.tenants.flatMap((t) => t.namespaces.map((n) => tenantPlacementBindingName(t.name, n))),
                  },
              ];
    return {
        [cfg.kubernetes.context]: [...portForward([fluentBit]), ...tenancy],
        [central.kubernetes.context]: portForward([centralPlaces(central.central as CentralConfig).query.namespace]),
    };
}

function centralStackName(e: EdgeConfig): string {
    return e.centralStack.split("/").pop() as string;
}

// ---------------------------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------------------------

/** Memoized: a kube context that is missing fails every check that needs it with the same message. */
function lazy<T>(make: () => T): () => T {
    let made: { value: T } | { error: unknown } | undefined;
    return () => {
        if (made === undefined) {
            try {
                made = { value: make() };
            } catch (error) {
                made = { error };
            }
        }
        if ("error" in made) throw made.error;
        return made.value;
    };
}

/** Thanos Query's instant-query API, through a port-forward to one ready Query pod. */
async function queryApi(cluster: ClusterAccess, query: PodSelector) {
    const [pod] = await cluster.readyPods(query, "Thanos Query");
    const where = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    return {
        where,
        async instant(expr: string): Promise<Sample[]> {
            const body = await cluster.httpGet(pod, THANOS_PORTS.http, `/api/v1/query?query=${encodeURIComponent(expr)}`);
            const answer = JSON.parse(body) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
            if (answer.status !== "success" || answer.data?.resultType !== "vector") throw new VerifyError(`Query ${where} answered ${answer.error ?? answer.status} to ${expr}`);
            return answer.data.result.map((r) => ({ metric: r.metric, time: Number(r.value[0]), value: Number(r.value[1]) }));
        },
    };
}

/** One line per writer: its newest sample in Query against its limit. */
function writersCheck(context: string, cluster: () => ClusterAccess, query: PodSelector, writers: string[], limits: Record<string, number>, unregistered: string[] = []): Check {
    return {
        name: "writers",
        context,
        async run() {
            const lines: Line[] = unregistered.map((id) => ({ check: "writers", ok: false, text: `${id}: not in the central stack's agent-receiver:central.writers, so no certificate lets it write` }));
            if (writers.length === 0) return lines;
            const api = await queryApi(cluster(), query);
            for (const id of writers) {
                const [newest] = await api.instant(writerFreshnessQuery(id));
                const limit = limits[id];
                if (!newest) {
                    lines.push({ check: "writers", ok: false, text: `${id}: no sample in Query ${api.where} within its lookback: the writer sends nothing, or Receive refuses it` });
                    continue;
                }
                const age = newest.time - newest.value;
                lines.push({ check: "writers", ok: age <= limit, text: `${id}: newest sample ${formatSeconds(age)} old in Query (limit ${formatSeconds(limit)})` });
            }
            return lines;
        },
    };
}

function receiveRingCheck(context: string, cluster: () => ClusterAccess, c: CentralConfig): Check {
    return {
        name: "receive-ring",
        context,
        async run() {
            const k = cluster();
            const ns = c.namespace;
            const sts = await k.apps.readNamespacedStatefulSet({ name: RECEIVE_NAME, namespace: ns }).catch((e: unknown) => {
                throw new VerifyError(`StatefulSet ${ns}/${RECEIVE_NAME}: ${isNotFound(e) ? "not found" : apiMessage(e)}`);
            });
            const want = c.receive.replicas;
            const st = sts.status;
            const problems: string[] = [];
            if (sts.spec?.replicas !== want) problems.push(`spec.replicas is ${sts.spec?.replicas}, central.receive.replicas is ${want} (not deployed yet?)`);
            if ((st?.readyReplicas ?? 0) < want) problems.push(`${st?.readyReplicas ?? 0}/${want} ready`);
            if ((st?.updatedReplicas ?? 0) < want || st?.currentRevision !== st?.updateRevision) problems.push(`rollout not finished (${st?.updatedReplicas ?? 0}/${want} at revision ${st?.updateRevision})`);
            if ((st?.observedGeneration ?? 0) < (sts.metadata?.generation ?? 0)) problems.push(`the controller has not seen generation ${sts.metadata?.generation} yet`);
            const lines: Line[] = [
                {
                    check: "receive-ring",
                    ok: problems.length === 0,
                    text: `StatefulSet ${ns}/${RECEIVE_NAME}: ${problems.length === 0 ? `${want}/${want} replicas ready at revision ${st?.updateRevision}` : problems.join("; ")}`,
                },
            ];

            const cm = await k.core.readNamespacedConfigMap({ name: RECEIVE_HASHRING_CONFIGMAP, namespace: ns }).catch((e: unknown) => {
                throw new VerifyError(`ConfigMap ${ns}/${RECEIVE_HASHRING_CONFIGMAP}: ${isNotFound(e) ? "not found" : apiMessage(e)}`);
            });
            let listed: string[];
            try {
                listed = (JSON.parse(cm.data?.[RECEIVE_HASHRING_KEY] ?? "") as { endpoints: (string | { address: string })[] }[]).flatMap((h) =>
                    h.endpoints.map((ep) => (typeof ep === "string" ? ep : ep.address)),
                );
            } catch (e) {
                throw new VerifyError(`ConfigMap ${ns}/${RECEIVE_HASHRING_CONFIGMAP} has no readable ${RECEIVE_HASHRING_KEY}: ${apiMessage(e)}`);
            }
            const ring = { headlessService: RECEIVE_HEADLESS_SERVICE, namespace: ns, grpcPort: THANOS_PORTS.grpc };
            const expected = generateHashring({ statefulSet: RECEIVE_NAME, ...ring, replicas: want, replicationFactor: c.receive.replicationFactor }).flatMap((h) => h.endpoints);
            const pods = await k.pods({ namespace: ns, labels: sts.spec?.selector?.matchLabels ?? {} });
            const podOf = new Map(pods.map((p) => [receiveEndpoint(p.metadata?.name as string, ring), p]));
            const ringProblems = [
                ...expected.filter((ep) => !listed.includes(ep)).map((ep) => `missing ${ep}`),
                ...listed.filter((ep) => !expected.includes(ep)).map((ep) => `unexpected ${ep}`),
                ...listed.filter((ep) => !podOf.has(ep)).map((ep) => `no pod for ${ep}`),
                ...listed.filter((ep) => podOf.has(ep) && !isReady(podOf.get(ep) as k8s.V1Pod)).map((ep) => `${podOf.get(ep)?.metadata?.name} not ready`),
            ];
            lines.push({
                check: "receive-ring",
                ok: ringProblems.length === 0,
                text:
                    `hashring ${ns}/${RECEIVE_HASHRING_CONFIGMAP}: ` +
                    (ringProblems.length === 0 ? `the ${listed.length} configured endpoints, each a ready pod (replication factor ${c.receive.replicationFactor})` : [...new Set(ringProblems)].join("; ")),
            });
            return lines;
        },
    };
}

interface GettableAlert {
    labels: Record<string, string>;
    status: { state: string; silencedBy?: string[]; inhibitedBy?: string[] };
}

function watchdogCheck(context: string, cluster: () => ClusterAccess, alertmanager: PodSelector): Check {
    const sources: [string, string][] = [
        [WATCHDOG, "Thanos Ruler"],
        [SELF_MONITORING_WATCHDOG, "central Prometheus"],
    ];
    return {
        name: "watchdog",
        context,
        async run() {
            const k = cluster();
            const pods = await k.readyPods(alertmanager, "Alertmanager");
            const all = await k.pods(alertmanager);
            const alertsOf = await Promise.all(
                pods.map(async (p) => ({ pod: p.metadata?.name as string, alerts: JSON.parse(await k.httpGet(p, ALERTMANAGER_PORT, "/api/v2/alerts")) as GettableAlert[] })),
            );
            return sources.map(([alert, from]) => {
                const problems = alertsOf.flatMap(({ pod, alerts }) => {
                    const mine = alerts.filter((a) => a.labels.alertname === alert);
                    if (mine.length === 0) return [`${pod} has none`];
                    if (!mine.some((a) => a.status.state === "active")) {
                        const by = mine.flatMap((a) => [...(a.status.silencedBy ?? []).map((s) => `silence ${s}`), ...(a.status.inhibitedBy ?? []).map((s) => `inhibited by ${s}`)]);
                        return [`${pod} has it ${mine[0].status.state}${by.length ? ` (${by.join(", ")})` : ""}: the heartbeat receives nothing`];
                    }
                    return [];
                });
                if (pods.length < all.length) problems.push(`${all.length - pods.length} of ${all.length} Alertmanager pods not ready`);
                return {
                    check: "watchdog" as const,
                    ok: problems.length === 0,
                    text: `${alert} (${from}): ${problems.length === 0 ? `active on ${pods.length}/${all.length} Alertmanager replicas` : problems.join("; ")}`,
                };
            });
        },
    };
}

function bucketUploadCheck(context: string, cluster: () => ClusterAccess, query: PodSelector): Check {
    return {
        name: "bucket-upload",
        context,
        async run() {
            const api = await queryApi(cluster(), query);
            const [newest] = await api.instant(bucketUploadQuery());
            const window = durationSeconds(RECEIVE_UPLOAD_WINDOW);
            if (!newest) {
                return [{ check: "bucket-upload", ok: false, text: `no upload time of Receive in Query over the last ${RECEIVE_UPLOAD_WINDOW}: the central Prometheus does not scrape Receive, or its series do not reach Query` }];
            }
            if (newest.value === 0) {
                return [{ check: "bucket-upload", ok: false, text: `Receive has uploaded no block in the last ${RECEIVE_UPLOAD_WINDOW} (a new receiver ships its first block about 2-3h after start)` }];
            }
            const age = newest.time - newest.value;
            return [{ check: "bucket-upload", ok: age <= window, text: `Receive's newest block reached the bucket ${formatSeconds(age)} ago (window ${RECEIVE_UPLOAD_WINDOW})` }];
        },
    };
}

function tenantPlacementCheck(context: string, cluster: () => ClusterAccess, e: EdgeConfig): Check {
    return {
        name: "tenant-placement",
        context,
        async run() {
            const k = cluster();
            const lines: Line[] = [];
            for (const t of e.tenants) {
                const wantLabels = tenantNodeLabels(t.name, e.legacyTenantNodeLabel);
                const taint = `${TENANT_TAINT_KEY}=${t.name}:${e.tenantTaintEffect}`;
                const nodeProblems: string[] = [];
                for (const name of t.nodes) {
                    const node = await k.core.readNode({ name }).catch((err: unknown) => {
                        nodeProblems.push(`node ${name}: ${isNotFound(err) ? "not found" : apiMessage(err)}`);
                        return undefined;
                    });
                    if (!node) continue;
                    const labels = node.metadata?.labels ?? {};
                    for (const [key, value] of Object.entries(wantLabels)) if (labels[key] !== value) nodeProblems.push(`node ${name}: label ${key}=${labels[key] ?? "(none)"}, want ${value}`);
                    const has = (node.spec?.taints ?? []).some((x) => x.key === TENANT_TAINT_KEY && x.value === t.name && x.effect === e.tenantTaintEffect);
                    if (!has) nodeProblems.push(`node ${name}: no taint ${taint}`);
                }
                lines.push({
                    check: "tenant-placement",
                    ok: nodeProblems.length === 0,
                    text: `tenant ${t.name} nodes: ${nodeProblems.length === 0 ? `${t.nodes.join(", ")} labelled ${labelSelector(wantLabels)} and tainted ${taint}` : nodeProblems.join("; ")}`,
                });

                const policyName = tenantPlacementPolicyName(t.name);
                const problems: string[] = [];
                const policy = await k.admission.readValidatingAdmissionPolicy({ name: policyName }).catch((err: unknown) => {
                    problems.push(`ValidatingAdmissionPolicy ${policyName}: ${isNotFound(err) ? "not found" : apiMessage(err)}`);
                    return undefined;
                });
                const warnings = policy?.status?.typeChecking?.expressionWarnings ?? [];
                if (warnings.length > 0) problems.push(`ValidatingAdmissionPolicy ${policyName} type-check warnings: ${warnings.map((w) => `${w.fieldRef}: ${w.warning}`).join("; ")}`);
                for (const namespace of t.namespaces) {
                    const name = tenantPlacementBindingName(t.name, namespace);
                    const binding = await k.admission.readValidatingAdmissionPolicyBinding({ name }).catch((err: unknown) => {
                        problems.push(`binding ${name}: ${isNotFound(err) ? "not found" : apiMessage(err)}`);
                        return undefined;
                    });
                    if (!binding) continue;
                    if (binding.spec?.policyName !== policyName) problems.push(`binding ${name} binds ${binding.spec?.policyName}, not ${policyName}`);
                    if (!(binding.spec?.validationActions ?? []).includes("Deny")) problems.push(`binding ${name} does not Deny (validationActions ${JSON.stringify(binding.spec?.validationActions ?? [])})`);
                    const selected = binding.spec?.matchResources?.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
                    if (selected !== namespace) problems.push(`binding ${name} selects namespace ${selected ?? "(none by name)"}, not ${namespace}`);
                }
                lines.push({
                    check: "tenant-placement",
                    ok: problems.length === 0,
                    text: `tenant ${t.name} admission: ${problems.length === 0 ? `${policyName} (no type-check warning) denies in ${t.namespaces.join(", ")}` : problems.join("; ")}`,
                });
            }
            return lines;
        },
    };
}

function logShippingCheck(context: string, cluster: () => ClusterAccess, windowMs: number): Check {
    return {
        name: "log-shipping",
        context,
        async run() {
            const k = cluster();
            const fluentBit = fluentBitWorkload();
            const all = await k.pods(fluentBit);
            const pods = await k.readyPods(fluentBit, "Fluent Bit");
            const read = async () =>
                Promise.all(
                    pods.map(async (p) => {
                        const text = await k.httpGet(p, FLUENT_BIT_METRICS_PORT, FLUENT_BIT_METRICS_PATH);
                        if (!text.includes(FLUENT_BIT_COUNTERS.delivered)) throw new VerifyError(`${p.metadata?.name} exposes no ${FLUENT_BIT_COUNTERS.delivered}: no output configured?`);
                        return Object.fromEntries(Object.entries(FLUENT_BIT_COUNTERS).map(([k2, name]) => [k2, expositionSum(text, name)])) as Record<keyof typeof FLUENT_BIT_COUNTERS, number>;
                    }),
                );
            const before = await read();
            await new Promise((r) => setTimeout(r, windowMs));
            const after = await read();
            const delta = (key: keyof typeof FLUENT_BIT_COUNTERS) => after.reduce((s, a, i) => s + Math.max(0, a[key] - before[i][key]), 0);
            const delivered = delta("delivered");
            const dropped = delta("droppedAfterRetries");
            const errors = delta("errors");
            const window = formatSeconds(windowMs / 1000);
            const problems = [
                ...(delivered === 0 ? [`no record delivered in ${window}`] : []),
                ...(dropped > 0 ? [`${dropped} chunk(s) dropped after their retries (logs lost)`] : []),
                ...(pods.length < all.length ? [`${all.length - pods.length} of ${all.length} pods not ready`] : []),
            ];
            return [
                {
                    check: "log-shipping",
                    ok: problems.length === 0,
                    text:
                        `Fluent Bit (${pods.length}/${all.length} pods in ${fluentBit.namespace}): ` +
                        (problems.length === 0 ? `${delivered} records delivered in ${window}, ${errors} output errors (retried)` : `${problems.join("; ")}; ${errors} output errors`),
                },
            ];
        },
    };
}

/** The checks of a stack, by its role; each reads the cluster of its kube context. */
export function checksFor(stack: string, opts: VerifyOptions): Check[] {
    const cfg = stackConfig(stack, opts.dir);
    const own = lazy(() => ClusterAccess.forContext(cfg.kubernetes.context, `agent-receiver:kubernetes.context of Pulumi.${stack}.yaml`, opts.kubeconfig));
    const context = cfg.kubernetes.context;
    if (cfg.central) {
        const c = cfg.central;
        const p = centralPlaces(c);
        return [
            writersCheck(context, own, p.query, c.writers.flatMap(writerIds), freshnessLimits(cfg, opts.dir)),
            receiveRingCheck(context, own, c),
            watchdogCheck(context, own, p.alertmanager),
            bucketUploadCheck(context, own, p.query),
            logShippingCheck(context, own, opts.logWindowMs),
        ];
    }
    const e = cfg.edge as EdgeConfig;
    // The edge's writers are asked of the central Query, through the central stack's own kube context.
    const centralName = centralStackName(e);
    const central = stackConfig(centralName, opts.dir);
    const centralAccess = lazy(() =>
        ClusterAccess.forContext(central.kubernetes.context, `agent-receiver:kubernetes.context of Pulumi.${centralName}.yaml, the central stack of agent-receiver:edge.centralStack`, opts.kubeconfig),
    );
    const c = central.central as CentralConfig;
    const registered = c.writers.filter((w) => w.cluster === cfg.clusterName).flatMap(writerIds);
    const mine = edgeWriterIds(cfg);
    return [
        writersCheck(
            central.kubernetes.context,
            centralAccess,
            centralPlaces(c).query,
            mine.filter((id) => registered.includes(id)),
            freshnessLimits(central, opts.dir),
            mine.filter((id) => !registered.includes(id)),
        ),
        ...(e.tenants.length > 0 ? [tenantPlacementCheck(context, own, e)] : []),
        logShippingCheck(context, own, opts.logWindowMs),
    ];
}

/** Run a check, bounded in time; an error is its FAIL line. */
export async function runCheck(check: Check, timeoutMs: number): Promise<Line[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new VerifyError(`no answer within ${formatSeconds(timeoutMs / 1000)} from context ${check.context}`)), timeoutMs);
    });
    try {
        return await Promise.race([check.run(), timeout]);
    } catch (e) {
        return [{ check: check.name, ok: false, text: e instanceof VerifyError ? e.message : `context ${check.context}: ${apiMessage(e)}` }];
    } finally {
        clearTimeout(timer);
    }
}
