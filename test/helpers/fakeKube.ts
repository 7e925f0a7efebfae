/**
 * A small fake Kubernetes API server for `npm run verify`'s tests: HTTPS with its own CA, bearer-token auth, the GET
 * endpoints the checks call (pods by label selector, StatefulSets, ConfigMaps, Nodes, ValidatingAdmissionPolicies and
 * their bindings), and the WebSocket port-forward protocol the API server speaks (`v4.channel.k8s.io`: per port a
 * data and an error channel, each opened by the port number), carried to a local TCP port that stands in for the
 * pod's. Every request is recorded with the RBAC verb, group and resource the API server would authorize, so a test
 * can hold the documented RBAC to what the checks really ask for.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import { stringify } from "yaml";
import { WebSocketServer } from "ws";

/** A pod: its labels, readiness, and which local port stands in for each of its ports. */
export interface FakePod {
    readonly namespace: string;
    readonly name: string;
    readonly labels: Record<string, string>;
    ready: boolean;
    /** Pod port → 127.0.0.1 port that answers for it; a port not listed refuses the forward like the kubelet does. */
    forward: Record<number, number>;
}

/** A request as the API server's authorizer sees it. */
export interface FakeRequest {
    readonly verb: string;
    readonly apiGroup: string;
    readonly resource: string;
    readonly namespace?: string;
    readonly name?: string;
}

/** The plural resource of a kind, as the fake serves it. */
const RESOURCE: Record<string, string> = {
    StatefulSet: "statefulsets",
    ConfigMap: "configmaps",
    Node: "nodes",
    ValidatingAdmissionPolicy: "validatingadmissionpolicies",
    ValidatingAdmissionPolicyBinding: "validatingadmissionpolicybindings",
};

const PORT_FORWARD_PROTOCOL = "v4.channel.k8s.io";

function status(code: number, reason: string, message: string) {
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

/** A self-signed certificate for 127.0.0.1 (its own CA), made with openssl in `dir`. */
export function serverCertificate(dir: string): { cert: string; key: string } {
    const key = path.join(dir, "apiserver.key");
    const cert = path.join(dir, "apiserver.crt");
    if (!fs.existsSync(cert)) {
        execFileSync(
            "openssl",
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=fake-apiserver", "-addext", "subjectAltName=IP:127.0.0.1"],
            { stdio: "pipe" },
        );
    }
    return { cert: fs.readFileSync(cert, "utf8"), key: fs.readFileSync(key, "utf8") };
}

export class FakeKube {
    /** Objects served by GET, as the API server would return them (with status). */
    objects: any[] = [];
    pods: FakePod[] = [];
    readonly requests: FakeRequest[] = [];
    /** Refuse port-forwards as RBAC without `create` on `pods/portforward` does from Kubernetes 1.35. */
    forbidPortForward = false;
    readonly token = `token-${Math.random().toString(36).slice(2)}`;
    private server!: https.Server;
    private readonly sockets = new Set<net.Socket>();
    url = "";

    constructor(readonly tls: { cert: string; key: string }) {}

    async start(): Promise<this> {
        const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has(PORT_FORWARD_PROTOCOL) ? PORT_FORWARD_PROTOCOL : false) });
        this.server = https.createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) => this.serve(req, res));
        this.server.on("connection", (s: net.Socket) => {
            this.sockets.add(s);
            s.on("close", () => this.sockets.delete(s));
        });
        this.server.on("upgrade", (req, socket: net.Socket, head) => {
            const refuse = (code: number, reason: string, message: string) => {
                socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify(status(code, reason, message))}`);
            };
            if (req.headers.authorization !== `Bearer ${this.token}`) return refuse(401, "Unauthorized", "Unauthorized");
            const url = new URL(req.url ?? "/", "https://x");
            const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/.exec(url.pathname);
            if (!m) return refuse(404, "NotFound", `no upgrade at ${url.pathname}`);
            const [, namespace, name] = m;
            // A WebSocket upgrade is a GET: authorized as `get`, and from Kubernetes 1.35 also as `create`.
            for (const verb of ["get", "create"]) this.requests.push({ verb, apiGroup: "", resource: "pods/portforward", namespace, name });
            if (this.forbidPortForward) {
                return refuse(403, "Forbidden", `pods "${name}" is forbidden: User "verify" cannot create resource "pods/portforward" in API group "" in the namespace "${namespace}"`);
            }
            const pod = this.pods.find((p) => p.namespace === namespace && p.name === name);
            if (!pod) return refuse(404, "NotFound", `pods "${name}" not found`);
            const port = Number(url.searchParams.get("ports"));
            wss.handleUpgrade(req, socket, head, (ws) => this.portForward(ws, pod, port));
        });
        await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
        this.url = `https://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
        return this;
    }

    async close(): Promise<void> {
        for (const s of this.sockets) s.destroy();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    /** The port-forward channels: 0 data, 1 errors; each first carries the port (uint16, little-endian). */
    private portForward(ws: import("ws").WebSocket, pod: FakePod, port: number): void {
        const portBytes = Buffer.from([port & 0xff, port >> 8]);
        ws.send(Buffer.concat([Buffer.from([0]), portBytes]));
        ws.send(Buffer.concat([Buffer.from([1]), portBytes]));
        const local = pod.forward[port];
        const fail = (why: string) => {
            ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(`an error occurred forwarding ${port} -> ${port}: error forwarding port ${port} to pod ${pod.name}: ${why}`)]));
            ws.close();
        };
        if (local === undefined) return fail(`failed to connect to localhost:${port} inside namespace: connection refused`);
        const tcp = net.connect(local, "127.0.0.1");
        const pending: Buffer[] = [];
        let connected = false;
        tcp.on("connect", () => {
            connected = true;
            for (const b of pending.splice(0)) tcp.write(b);
        });
        tcp.on("data", (d: Buffer) => ws.send(Buffer.concat([Buffer.from([0]), d])));
        tcp.on("error", (e) => fail(e.message));
        tcp.on("close", () => ws.close());
        ws.on("message", (data: Buffer) => {
            if (data[0] !== 0) return;
            if (connected) tcp.write(data.subarray(1));
            else pending.push(data.subarray(1));
        });
        ws.on("close", () => tcp.end());
    }

    private serve(req: import("http").IncomingMessage, res: import("http").ServerResponse): void {
        const send = (code: number, body: unknown) => {
            res.writeHead(code, { "Content-Type": "application/json" });
            res.end(JSON.stringify(body));
        };
        if (req.headers.authorization !== `Bearer ${this.token}`) return send(401, status(401, "Unauthorized", "Unauthorized"));
        const url = new URL(req.url ?? "/", "https://x");
        // /api/v1/... (core) or /apis/<group>/<version>/..., then [namespaces/<ns>/]<resource>[/<name>]
        const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
        if (req.method !== "GET" || !m) return send(404, status(404, "NotFound", `the fake serves no ${req.method} ${url.pathname}`));
        const [, group = "", namespace, resource, name] = m;
        this.requests.push({ verb: name ? "get" : "list", apiGroup: group, resource, namespace, name });
        if (resource === "pods" && !name) {
            const selector = Object.fromEntries((url.searchParams.get("labelSelector") ?? "").split(",").filter(Boolean).map((kv) => kv.split("=") as [string, string]));
            const items = this.pods
                .filter((p) => p.namespace === namespace && Object.entries(selector).every(([k, v]) => p.labels[k] === v))
                .map((p) => ({
                    apiVersion: "v1",
                    kind: "Pod",
                    metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
                    status: { phase: "Running", conditions: [{ type: "Ready", status: p.ready ? "True" : "False" }] },
                }));
            return send(200, { apiVersion: "v1", kind: "PodList", metadata: {}, items });
        }
        const found = this.objects.find(
            (o) => RESOURCE[o.kind] === resource && (o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "") === group && o.metadata.namespace === namespace && o.metadata.name === name,
        );
        if (!found) return send(404, status(404, "NotFound", `${resource} "${name}" not found`));
        send(200, found);
    }
}

/** A kubeconfig with one context per fake cluster, each with the fake's CA and token. */
export function writeKubeconfig(file: string, clusters: { context: string; fake: FakeKube }[]): string {
    const doc = {
        apiVersion: "v1",
        kind: "Config",
        clusters: clusters.map(({ context, fake }) => ({ name: context, cluster: { server: fake.url, "certificate-authority-data": Buffer.from(fake.tls.cert).toString("base64") } })),
        users: clusters.map(({ context, fake }) => ({ name: `${context}-verify`, user: { token: fake.token } })),
        contexts: clusters.map(({ context }) => ({ name: context, context: { cluster: context, user: `${context}-verify` } })),
        "current-context": clusters[0].context,
    };
    fs.writeFileSync(file, stringify(doc));
    return file;
}
