/**
 * Sizing from series (lib/sizing.ts): the derivation as a table, the precedence of what the configuration sets, and
 * the plans carrying what is derived (changing the expected series changes the requests; bad values are refused in
 * test/config.test.ts, naming the stack and the key).
 */
import * as assert from "assert";
import { parse } from "yaml";
import { agentResources, agentShards, cacheMemoryMiB, queryPathResources, receiveSizing } from "../lib/sizing";
import type { Plan } from "../tools/plan";
import { all, container, flag, manifest, one, planCentralWith, planEdgeWith, planStack } from "./helpers/plan";

/** The agent configuration a plan generated for a writer. */
const agentConfigOf = (p: Plan, writer: string) => (p.outputs.agentConfigs as Record<string, string>)[writer];

const FIVE_WRITERS = { "cluster-01": 54000, "cluster-02-a": 54000, "cluster-02-b": 54000, "cluster-03": 54000, "cluster-04": 54000 };

describe("sizing from series (lib/sizing.ts)", () => {
    describe("the derivation, as a table", () => {
        // [expected series, shards, memory request, memory limit]: (72 MiB + 2870 B × series + 6.5 MiB × shards) × 1.25,
        // rounded up to 16 MiB; limit = request × 1.2, rounded up to 16 MiB. E.g. 54000 series and 9 shards: 72 + 147.8
        // + 58.5 = 278.3 MiB steady, × 1.25 = 347.9 → 352Mi, × 1.2 = 422.4 → 432Mi.
        const agentMemoryTable: [number, number, string, string][] = [
            [1000, 1, "112Mi", "144Mi"],
            [27000, 5, "224Mi", "272Mi"],
            [54000, 9, "352Mi", "432Mi"],
            [57000, 10, "368Mi", "448Mi"],
            [200000, 34, "1056Mi", "1280Mi"],
            [54000, 50, "688Mi", "832Mi"],
        ];
        for (const [series, shards, request, limit] of agentMemoryTable) {
            it(`an agent expecting ${series} series with ${shards} shards: memory request ${request}, limit ${limit}, CPU 100m, no CPU limit`, () => {
                assert.deepStrictEqual(agentResources(series, shards), { requests: { cpu: "100m", memory: request }, limits: { cpu: undefined, memory: limit } });
            });
        }

        // [series, scrape interval s, samples per send, shards]: 10 × series / interval × 1 s / samples per send, ≥ 1, ≤ 50.
        const shardsTable: [number, number, number, number][] = [
            [1000, 30, 2000, 1],
            [27000, 30, 2000, 5],
            [54000, 30, 2000, 9],
            [54000, 15, 2000, 18],
            [54000, 30, 5000, 4],
            [200000, 30, 2000, 34],
            [2000000, 30, 2000, 50],
        ];
        for (const [series, interval, perSend, shards] of shardsTable) {
            it(`remote-write shards for ${series} series every ${interval}s, ${perSend} per send: ${shards}`, () => {
                assert.strictEqual(agentShards(series, interval, perSend), shards);
            });
        }

        it("Receive for five writers of 54000 series, RF 3 over 3 replicas: Mimir's ingester and distributor figures", () => {
            const r = receiveSizing({ expectedSeries: FIVE_WRITERS, defaultExpectedSeries: 54000, explicitLimits: { writers: {} }, replicas: 3, replicationFactor: 3 });
            // 270000 head series per receiver: 0.9 core + 2.25 GB; 3000 samples/s routed: 0.12 core + 0.12 GB.
            assert.deepStrictEqual(r.inMemorySeries, { expected: 270000, atLimits: 405000 });
            assert.deepStrictEqual(r.resources, { requests: { cpu: "1050m", memory: "2304Mi" }, limits: { cpu: undefined, memory: "3456Mi" } });
            assert.deepStrictEqual(r.uniqueHeadSeries, { default: 81000, writers: Object.fromEntries(Object.keys(FIVE_WRITERS).map((w) => [w, 81000])) });
        });

        it("Receive with one large writer, one explicit limit, RF 3 over 5 replicas: the memory limit holds every writer at its limit", () => {
            const r = receiveSizing({
                expectedSeries: { big: 1_000_000, small: 54000 },
                defaultExpectedSeries: 54000,
                explicitLimits: { writers: { small: 500000 } },
                replicas: 5,
                replicationFactor: 3,
            });
            // Expected: (1054000 × 3 / 5) head series per receiver; at the limits: (1500000 + 500000) × 3 / 5.
            assert.deepStrictEqual(r.inMemorySeries, { expected: 632400, atLimits: 1200000 });
            assert.deepStrictEqual(r.uniqueHeadSeries.writers, { big: 1500000, small: 500000 });
            assert.deepStrictEqual(r.resources, { requests: { cpu: "2400m", memory: "5312Mi" }, limits: { cpu: undefined, memory: "10048Mi" } });
        });

        it("a writer without a head-series limit (0) is counted at 1.5 × its expected series in Receive's memory limit", () => {
            const unlimited = receiveSizing({ expectedSeries: FIVE_WRITERS, defaultExpectedSeries: 54000, explicitLimits: { default: 0, writers: {} }, replicas: 3, replicationFactor: 3 });
            assert.deepStrictEqual(unlimited.uniqueHeadSeries.writers["cluster-03"], 0);
            assert.strictEqual(unlimited.resources.limits.memory, "3456Mi");
        });

        // [total series, Query request, Store Gateway request, results cache MiB, store cache MiB]: the defaults up to
        // 270000 (five writers of 54000), in proportion above.
        const queryPathTable: [number, [string, string], [string, string], number, number][] = [
            [100000, ["500m", "1Gi"], ["500m", "2Gi"], 1024, 2048],
            [270000, ["500m", "1Gi"], ["500m", "2Gi"], 1024, 2048],
            [540000, ["1", "2Gi"], ["1", "4Gi"], 2048, 4096],
            [1000000, ["1900m", "3840Mi"], ["1900m", "7616Mi"], 3840, 7616],
        ];
        for (const [total, query, store, results, storeCache] of queryPathTable) {
            it(`Query, Store Gateway and caches for ${total} series in total`, () => {
                assert.deepStrictEqual(queryPathResources("query", total).requests, { cpu: query[0], memory: query[1] });
                assert.deepStrictEqual(queryPathResources("storeGateway", total).requests, { cpu: store[0], memory: store[1] });
                assert.strictEqual(cacheMemoryMiB("resultsCacheMiB", total), results);
                assert.strictEqual(cacheMemoryMiB("storeCacheMiB", total), storeCache);
            });
        }
    });

    describe("precedence: what the configuration sets wins, field by field", () => {
        it("an explicit memory request moves the derived limit with it; an explicit CPU and limit stay as set", () => {
            assert.deepStrictEqual(agentResources(54000, 9, { requests: { memory: "1Gi" } }), { requests: { cpu: "100m", memory: "1Gi" }, limits: { cpu: undefined, memory: "1232Mi" } });
            assert.deepStrictEqual(agentResources(54000, 9, { requests: { cpu: "250m" }, limits: { cpu: "1", memory: "2Gi" } }), { requests: { cpu: "250m", memory: "352Mi" }, limits: { cpu: "1", memory: "2Gi" } });
        });

        it("an explicit head-series limit wins over the derived one, per writer over the default", () => {
            const r = receiveSizing({ expectedSeries: FIVE_WRITERS, defaultExpectedSeries: 54000, explicitLimits: { default: 100000, writers: { "cluster-03": 70000 } }, replicas: 3, replicationFactor: 3 });
            assert.strictEqual(r.uniqueHeadSeries.default, 100000);
            assert.strictEqual(r.uniqueHeadSeries.writers["cluster-03"], 70000);
            assert.strictEqual(r.uniqueHeadSeries.writers["cluster-04"], 100000);
        });

        it("explicit cache memory wins", () => {
            assert.strictEqual(cacheMemoryMiB("storeCacheMiB", 1_000_000, 512), 512);
        });
    });

    describe("the plans carry what is derived", () => {
        it("cluster-03's agent: memory from edge.agent.expectedSeries (54000) and its 9 fixed shards, a grace over twice the flush deadline", async () => {
            const sts = one(await planStack("cluster-03"), "kubernetes:apps/v1:StatefulSet", "-agent-statefulset");
            const c = container(sts);
            assert.deepStrictEqual(c.resources, { requests: { cpu: "100m", memory: "352Mi" }, limits: { memory: "432Mi" } });
            assert.strictEqual(flag(c.args, "storage.remote.flush-deadline"), "1m");
            // A stop waits the deadline for the shards, then again for a metadata send: 2 × 60 s + 60 s.
            assert.strictEqual(manifest(sts).spec.template.spec.terminationGracePeriodSeconds, 180);
            const cfg = parse(agentConfigOf(await planStack("cluster-03"), "cluster-03"));
            assert.strictEqual(cfg.remote_write[0].queue_config.min_shards, 9);
            assert.strictEqual(cfg.remote_write[0].queue_config.max_shards, 9);
        });

        it("changing an edge's expected series changes its agent's requests and shards, and nothing else's", async () => {
            const before = await planStack("cluster-02");
            const after = await planEdgeWith("cluster-02", (e) => (e.tenants[1].expectedSeries = 200000));
            const agent = (p: typeof before, t: string) => container(one(p, "kubernetes:apps/v1:StatefulSet", `-agent-${t}-statefulset`)).resources;
            assert.deepStrictEqual(agent(after, "b"), { requests: { cpu: "100m", memory: "1056Mi" }, limits: { memory: "1280Mi" } });
            assert.deepStrictEqual(agent(after, "a"), agent(before, "a"));
            const shards = (p: typeof before, w: string) => parse(agentConfigOf(p, w)).remote_write[0].queue_config.max_shards;
            assert.deepStrictEqual([shards(after, "cluster-02-a"), shards(after, "cluster-02-b")], [9, 34]);
        });

        it("a longer flush deadline lengthens the agent's grace with it", async () => {
            const sts = one(await planEdgeWith("cluster-03", (e) => (e.agent.remoteWrite.flushDeadline = "5m")), "kubernetes:apps/v1:StatefulSet", "-agent-statefulset");
            assert.strictEqual(flag(container(sts).args, "storage.remote.flush-deadline"), "5m");
            assert.strictEqual(manifest(sts).spec.template.spec.terminationGracePeriodSeconds, 660);
        });

        it("every agent of every edge stops by itself: its grace exceeds twice its flush deadline", async () => {
            for (const stack of ["cluster-02", "cluster-03", "cluster-04"]) {
                for (const sts of all(await planStack(stack), "kubernetes:apps/v1:StatefulSet").filter((r) => r.name.includes("-agent"))) {
                    const deadline = flag(container(sts).args, "storage.remote.flush-deadline")!;
                    const seconds = Number(/^(\d+)m$/.exec(deadline)?.[1]) * 60;
                    assert.ok(manifest(sts).spec.template.spec.terminationGracePeriodSeconds > 2 * seconds, `${stack} ${sts.name}: grace vs ${deadline}`);
                }
            }
        });

        const thanos = (p: Awaited<ReturnType<typeof planStack>>, name: string) => container(one(p, "kubernetes:apps/v1:StatefulSet", name)).resources;
        const limitsFile = (p: Awaited<ReturnType<typeof planStack>>) => parse(manifest(one(p, "kubernetes:core/v1:ConfigMap", "-receive-limits")).data["limits.yaml"]).write;

        it("cluster-01: Receive's requests and head-series limits from central.expectedSeries; Query, Store Gateway and caches at their defaults", async () => {
            const plan = await planStack("cluster-01");
            assert.deepStrictEqual(thanos(plan, "-receive-statefulset"), { requests: { cpu: "1050m", memory: "2304Mi" }, limits: { memory: "3456Mi" } });
            const limits = limitsFile(plan);
            // 81000 unique series per writer (54000 × 1.5), written × RF 3 for Thanos' limiter.
            assert.strictEqual(limits.default.head_series_limit, 243000);
            assert.deepStrictEqual(Object.fromEntries(Object.entries(limits.tenants).map(([w, l]: [string, any]) => [w, l.head_series_limit])), Object.fromEntries(Object.keys(FIVE_WRITERS).map((w) => [w, 243000])));
            // The request limits set in the stack file stay on the default, which the writers' entries inherit.
            assert.deepStrictEqual(limits.default.request, { size_bytes_limit: 5242880, series_limit: 10000 });
            assert.deepStrictEqual(thanos(plan, "-store-statefulset"), { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "4Gi" } });
            const query = container(one(plan, "kubernetes:apps/v1:Deployment", "-query-deployment")).resources;
            assert.deepStrictEqual(query, { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } });
        });

        it("changing the central expected series changes Receive's requests and limits, Query, the Store Gateway and the caches", async () => {
            const plan = await planCentralWith((c) => (c.expectedSeries = { default: 108000, writers: { "cluster-03": 540000 } }));
            // 4 × 108000 + 540000 = 972000 series, 3.6 × the reference 270000. Receive, per replica (RF 3 over 3):
            // 972000 head series (3.24 cores, 8.1 GB) and 10800 samples/s routed (0.432 core, 0.432 GB): 3.672 cores,
            // 8.53 GB → 3700m, 8Gi; limit max(1.5 × 8Gi, 1458000 head series at the limits → 11.9 GiB) = 12Gi.
            assert.deepStrictEqual(thanos(plan, "-receive-statefulset"), { requests: { cpu: "3700m", memory: "8Gi" }, limits: { memory: "12Gi" } });
            const tenants = limitsFile(plan).tenants;
            assert.strictEqual(tenants["cluster-03"].head_series_limit, 540000 * 1.5 * 3);
            assert.strictEqual(tenants["cluster-04"].head_series_limit, 108000 * 1.5 * 3);
            // The Store Gateway and its cache: 3.6 × 2Gi = 7372.8 MiB, in 64 MiB steps; the results cache 3.6 × 1024 MiB.
            assert.deepStrictEqual(thanos(plan, "-store-statefulset").requests, { cpu: "1800m", memory: "7424Mi" });
            const memcachedArgs = (suffix: string) => container(one(plan, "kubernetes:apps/v1:StatefulSet", suffix)).args as string[];
            assert.strictEqual(memcachedArgs("-store-memcached-statefulset")[1], "7424");
            assert.strictEqual(memcachedArgs("01-memcached-statefulset")[1], "3712");
        });

        it("an explicit head-series limit for one writer changes its limit, the alert that watches it, and Receive's memory limit", async () => {
            const plan = await planCentralWith((c) => (c.receive.limits.tenants = { "cluster-03": { uniqueHeadSeries: 1000000 } }));
            assert.strictEqual(limitsFile(plan).tenants["cluster-03"].head_series_limit, 3000000);
            assert.strictEqual(limitsFile(plan).tenants["cluster-04"].head_series_limit, 243000);
            // At the limits: 1000000 + 4 × 81000 = 1324000 head series per receiver (11.03 GB) and 14711 samples/s
            // (0.59 GB): 11.62 GB, 11136Mi in 64Mi steps.
            assert.deepStrictEqual(thanos(plan, "-receive-statefulset"), { requests: { cpu: "1050m", memory: "2304Mi" }, limits: { memory: "11136Mi" } });
            // HeadSeriesLimitNear divides each writer's head series by its limit as Thanos counts it (× RF 3).
            const rules = manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-ruler-rules")).data["platform.yaml"] as string;
            assert.ok(rules.includes("tenant='cluster-03'}) / 3000000"), "the cluster-03 ratio uses its explicit limit");
            assert.ok(rules.includes("tenant='cluster-04'}) / 243000"), "the cluster-04 ratio uses its derived limit");
        });
    });
});
