/**
 * Sizing from series, in one place: what the configuration states as expected active series (per writer on an edge,
 * per writer and in total on the central cluster) becomes the agents' memory and remote-write shards, Receive's,
 * Query's and the Store Gateway's requests, the memcached fleets' memory and Receive's head-series limits.
 *
 * Precedence, the same for every figure: a value set in the configuration wins, field by field (`resources.requests.
 * memory` alone, `limits.<writer>.uniqueHeadSeries` alone); what is not set is derived here. A derived memory limit
 * follows the memory request in effect, explicit or derived, so an explicit request alone moves both. An explicit
 * limit below the request in effect is refused (lib/config.ts). Volume sizes are never derived: a claim template
 * change replaces a StatefulSet (`checkVolumeSize` in lib/config.ts).
 *
 * Where each per-series figure comes from is stated next to it (README, "Sizing from series", has the table):
 * - the agent's: measured here by `npm run bench` with Prometheus 2.42 (the Prometheus this machine has), with a
 *   margin for the v3 the agents run;
 * - Receive's: Grafana Mimir's capacity planning for its ingesters and distributors, because Thanos publishes none
 *   (its docs at v0.42.4 have no per-series memory or CPU figure; kube-thanos sets no resources for it): a Mimir
 *   ingester keeps each tenant's series in the same Prometheus TSDB head a Receive keeps per tenant, and its
 *   distributor does the hashing and replication Receive's router does;
 * - Query's, the Store Gateway's and the memcached fleets': no upstream figure per series exists (Mimir sizes its
 *   queriers, store-gateways and caches by queries per second and cache evictions); they grow in proportion to the
 *   total series from the program's defaults at the reference load, never below them.
 *
 * Pure: no Pulumi, no I/O; `test/sizing.test.ts` holds the derivation table.
 */
import type { CentralConfig, EdgeConfig, Resources } from "./config";
import { parseQuantity } from "./k8s";
import { agentStatefulSetName } from "./tenancy";

const MiB = 1024 ** 2;

/** Series an edge agent (or a writer) is expected to carry when the configuration says nothing. */
export const DEFAULT_EXPECTED_SERIES = 54_000;

/** What an operator may set of a `resources` block; everything unset is derived. */
export interface ResourceOverrides {
    readonly requests?: { readonly cpu?: string; readonly memory?: string };
    readonly limits?: { readonly cpu?: string; readonly memory?: string };
}

// ---------------------------------------------------------------------------------------------------------
// The edge agent
// ---------------------------------------------------------------------------------------------------------

/**
 * The agent's memory, measured here: resident memory (RSS) of Debian's Prometheus 2.42.0 in agent mode running the
 * generated cluster-03 configuration (compatibility rendering), scraping every 30 s, after a 10-minute warm-up, at
 * about 27k and 57k active series, beside a default agent with one shard (`npm run bench`, section 2; the load is
 * described there). RSS = `fixedBytes + bytesPerSeries × series + bytesPerShard × shards`: the series term from the
 * two default agents, the shard term from each generated agent over the default one at the same load (each shard
 * holds its own batch buffers). Two runs gave 2374 and 2865 B per series, 4.2 to 6.3 MiB per shard; the figures below
 * put the model at or above each of the ten RSS measured (146 to 265 MiB), before the v3 margin. The drain peak is the
 * highest RSS through a 5-minute Receive outage and its drain, over the steady RSS before it: 1.01 to 1.16 with the
 * generated fixed shards (a default agent, resharding up to more than 100 shards, peaked at 1.6 to 2.7).
 *
 * Prometheus 3 was not measured (no v3 binary here). The request takes `v3Margin` over the 2.42 figure: v3 stores
 * labels as one string per series (`stringlabels`, the default build at v3.14.0) and sets GOMEMLIMIT to 90 % of the
 * container's limit (`--auto-gomemlimit`, on by default), both of which lower or cap its RSS, while its other changes
 * (Go 1.26, remote-write 2.0 support, native histograms) were not weighed; the margin covers being wrong by a quarter.
 * `npm run bench` fails when a derived request is below the RSS it measures.
 */
export const AGENT_MEMORY = {
    measuredWith: "Prometheus 2.42.0 (Debian 2.42.0+ds-5+deb12u1), agent mode, generated cluster-03 config, 30 s scrape, RSS after a 10-minute warm-up",
    fixedBytes: 72 * MiB,
    bytesPerSeries: 2870,
    bytesPerShard: 6.5 * MiB,
    drainPeakRatio: 1.2,
    v3Margin: 1.25,
} as const;

/** CPU request of an agent: not derived (CPU cannot be measured on the shared machine the bench runs on). */
export const AGENT_CPU_REQUEST = "100m";

/** The agent's memory for `series` active series and `shards` shards: steady (as measured), request (v3 margin), limit. */
export function agentMemory(series: number, shards: number): { steadyBytes: number; requestBytes: number; limitBytes: number } {
    const steadyBytes = AGENT_MEMORY.fixedBytes + AGENT_MEMORY.bytesPerSeries * series + AGENT_MEMORY.bytesPerShard * shards;
    const requestBytes = roundUp(steadyBytes * AGENT_MEMORY.v3Margin, 16 * MiB);
    return { steadyBytes, requestBytes, limitBytes: agentLimitFor(requestBytes) };
}

/** The agent's memory limit for a memory request: the drain peak over the steady state, on top of it. */
function agentLimitFor(requestBytes: number): number {
    return roundUp(requestBytes * AGENT_MEMORY.drainPeakRatio, 16 * MiB);
}

/**
 * The agent's remote-write shards, fixed (`min_shards` = `max_shards`): Prometheus then never reshards, so no
 * resharding can drop a batch when the flush deadline passes (README, "Shutdown") and the deadline only bounds a stop.
 * Sized so that
 * the backlog of an outage drains `drainToBuild` times faster than it builds while Receive answers a write of
 * `max_samples_per_send` samples within `designSendSeconds`: shards × maxSamplesPerSend / designSendSeconds ≥
 * drainToBuild × series / scrapeInterval. At ReceiveLatencyHigh's 10 s (p99) the same shards still send as fast as
 * the scrapes add, so the backlog stops growing.
 */
export const REMOTE_WRITE_SHARDS = { drainToBuild: 10, designSendSeconds: 1, max: 50 } as const;

export function agentShards(series: number, scrapeIntervalSeconds: number, maxSamplesPerSend: number): number {
    const buildPerSecond = series / scrapeIntervalSeconds;
    const needed = Math.ceil((REMOTE_WRITE_SHARDS.drainToBuild * buildPerSecond * REMOTE_WRITE_SHARDS.designSendSeconds) / maxSamplesPerSend);
    return Math.min(REMOTE_WRITE_SHARDS.max, Math.max(1, needed));
}

/** An agent's resources: the memory request and limit from its expected series and shards, unless set. */
export function agentResources(series: number, shards: number, overrides: ResourceOverrides = {}): Resources {
    const memory = agentMemory(series, shards);
    return resolveResources(
        { cpu: AGENT_CPU_REQUEST, memoryBytes: memory.requestBytes, limitFor: agentLimitFor },
        overrides,
    );
}

// ---------------------------------------------------------------------------------------------------------
// Thanos Receive
// ---------------------------------------------------------------------------------------------------------

/**
 * Receive's figures, from Grafana Mimir's capacity planning ("Planning Grafana Mimir capacity",
 * grafana/mimir docs/sources/mimir/manage/run-production-environment/planning-capacity.md at commit 03a992a5):
 * ingester "1 core and 2.5GB for every 300,000 series in memory" (series × replication factor), distributor "1 core
 * and 1GB every 25,000 samples per second", and "50% extra capacity for memory" for peaks. Thanos gives none: its
 * docs at v0.42.4 state no per-series memory or CPU for Receive, and kube-thanos sets no resources for it.
 */
export const RECEIVE_FIGURES = {
    source: "Grafana Mimir, Planning capacity (grafana/mimir docs/sources/mimir/manage/run-production-environment/planning-capacity.md @ 03a992a5)",
    inMemorySeriesPerCore: 300_000,
    bytesPerInMemorySeries: 2.5e9 / 300_000,
    samplesPerSecondPerCore: 25_000,
    bytesPerSamplePerSecond: 1e9 / 25_000,
    peakMemoryMargin: 1.5,
} as const;

/**
 * Samples per series per second that the central side plans for: the edge agents' scrape interval by default (30 s).
 * An edge that scrapes more often sends more samples per series; the central stack cannot read the edges' intervals.
 */
export const PLANNED_SCRAPE_INTERVAL_SECONDS = 30;

/**
 * Head-series limit of a writer whose limit is not set: its expected series times this. Receive's memory limit holds
 * every writer at its limit (below), and HeadSeriesLimitNear warns at 80 % of it, so at 1.2 × the expected series.
 */
export const HEAD_SERIES_HEADROOM = 1.5;

/** Receive's memory and CPU for `inMemorySeries` head series and `samplesPerSecond` routed, on one replica. */
function receiveDemand(inMemorySeries: number, samplesPerSecond: number): { cores: number; bytes: number } {
    const f = RECEIVE_FIGURES;
    return {
        cores: inMemorySeries / f.inMemorySeriesPerCore + samplesPerSecond / f.samplesPerSecondPerCore,
        bytes: inMemorySeries * f.bytesPerInMemorySeries + samplesPerSecond * f.bytesPerSamplePerSecond,
    };
}

export interface ReceiveSizingInput {
    /** Expected active series of each writer id, as the writer sends them (each counted once). */
    readonly expectedSeries: Record<string, number>;
    /** Expected series of a request without a known tenant (the default tenant). */
    readonly defaultExpectedSeries: number;
    /** `uniqueHeadSeries` set in the configuration: per writer, and the default (undefined: derive). */
    readonly explicitLimits: { readonly default?: number; readonly writers: Record<string, number | undefined> };
    readonly replicas: number;
    readonly replicationFactor: number;
    readonly overrides?: ResourceOverrides;
}

export interface ReceiveSizing {
    readonly resources: Resources;
    /** `uniqueHeadSeries` in effect per writer and for the default tenant (0 = no limit). */
    readonly uniqueHeadSeries: { readonly default: number; readonly writers: Record<string, number> };
    /** Head series one receiver holds at the expected load, and at every writer's limit. */
    readonly inMemorySeries: { readonly expected: number; readonly atLimits: number };
}

/**
 * Receive, one replica: each series lives on `replicationFactor` of the `replicas` receivers, and each receiver routes
 * its share of the incoming samples. Request: the expected series. Memory limit: every writer at its head-series
 * limit (a writer without one at HEAD_SERIES_HEADROOM × expected), and at least Mimir's 50 % over the request; so the
 * limiter refuses writes before the kernel kills a receiver.
 */
export function receiveSizing(i: ReceiveSizingInput): ReceiveSizing {
    const writers = Object.keys(i.expectedSeries);
    const derivedLimit = (expected: number) => Math.ceil(expected * HEAD_SERIES_HEADROOM);
    const limitOf = (w: string) => i.explicitLimits.writers[w] ?? i.explicitLimits.default ?? derivedLimit(i.expectedSeries[w]);
    const uniqueHeadSeries = {
        default: i.explicitLimits.default ?? derivedLimit(i.defaultExpectedSeries),
        writers: Object.fromEntries(writers.map((w) => [w, limitOf(w)])),
    };
    const perReplica = (unique: number) => (unique * i.replicationFactor) / i.replicas;
    const expectedTotal = writers.reduce((s, w) => s + i.expectedSeries[w], 0);
    // A writer without a limit (0) is counted at the headroom, as if it had the derived one.
    const atLimitsTotal = writers.reduce((s, w) => s + (uniqueHeadSeries.writers[w] || derivedLimit(i.expectedSeries[w])), 0);
    const routed = (unique: number) => unique / PLANNED_SCRAPE_INTERVAL_SECONDS / i.replicas;
    const expected = receiveDemand(perReplica(expectedTotal), routed(expectedTotal));
    const atLimits = receiveDemand(perReplica(atLimitsTotal), routed(atLimitsTotal));
    const limitFor = (requestBytes: number) => roundUp(Math.max(requestBytes * RECEIVE_FIGURES.peakMemoryMargin, atLimits.bytes), 64 * MiB);
    const resources = resolveResources({ cpu: millicores(expected.cores), memoryBytes: roundUp(expected.bytes, 64 * MiB), limitFor }, i.overrides ?? {});
    return { resources, uniqueHeadSeries, inMemorySeries: { expected: perReplica(expectedTotal), atLimits: perReplica(atLimitsTotal) } };
}

// ---------------------------------------------------------------------------------------------------------
// Query, Store Gateway, memcached
// ---------------------------------------------------------------------------------------------------------

/**
 * The load at which the program's defaults for Query, the Store Gateway and the memcached fleets were chosen: the
 * default configuration's five writers (cluster-01, cluster-02-a, cluster-02-b, cluster-03, cluster-04) at
 * DEFAULT_EXPECTED_SERIES each. Above it they grow in proportion to the total series (the rules and dashboards
 * aggregate over every writer's series, so what one evaluation fetches and caches grows with them); below it they
 * stay at the defaults (the process's own base).
 */
export const REFERENCE_TOTAL_SERIES = 5 * DEFAULT_EXPECTED_SERIES;

/** The program's defaults at REFERENCE_TOTAL_SERIES. */
export const QUERY_PATH_DEFAULTS = {
    query: { cpu: "500m", memory: "1Gi", limitRatio: 2 },
    storeGateway: { cpu: "500m", memory: "2Gi", limitRatio: 2 },
    /** The results cache (Query Frontend), per memcached replica. */
    resultsCacheMiB: 1024,
    /** The Store Gateway's index and chunks cache, per memcached replica. */
    storeCacheMiB: 2048,
} as const;

/** How much the query path grows over its defaults for `totalSeries`: never below 1. */
export function queryPathScale(totalSeries: number): number {
    return Math.max(1, totalSeries / REFERENCE_TOTAL_SERIES);
}

/** Query's or the Store Gateway's resources for `totalSeries`, unless set. */
export function queryPathResources(component: "query" | "storeGateway", totalSeries: number, overrides: ResourceOverrides = {}): Resources {
    const d = QUERY_PATH_DEFAULTS[component];
    const scale = queryPathScale(totalSeries);
    return resolveResources(
        {
            cpu: millicores((parseQuantity(d.cpu) * scale)),
            memoryBytes: roundUp(parseQuantity(d.memory) * scale, 64 * MiB),
            limitFor: (request) => roundUp(request * d.limitRatio, 64 * MiB),
        },
        overrides,
    );
}

/** A memcached fleet's item memory (MiB per replica) for `totalSeries`, unless set. */
export function cacheMemoryMiB(cache: "resultsCacheMiB" | "storeCacheMiB", totalSeries: number, explicit?: number): number {
    if (explicit !== undefined) return explicit;
    return Math.ceil((QUERY_PATH_DEFAULTS[cache] * queryPathScale(totalSeries)) / 64) * 64;
}

// ---------------------------------------------------------------------------------------------------------
// A stack's sizing, from its configuration
// ---------------------------------------------------------------------------------------------------------

/**
 * A stopping agent waits its flush deadline for the sample shards, and once more for a metadata send in flight when
 * metadata sending is on (`QueueManager.Stop` stops the shards, then the metadata watcher, which waits the same
 * deadline: storage/remote/queue_manager.go and metadata_watcher.go, at v2.42.0 and v3.14.0; measured with metadata
 * on: 120 s with a 1m deadline when a metadata send was retrying, 60 s when none was). The generated configuration
 * sends no metadata (lib/agentConfig.ts: Receive ignores it), and with `send: false` no metadata watcher exists
 * (queue_manager.go at v3.14.0, l.552 and l.1003), so a stop waits once. The grace still allows twice the deadline
 * plus this margin (closing the WAL): the agent exits by itself even if metadata sending is turned back on.
 */
export const AGENT_SHUTDOWN_MARGIN_SECONDS = 60;

/** The agent pod's termination grace for a flush deadline in seconds. */
export function agentTerminationGraceSeconds(flushDeadlineSeconds: number): number {
    return 2 * Math.ceil(flushDeadlineSeconds) + AGENT_SHUTDOWN_MARGIN_SECONDS;
}

/** Seconds in a Prometheus duration (`1h30m` → 5400); the same rule as lib/config.ts's. */
function seconds(d: string): number {
    const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
    let total = 0;
    for (const m of d.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * unit[m[2]];
    return total;
}

export interface AgentSizing {
    /** The writer's tenant on a shared cluster; absent on a cluster that is one writer. */
    readonly tenant?: string;
    readonly statefulSet: string;
    readonly expectedSeries: number;
    readonly resources: Resources;
    /** Remote-write shards (`min_shards` = `max_shards`). */
    readonly shards: number;
    /** `--storage.remote.flush-deadline` and the pod's termination grace, which exceeds it. */
    readonly flushDeadline: string;
    readonly terminationGracePeriodSeconds: number;
}

/** Every agent of an edge: one per tenant on a shared cluster, else one. */
export function edgeAgentSizing(e: EdgeConfig): AgentSizing[] {
    const rw = e.agent.remoteWrite;
    const scopes = e.tenants.length === 0 ? [{ tenant: undefined, series: e.agent.expectedSeries }] : e.tenants.map((t) => ({ tenant: t.name, series: t.expectedSeries ?? e.agent.expectedSeries }));
    return scopes.map(({ tenant, series }) => {
        const shards = rw.shards ?? agentShards(series, seconds(e.agent.scrapeInterval), rw.maxSamplesPerSend);
        return {
            ...(tenant === undefined ? {} : { tenant }),
            statefulSet: agentStatefulSetName(tenant),
            expectedSeries: series,
            resources: agentResources(series, shards, e.agent.resources),
            shards,
            flushDeadline: rw.flushDeadline,
            terminationGracePeriodSeconds: agentTerminationGraceSeconds(seconds(rw.flushDeadline)),
        };
    });
}

export interface CentralSizing {
    /** Expected series of every writer id, and their sum. */
    readonly expectedSeries: Record<string, number>;
    readonly totalExpectedSeries: number;
    readonly receive: ReceiveSizing;
    readonly query: Resources;
    readonly storeGateway: Resources;
    /** Item memory per replica, MiB: the results cache and the Store Gateway's cache. */
    readonly resultsCacheMiB: number;
    readonly storeCacheMiB: number;
}

/** The central stack's sizing; `writers` are its writer ids (`writerIds` of `central.writers`). */
export function centralSizing(c: CentralConfig, writers: string[]): CentralSizing {
    const expected = Object.fromEntries(writers.map((w) => [w, c.expectedSeries.writers[w] ?? c.expectedSeries.default]));
    const total = writers.reduce((s, w) => s + expected[w], 0);
    const limits = c.receive.limits;
    const receive = receiveSizing({
        expectedSeries: expected,
        defaultExpectedSeries: c.expectedSeries.default,
        explicitLimits: { default: limits.default.uniqueHeadSeries, writers: Object.fromEntries(writers.map((w) => [w, limits.tenants[w]?.uniqueHeadSeries])) },
        replicas: c.receive.replicas,
        replicationFactor: c.receive.replicationFactor,
        overrides: c.receive.resources,
    });
    return {
        expectedSeries: expected,
        totalExpectedSeries: total,
        receive,
        query: queryPathResources("query", total, c.query.resources),
        storeGateway: queryPathResources("storeGateway", total, c.storeGateway.resources),
        resultsCacheMiB: cacheMemoryMiB("resultsCacheMiB", total, c.memcached.memoryMiB),
        storeCacheMiB: cacheMemoryMiB("storeCacheMiB", total, c.storeGateway.cache.memoryMiB),
    };
}

// ---------------------------------------------------------------------------------------------------------
// Precedence and units
// ---------------------------------------------------------------------------------------------------------

/**
 * Explicit fields win; the memory limit, when not set, follows the memory request in effect (`limitFor`). No CPU
 * limit unless set (throttling hurts latency more than it protects neighbours).
 */
function resolveResources(derived: { cpu: string; memoryBytes: number; limitFor: (requestBytes: number) => number }, o: ResourceOverrides): Resources {
    const requestMemory = o.requests?.memory ?? mebibytes(derived.memoryBytes);
    return {
        requests: { cpu: o.requests?.cpu ?? derived.cpu, memory: requestMemory },
        limits: { cpu: o.limits?.cpu, memory: o.limits?.memory ?? mebibytes(derived.limitFor(parseQuantity(requestMemory))) },
    };
}

/** Whether an explicit memory limit is below the memory request in effect (the config refuses it). */
export function limitBelowRequest(r: Resources): boolean {
    return parseQuantity(r.limits.memory) < parseQuantity(r.requests.memory);
}

function roundUp(bytes: number, step: number): number {
    return Math.ceil(bytes / step) * step;
}

/** Bytes as a Kubernetes quantity in whole Mi, or Gi when whole (as the defaults were written: no needless diff). */
export function mebibytes(bytes: number): string {
    const mi = Math.ceil(bytes / MiB);
    return mi % 1024 === 0 ? `${mi / 1024}Gi` : `${mi}Mi`;
}

/** Cores as a Kubernetes quantity in millicores rounded up to 50m, or whole cores when whole. */
function millicores(cores: number): string {
    const m = Math.ceil((cores * 1000) / 50) * 50;
    return m % 1000 === 0 ? `${m / 1000}` : `${m}m`;
}
