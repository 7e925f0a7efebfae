/**
 * Certificate expiry as a metric. No component exposes it: Prometheus has no metric for the client certificate it
 * presents, Thanos Receive none for the certificates it serves or sees, OpenSearch's exporter none for its node
 * certificate. The program issues every certificate (@pulumi/tls) and knows each one's `validityEndTime`, so it
 * publishes that figure where a Prometheus can read it, next to the certificate as it is mounted:
 * - on cluster-01 (the CA, Receive's server certificate, cluster-01's own client certificate, OpenSearch's
 *   certificates) as constant recording rules of the central Prometheus pair, written in the same `pulumi up` that
 *   writes the certificates into their Secrets;
 * - on each edge (the writer's client certificate, which the edge mounts at its own `pulumi up`, possibly long after
 *   cluster-01 renewed it) as a node-exporter textfile the edge stack writes from the same stack output as the
 *   certificate, so the figure is the one of the certificate actually mounted.
 * Leaf certificates are re-issued by a `pulumi up` in their last 30 days; the alert fires when that has not happened
 * with two weeks left.
 */
import type { AlertRule, RuleGroup } from "./alertRules";

export const CERTIFICATE_EXPIRY_METRIC = "agent_receiver_certificate_expiry_timestamp_seconds";
/** Days before expiry at which the alert fires: 16 days into the 30-day renewal window without a `pulumi up`. */
export const CERTIFICATE_EXPIRY_DAYS = 14;

export interface CertificateExpiry {
    /** What the certificate is for: `remote-write-ca`, `remote-write-server`, `remote-write-client`, `logs-node`, ... */
    readonly certificate: string;
    /** The writer id, for client certificates. */
    readonly writer?: string;
    /** The certificate's NotAfter, RFC 3339 (the tls provider's `validityEndTime`). */
    readonly notAfter: string;
}

export function expirySeconds(e: CertificateExpiry): number {
    const t = Date.parse(e.notAfter);
    if (Number.isNaN(t)) throw new Error(`certificate ${e.certificate}${e.writer ? ` of ${e.writer}` : ""}: NotAfter "${e.notAfter}" is not an RFC 3339 time`);
    return Math.floor(t / 1000);
}

function labels(e: CertificateExpiry): Record<string, string> {
    return { certificate: e.certificate, ...(e.writer ? { writer: e.writer } : {}) };
}

/** Constant recording rules, one series per certificate (the central Prometheus pair's). */
export function certificateRecordingGroup(expiries: CertificateExpiry[]): RuleGroup {
    return { name: "agent-receiver-certificates", rules: expiries.map((e) => ({ record: CERTIFICATE_EXPIRY_METRIC, expr: `vector(${expirySeconds(e)})`, labels: labels(e) })) };
}

/** The same series in the text exposition format, for node-exporter's textfile collector (the edges'). */
export function certificateTextfile(expiries: CertificateExpiry[]): string {
    const lines = [
        `# HELP ${CERTIFICATE_EXPIRY_METRIC} NotAfter of a certificate the platform mounts, as written by pulumi up.`,
        `# TYPE ${CERTIFICATE_EXPIRY_METRIC} gauge`,
        ...expiries.map((e) => `${CERTIFICATE_EXPIRY_METRIC}{${Object.entries(labels(e)).map(([k, v]) => `${k}="${v}"`).join(",")}} ${expirySeconds(e)}`),
    ];
    return lines.join("\n") + "\n";
}

/** The alert, over the series `selector` matches, per `by` and certificate. */
export function certificateExpiryRule(selector: string, by: string[]): AlertRule {
    const keys = [...by, "certificate", "writer"].join(", ");
    return {
        alert: "CertificateExpiringSoon",
        expr: `min by (${keys}) (${CERTIFICATE_EXPIRY_METRIC}${selector ? `{${selector}}` : ""}) - time() < ${CERTIFICATE_EXPIRY_DAYS} * 86400`,
        severity: "critical",
        summary: "Certificate {{ $labels.certificate }} {{ $labels.writer }} expires in {{ $value | humanizeDuration }}.",
        description:
            "No pulumi up has renewed it in its last 30 days. When it expires: a client certificate stops its writer (Receive refuses it), Receive's server certificate or the CA stops every writer, OpenSearch's stops log shipping. Renew with pulumi up (runbook).",
    };
}
