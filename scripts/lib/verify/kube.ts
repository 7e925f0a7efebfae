/**
 * Reaching a deployed cluster the way an operator does: the API server of a kube context (with that context's
 * kubeconfig credentials), and an in-cluster HTTP endpoint through a port-forward to one of its pods.
 *
 * Why a port-forward and not the API server's services proxy: the proxy connects from the API server to the pod, and
 * the platform's NetworkPolicies admit no such source (Thanos Query takes queries from the frontend, Receive and the
 * Ruler only; stacks/network.ts), so it would need a new flow into every component it reads. A port-forward is carried
 * by the kubelet into the pod's own network namespace, where it connects to the port on localhost: no policy sits on
 * that path, and the table of flows stays as it is. What it needs is RBAC (`VERIFY_RBAC` in checks.ts).
 *
 * The official client (`@kubernetes/client-node`) reads the kubeconfig (exec plugins, tokens, client certificates)
 * and speaks the API server's WebSocket port-forward protocol; kubectl would do the same but is one more binary on the
 * runner, with output to parse.
 */
import * as k8s from "@kubernetes/client-node";
import * as http from "http";
import * as net from "net";
import { Writable } from "stream";

/** A failure to report as a FAIL line: an operator-facing message, no stack trace. */
export class VerifyError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "VerifyError";
    }
}

/** Pods by labels in a namespace (a workload of stacks/network.ts). */
export interface PodSelector {
    readonly namespace: string;
    readonly labels?: Readonly<Record<string, string>>;
}

export function isReady(pod: k8s.V1Pod): boolean {
    return (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** `a=b,c=d`, the equality-based label selector of a label map. */
export function labelSelector(labels: Readonly<Record<string, string>> = {}): string {
    return Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
}

/** The message of an API error (the Status' message when the API server sent one). */
export function apiMessage(e: unknown): string {
    if (e instanceof k8s.ApiException) {
        const body = e.body as unknown;
        let status: { message?: string } | undefined;
        try {
            status = (typeof body === "string" ? JSON.parse(body) : body) as { message?: string };
        } catch {
            status = undefined;
        }
        return `HTTP ${e.code}${status?.message ? `: ${status.message}` : ""}`;
    }
    if (e instanceof Error) {
        const cause = (e as { cause?: unknown }).cause;
        return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
    }
    return String(e);
}

/** Whether an API error is a 404 (the object does not exist). */
export function isNotFound(e: unknown): boolean {
    return e instanceof k8s.ApiException && e.code === 404;
}

/** One cluster, through one kube context. */
export class ClusterAccess {
    readonly core: k8s.CoreV1Api;
    readonly apps: k8s.AppsV1Api;
    readonly admission: k8s.AdmissionregistrationV1Api;
    private readonly forwarder: k8s.PortForward;

    private constructor(
        /** The kube context (the stack's `kubernetes.context`). */
        readonly context: string,
        kc: k8s.KubeConfig,
    ) {
        this.core = kc.makeApiClient(k8s.CoreV1Api);
        this.apps = kc.makeApiClient(k8s.AppsV1Api);
        this.admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
        this.forwarder = new k8s.PortForward(kc, true);
    }

    /**
     * The cluster of a kube context, from `kubeconfig` or else the default kubeconfig (`KUBECONFIG`, `~/.kube/config`),
     * as kubectl and the Pulumi Kubernetes provider find it. `where` names the config key the context comes from.
     */
    static forContext(context: string, where: string, kubeconfig?: string): ClusterAccess {
        const kc = new k8s.KubeConfig();
        try {
            if (kubeconfig) kc.loadFromFile(kubeconfig);
            else kc.loadFromDefault();
        } catch (e) {
            throw new VerifyError(`cannot read the kubeconfig${kubeconfig ? ` ${kubeconfig}` : ""}: ${apiMessage(e)}`);
        }
        if (!kc.getContextObject(context)) {
            const known = kc.getContexts().map((c) => c.name);
            throw new VerifyError(`the kubeconfig has no context "${context}" (${where}); it has: ${known.join(", ") || "none"}`);
        }
        kc.setCurrentContext(context);
        return new ClusterAccess(context, kc);
    }

    /** Every pod a selector matches. */
    async pods(sel: PodSelector): Promise<k8s.V1Pod[]> {
        const list = await this.core.listNamespacedPod({ namespace: sel.namespace, labelSelector: labelSelector(sel.labels) });
        return list.items;
    }

    /** The ready pods a selector matches; fails naming the selector when there is none. */
    async readyPods(sel: PodSelector, what: string): Promise<k8s.V1Pod[]> {
        const pods = await this.pods(sel);
        const ready = pods.filter(isReady);
        if (ready.length === 0) {
            throw new VerifyError(
                `no ready pod of ${what} in namespace ${sel.namespace} (selector ${labelSelector(sel.labels)}): ${pods.length === 0 ? "none exists" : `${pods.length} not ready`}`,
            );
        }
        return ready;
    }

    /**
     * An HTTP GET to `port` of a pod through a port-forward, as `kubectl port-forward` and curl would do it: a local
     * listener on 127.0.0.1 whose connections are carried to the pod by the API server. Returns the body of a 2xx
     * answer; fails with the status, or with what the kubelet reported on the port-forward's error stream.
     */
    async httpGet(pod: k8s.V1Pod, port: number, path: string, timeoutMs = 15000): Promise<string> {
        const namespace = pod.metadata?.namespace as string;
        const name = pod.metadata?.name as string;
        const where = `${namespace}/${name}:${port}`;
        const forwardErrors: string[] = [];
        const sockets = new Set<net.Socket>();
        const server = net.createServer((socket) => {
            sockets.add(socket);
            socket.on("close", () => sockets.delete(socket));
            const errorStream = new Writable({
                write(chunk: Buffer, _enc, done) {
                    forwardErrors.push(chunk.toString("utf8").trim());
                    done();
                },
            });
            this.forwarder.portForward(namespace, name, [port], socket, errorStream, socket).then(
                (ws) => {
                    const socketToPod = ws as unknown as { close(): void; on(event: "close", fn: () => void): void };
                    // Whichever side closes first closes the other: the HTTP client sees the end of a refused forward.
                    socketToPod.on("close", () => socket.end());
                    socket.on("close", () => socketToPod.close());
                },
                (e: unknown) => {
                    forwardErrors.push(`port-forward refused: ${describeWsError(e)}`);
                    socket.destroy();
                },
            );
        });
        await new Promise<void>((resolve, reject) => server.listen(0, "127.0.0.1", resolve).on("error", reject));
        const localPort = (server.address() as net.AddressInfo).port;
        try {
            const res = await get(localPort, path, timeoutMs);
            if (res.status < 200 || res.status >= 300) throw new VerifyError(`GET ${path} on ${where}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
            return res.body;
        } catch (e) {
            if (e instanceof VerifyError) throw e;
            const reported = forwardErrors.filter(Boolean).join("; ");
            throw new VerifyError(`GET ${path} on ${where} through a port-forward failed: ${reported || apiMessage(e)}`);
        } finally {
            for (const s of sockets) s.destroy();
            server.close();
        }
    }
}

/** A WebSocket handshake error: the API server's HTTP status is the useful part (401, 403, 404). */
function describeWsError(e: unknown): string {
    const err = (e as { error?: unknown; message?: string })?.error ?? e;
    return err instanceof Error ? err.message : String((e as { message?: string })?.message ?? e);
}

function get(port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port, path, agent: false, headers: { Connection: "close" }, timeout: timeoutMs }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)));
        req.on("error", reject);
    });
}
