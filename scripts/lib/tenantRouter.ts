/**
 * A stand-in for Thanos Receive's tenancy, for the e2e run: what Receive does with a remote-write request before it
 * stores it, with the storage left to real Prometheus processes.
 * - It terminates TLS on the remote-write path and requires a client certificate signed by the CA
 *   (`--remote-write.server-tls-client-ca`);
 * - takes the tenant from the certificate's Organization (`--receive.tenant-certificate-field=organization`), and no
 *   header can change it;
 * - writes into that tenant's own TSDB (Receive keeps one per tenant): here one Prometheus remote-write receiver per
 *   tenant, on loopback over plain HTTP. A tenant with no TSDB here is answered 403 and counted (Receive would open
 *   one: here it means a writer came in under a tenant the test did not expect).
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import type * as tls from "tls";
import type { Certificates } from "./harness";

export interface TenantRouter {
    /** Requests stored per tenant. */
    readonly accepted: Map<string, number>;
    /** Tenants of requests answered 403 (no TSDB here). */
    readonly refused: string[];
    close(): Promise<void>;
}

/** Receive's remote-write path (the `receiveRemoteWriteUrl` output ends with it). */
export const RECEIVE_PATH = "/api/v1/receive";

/** Headers of a remote-write request that the receiving TSDB reads. */
const FORWARDED_HEADERS = ["content-type", "content-encoding", "x-prometheus-remote-write-version"];

export function startTenantRouter(port: number, certs: Certificates, tenantTsdbPorts: Readonly<Record<string, number>>): Promise<TenantRouter> {
    const accepted = new Map<string, number>();
    const refused: string[] = [];
    const server = https.createServer(
        {
            key: fs.readFileSync(certs.serverKey),
            cert: fs.readFileSync(certs.serverCert),
            ca: fs.readFileSync(certs.ca),
            requestCert: true,
            rejectUnauthorized: true,
        },
        (req, res) => {
            const organization = (req.socket as tls.TLSSocket).getPeerCertificate().subject?.O;
            const tenant = Array.isArray(organization) ? organization[0] : organization;
            if (req.method !== "POST" || req.url !== RECEIVE_PATH) {
                res.writeHead(404).end();
                return;
            }
            const tsdb = tenant === undefined ? undefined : tenantTsdbPorts[tenant];
            if (tsdb === undefined) {
                refused.push(String(tenant));
                res.writeHead(403).end(`no TSDB for tenant ${tenant}`);
                return;
            }
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => {
                const body = Buffer.concat(chunks);
                const headers: http.OutgoingHttpHeaders = { "content-length": body.length };
                for (const h of FORWARDED_HEADERS) if (req.headers[h] !== undefined) headers[h] = req.headers[h];
                const forward = http.request({ host: "127.0.0.1", port: tsdb, path: "/api/v1/write", method: "POST", headers }, (r) => {
                    if ((r.statusCode ?? 500) < 300) accepted.set(tenant as string, (accepted.get(tenant as string) ?? 0) + 1);
                    res.writeHead(r.statusCode ?? 502);
                    r.pipe(res);
                });
                // The tenant's TSDB is down: retryable, as Receive answers when it cannot store.
                forward.on("error", (e) => res.writeHead(503).end(String(e)));
                forward.end(body);
            });
        },
    );
    return new Promise((resolve, reject) => {
        server.on("error", reject);
        server.listen(port, "127.0.0.1", () =>
            resolve({
                accepted,
                refused,
                close: () =>
                    new Promise<void>((done) => {
                        server.closeAllConnections();
                        server.close(() => done());
                    }),
            }),
        );
    });
}
