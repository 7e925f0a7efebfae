import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import type { Resources } from "../lib/config";
import { commonLabels, podIdentityEnv, resourceRequirements, restrictedPodSecurityContext, selectorLabels, spreadOverNodes } from "../lib/k8s";
import { THANOS_PORTS, ThanosTracing, dataClaim, thanosBaseArgs, thanosContainer, thanosServicePorts, tracingArgs, tracingEgress } from "../lib/thanos";

export interface ThanosRulerArgs {
    readonly namespace: pulumi.Input<string>;
    readonly image: string;
    readonly version: string;
    readonly imagePullSecrets?: { name: string }[];
    readonly replicas: number;
    readonly evaluationInterval: string;
    readonly storageClass: string;
    readonly storageSize: string;
    readonly resources: Resources;
    /** The rule file (`renderAlertRules`), exactly as promtool checked it. */
    readonly rules: string;
    /** Thanos Query `host:port` (HTTP): the global view the rules evaluate on. */
    readonly queryAddress: string;
    /** Alertmanager URL in Thanos' DNS syntax, e.g. `dns+http://alertmanager-operated.monitoring.svc.cluster.local:9093`. */
    readonly alertmanagerUrl: string;
    /**
     * Where an alert's source link opens its expression (`--alert.query-url` + `--alert.query-template`): Grafana's
     * Explore on the Thanos datasource, since Query itself is not exposed (`grafanaExploreLink`).
     */
    readonly alertLink: { queryUrl: string; template: string };
    /** Pods of Thanos Query (egress) and Alertmanager (egress). */
    readonly query: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    readonly alertmanagers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    readonly alertmanagerPort: number;
    readonly metricsScrapers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Where to send traces (`central.tracing`); absent: no tracing flag and no egress to a collector. */
    readonly tracing?: ThanosTracing;
}

export const RULER_NAME = "thanos-ruler";

/**
 * kube-thanos' Ruler probes (thanos-rule-statefulSet.yaml): liveness every 5 s, 24 failures (2 minutes); readiness after
 * 10 s, every 5 s, 18 failures. The Ruler is ready only once it has loaded its rules and restored alert state.
 */
export const RULER_PROBES = {
    liveness: { periodSeconds: 5, failureThreshold: 24 },
    readiness: { initialDelaySeconds: 10, periodSeconds: 5, failureThreshold: 18 },
};

/**
 * An alert's source link into Grafana's Explore (URL state `schemaVersion=1&panes=…`, Grafana 10.2 and later) with
 * the alert's expression on the Thanos datasource over the last hour. Thanos fills `{{.Expr}}` with the expression
 * URL-escaped but not JSON-escaped (cmd/thanos/rule.go tableLinkForExpression), and the pane state is JSON: the
 * expression must therefore hold no `"` or `\`, which is why the Ruler's rule file quotes strings with `'`
 * (`singleQuotedStrings`). The JSON around the placeholder is URL-encoded once, as the browser decodes it once.
 */
export function grafanaExploreLink(grafanaUrl: string, datasourceUid: string): { queryUrl: string; template: string } {
    const before = `{"alert":{"datasource":"${datasourceUid}","queries":[{"refId":"A","expr":"`;
    const after = `","datasource":{"type":"prometheus","uid":"${datasourceUid}"}}],"range":{"from":"now-1h","to":"now"}}}`;
    return {
        queryUrl: grafanaUrl.replace(/\/$/, ""),
        template: `/explore?schemaVersion=1&orgId=1&panes=${encodeURIComponent(before)}{{.Expr}}${encodeURIComponent(after)}`,
    };
}
/** Label that tells ruler replicas apart; dropped from alerts so Alertmanager sees one alert, not one per replica. */
export const RULER_REPLICA_LABEL = "ruler_replica";

/** The ruler's flags. */
export function rulerArgs(a: Pick<ThanosRulerArgs, "evaluationInterval" | "queryAddress" | "alertmanagerUrl" | "alertLink">): string[] {
    return [
        ...thanosBaseArgs("rule"),
        "--data-dir=/var/thanos/rule",
        "--rule-file=/etc/thanos/rules/*.yaml",
        `--eval-interval=${a.evaluationInterval}`,
        `--query=${a.queryAddress}`,
        `--alertmanagers.url=${a.alertmanagerUrl}`,
        "--alertmanagers.send-timeout=10s",
        `--label=${RULER_REPLICA_LABEL}="$(POD_NAME)"`,
        `--alert.label-drop=${RULER_REPLICA_LABEL}`,
        `--alert.query-url=${a.alertLink.queryUrl}`,
        `--alert.query-template=${a.alertLink.template}`,
        // Restores `for` state after a restart from the ruler's own TSDB, so a restart does not reset pending alerts.
        "--for-outage-tolerance=1h",
        "--tsdb.retention=24h",
    ];
}

/**
 * Thanos Ruler: evaluates the platform's alert rules on the global view (Thanos Query over Receive and the bucket),
 * so a rule sees every cluster and tenant; the edge agents evaluate nothing. Chosen over the central Prometheus
 * evaluating rules because that Prometheus only holds cluster-01's own series.
 */
export class ThanosRuler extends pulumi.ComponentResource {
    constructor(name: string, args: ThanosRulerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:thanos:ThanosRuler", name, {}, opts);
        const selector = selectorLabels(RULER_NAME, name, "rule-evaluation-engine");
        const labels = commonLabels(RULER_NAME, name, "rule-evaluation-engine", args.version);
        const rulesHash = createHash("sha256").update(args.rules).digest("hex").slice(0, 16);

        new k8s.core.v1.ConfigMap(
            `${name}-rules`,
            { metadata: { name: `${RULER_NAME}-rules`, namespace: args.namespace, labels }, data: { "platform.yaml": args.rules } },
            { parent: this },
        );
        new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: RULER_NAME, namespace: args.namespace, labels },
                spec: {
                    clusterIP: "None",
                    selector,
                    ports: thanosServicePorts(),
                },
            },
            { parent: this },
        );
        new k8s.apps.v1.StatefulSet(
            `${name}-statefulset`,
            {
                metadata: { name: RULER_NAME, namespace: args.namespace, labels },
                spec: {
                    replicas: args.replicas,
                    serviceName: RULER_NAME,
                    selector: { matchLabels: selector },
                    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Delete" },
                    template: {
                        // A rule change rolls the pods, so what runs is what was checked (no reloader sidecar needed).
                        metadata: { labels, annotations: { "agent-receiver/rules-sha256": rulesHash } },
                        spec: {
                            automountServiceAccountToken: false,
                            imagePullSecrets: args.imagePullSecrets,
                            securityContext: restrictedPodSecurityContext(),
                            affinity: spreadOverNodes(selector),
                            containers: [
                                thanosContainer({
                                    name: "thanos-ruler",
                                    image: args.image,
                                    args: [...rulerArgs(args), ...tracingArgs(args.tracing, RULER_NAME)],
                                    probes: RULER_PROBES,
                                    env: podIdentityEnv,
                                    resources: resourceRequirements(args.resources),
                                    volumeMounts: [
                                        { name: "data", mountPath: "/var/thanos/rule" },
                                        { name: "rules", mountPath: "/etc/thanos/rules", readOnly: true },
                                    ],
                                }),
                            ],
                            volumes: [{ name: "rules", configMap: { name: `${RULER_NAME}-rules` } }],
                        },
                    },
                    volumeClaimTemplates: [dataClaim(args.storageClass, args.storageSize, selector)],
                },
            },
            { parent: this },
        );
        new k8s.policy.v1.PodDisruptionBudget(
            `${name}-pdb`,
            { metadata: { name: RULER_NAME, namespace: args.namespace, labels }, spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
            { parent: this },
        );
        new k8s.networking.v1.NetworkPolicy(
            `${name}-netpol`,
            {
                metadata: { name: RULER_NAME, namespace: args.namespace, labels },
                spec: {
                    podSelector: { matchLabels: selector },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [{ from: args.metricsScrapers, ports: [{ protocol: "TCP", port: THANOS_PORTS.http }] }],
                    egress: [
                        { to: args.query, ports: [{ protocol: "TCP", port: THANOS_PORTS.http }] },
                        { to: args.alertmanagers, ports: [{ protocol: "TCP", port: args.alertmanagerPort }] },
                        ...tracingEgress(args.tracing),
                    ],
                },
            },
            { parent: this },
        );
        this.registerOutputs({ rulesSha256: rulesHash });
    }
}
