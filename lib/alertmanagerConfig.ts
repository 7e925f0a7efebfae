/**
 * Alertmanager's configuration, generated from `central.monitoring.alerting`. The tests run the rendered text
 * through the real `amtool check-config` and `amtool config routes test`.
 *
 * Receivers are webhooks whose URLs are operator-set secret config keys; the rendered configuration therefore
 * holds secrets and only ever travels as a Pulumi secret (a Kubernetes Secret the operator mounts).
 */
import { stringify } from "yaml";

export interface AlertingArgs {
    readonly receivers: { name: string; webhookUrlSecret: string }[];
    readonly defaultReceiver?: string;
    readonly routes: { receiver: string; severities: string[]; clusters: string[]; tenants: string[]; continue: boolean }[];
    /** The config loader requires `selfMonitoringWebhookUrlSecret` whenever a heartbeat is configured. */
    readonly heartbeat?: { webhookUrlSecret: string; selfMonitoringWebhookUrlSecret?: string; repeatInterval: string };
}

/** Receiver that drops what it gets: where Watchdog goes when no heartbeat service is configured. */
export const NULL_RECEIVER = "null";
export const HEARTBEAT_RECEIVER = "heartbeat";
/** The central Prometheus pair's heartbeat (SelfMonitoringWatchdog): a second check, so either path failing pages. */
export const SELF_MONITORING_HEARTBEAT_RECEIVER = "heartbeat-self-monitoring";

/** Always-firing alerts and the heartbeat receiver each feeds: the Ruler's and the central Prometheus pair's. */
const WATCHDOGS = [
    { alert: "Watchdog", receiver: HEARTBEAT_RECEIVER, secret: (h: NonNullable<AlertingArgs["heartbeat"]>) => h.webhookUrlSecret },
    { alert: "SelfMonitoringWatchdog", receiver: SELF_MONITORING_HEARTBEAT_RECEIVER, secret: (h: NonNullable<AlertingArgs["heartbeat"]>) => h.selfMonitoringWebhookUrlSecret ?? "" },
];

/** Labels alerts are grouped by: one notification per alert and writer. */
export const GROUP_BY = ["alertname", "cluster", "tenant_id", "tenant"];

function matcher(label: string, values: string[]): string[] {
    if (values.length === 0) return [];
    const escaped = values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    return [`${label}=~"${escaped.join("|")}"`];
}

/**
 * The configuration text. `webhookUrls` maps each secret key named by a receiver (and the heartbeat) to its value;
 * a missing key is a programming error (the config loader requires every named key).
 */
export function renderAlertmanagerConfig(a: AlertingArgs, webhookUrls: Record<string, string>): string {
    const url = (key: string) => {
        const v = webhookUrls[key];
        if (v === undefined) throw new Error(`no value for alert webhook secret ${key}`);
        return v;
    };
    const routes: Record<string, unknown>[] = [
        // First, and never continuing: a dead-man's switch must not page anybody, only feed its heartbeat. Two of them,
        // each to its own heartbeat check: one path failing (Ruler, Query, Receive; or the central Prometheus) pages
        // even while the other still pings.
        ...WATCHDOGS.map((w) => ({
            receiver: a.heartbeat ? w.receiver : NULL_RECEIVER,
            matchers: [`alertname="${w.alert}"`],
            group_wait: "0s",
            group_interval: "1m",
            repeat_interval: a.heartbeat?.repeatInterval ?? "24h",
        })),
        ...a.routes.map((r) => ({
            receiver: r.receiver,
            matchers: [...matcher("severity", r.severities), ...matcher("cluster", r.clusters), ...matcher("tenant_id", r.tenants)],
            continue: r.continue,
        })),
        // Critical alerts repeat often until resolved; warnings twice a day.
        { receiver: a.defaultReceiver ?? a.receivers[0].name, matchers: ['severity="critical"'], repeat_interval: "1h" },
    ];
    const receivers: Record<string, unknown>[] = [
        { name: NULL_RECEIVER },
        ...a.receivers.map((r) => ({ name: r.name, webhook_configs: [{ url: url(r.webhookUrlSecret), send_resolved: true }] })),
    ];
    const heartbeat = a.heartbeat;
    if (heartbeat) {
        for (const w of WATCHDOGS) receivers.push({ name: w.receiver, webhook_configs: [{ url: url(w.secret(heartbeat)), send_resolved: false }] });
    }

    return stringify(
        {
            route: {
                receiver: a.defaultReceiver ?? a.receivers[0].name,
                group_by: GROUP_BY,
                group_wait: "30s",
                group_interval: "5m",
                repeat_interval: "12h",
                routes,
            },
            // A critical alert silences the warning of the same name for the same writer (e.g. refused writes).
            inhibit_rules: [
                { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["alertname", "cluster", "tenant_id"] },
                // A writer that sends nothing makes its agent alerts noise.
                { source_matchers: ['alertname="WriterStoppedSending"'], target_matchers: ['alertname=~"AgentRemoteWrite.*|AgentSamplesDropped"'], equal: ["tenant_id"] },
                // A whole Thanos component down makes its targets-down alert noise.
                { source_matchers: ['alertname="ThanosComponentDown"'], target_matchers: ['alertname="TargetDown"'], equal: ["cluster", "job"] },
            ],
            receivers,
        },
        { lineWidth: 0 },
    );
}
