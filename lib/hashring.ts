/**
 * The Thanos Receive hashring, generated from the replica count so that scaling Receive regenerates it.
 *
 * With `--receive.hashrings-algorithm=ketama` a change of the ring moves only the series of the added or removed
 * endpoint (hashmod would reshuffle all and make every receiver flush). Ketama also refuses a ring with fewer
 * endpoints than the replication factor; we check that first so the error names the config key.
 */

export interface HashringArgs {
    /** StatefulSet name; pods are `<statefulSet>-0 … -N`. */
    readonly statefulSet: string;
    /** Headless Service that gives each pod a stable DNS name. */
    readonly headlessService: string;
    readonly namespace: string;
    readonly replicas: number;
    readonly replicationFactor: number;
    readonly grpcPort: number;
    /** Name of the single ring. */
    readonly hashringName?: string;
}

export interface Hashring {
    hashring: string;
    endpoints: string[];
    /** Empty: the ring takes every tenant. */
    tenants: string[];
}

/** The endpoint of one pod, exactly as that pod names itself with `--receive.local-endpoint`. */
export function receiveEndpoint(podName: string, a: Pick<HashringArgs, "headlessService" | "namespace" | "grpcPort">): string {
    return `${podName}.${a.headlessService}.${a.namespace}.svc.cluster.local:${a.grpcPort}`;
}

export function generateHashring(a: HashringArgs): Hashring[] {
    if (!Number.isInteger(a.replicas) || a.replicas < 1) throw new Error(`replicas must be a positive integer, got ${a.replicas}`);
    if (a.replicationFactor > a.replicas) {
        throw new Error(`ketama needs at least replicationFactor (${a.replicationFactor}) endpoints, got ${a.replicas}`);
    }
    const endpoints = Array.from({ length: a.replicas }, (_, i) => receiveEndpoint(`${a.statefulSet}-${i}`, a));
    return [{ hashring: a.hashringName ?? "default", endpoints, tenants: [] }];
}
