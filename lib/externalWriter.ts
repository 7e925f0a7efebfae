/**
 * The `remote_write` entry of a Prometheus the platform does not deploy (`central.externalWriters`): what its
 * operators add to its configuration. One function, so that the README's block (checked by
 * `test/externalWriter.test.ts`) and the e2e's real Prometheus (scripts/e2e.ts) are the same configuration.
 */
import { TENANT_LABEL } from "./thanos";

/** Where the README tells the external Prometheus' operators to put the three PEM files. */
export const EXTERNAL_WRITER_FILES = {
    ca: "/etc/prometheus/agent-receiver/ca.crt",
    cert: "/etc/prometheus/agent-receiver/client.crt",
    key: "/etc/prometheus/agent-receiver/client.key",
} as const;

export interface ExternalWriterRemoteWriteArgs {
    /** Its writer id (`central.externalWriters[].id`): Receive takes its tenant from the certificate, not from this. */
    readonly writerId: string;
    /** Receive's remote-write URL (stack output `receiveRemoteWriteUrl`). */
    readonly url: string;
    /** The CA (output `receiveCaCertPem`), and its certificate and key (output `externalWriterCredentials`). */
    readonly files: { readonly ca: string; readonly cert: string; readonly key: string };
}

/** The queue name Prometheus shows in its remote-storage metrics (`remote_name`). */
export const EXTERNAL_WRITER_QUEUE_NAME = "agent-receiver";

/**
 * The entry, valid for Prometheus 2.42 (the e2e runs it) and for the agents' pinned v3.14 (keys checked against its
 * configuration reference):
 * - mTLS: Receive requires a client certificate signed by the platform CA and takes the tenant from its
 *   Organization, the writer id; no tenant header is sent (Receive would ignore it);
 * - `retry_on_http_429`: Receive answers 429 when the writer is over its limits; retried, as the edge agents do,
 *   instead of dropped;
 * - write relabelling: no series may carry `tenant_id` itself (the label is Receive's, as on the edges); a series
 *   without a `cluster` label (the Prometheus has no such external label) gets the writer id, because the
 *   platform's dashboards and alerts group by `cluster`. External labels are applied before write relabelling, so
 *   an existing `cluster` external label is kept.
 */
export function externalWriterRemoteWrite(a: ExternalWriterRemoteWriteArgs): Record<string, unknown> {
    return {
        url: a.url,
        name: EXTERNAL_WRITER_QUEUE_NAME,
        tls_config: { ca_file: a.files.ca, cert_file: a.files.cert, key_file: a.files.key },
        queue_config: { retry_on_http_429: true },
        write_relabel_configs: [
            { action: "labeldrop", regex: TENANT_LABEL },
            { source_labels: ["cluster"], regex: "", target_label: "cluster", replacement: a.writerId, action: "replace" },
        ],
    };
}
