/**
 * Flows the platform needs, proven on each stack's planned pods and policies by the evaluator: the tenant taint Jobs
 * and the edges' kube-state-metrics reach the API server (under Cilium: the `kube-apiserver` entity), and each
 * kube-state-metrics is scraped by its own agent only.
 */
import * as assert from "assert";
import { connection } from "../tools/networkPolicyEvaluator";
import { pod, podsOf, worldOf } from "./helpers/network";
import { EDGE_STACKS, planStack } from "./helpers/plan";
import { stackConfig } from "../tools/stacks";


const API_SERVER = { entity: "kube-apiserver" } as const;
const OUTSIDE = { ip: "203.0.113.10" };

describe("network flows the platform needs (evaluated)", () => {
    it("cluster-02: each tenant's taint Job reaches the API server on 443 and 6443, and nothing outside the cluster", async () => {
        const plan = await planStack("cluster-02");
        const world = worldOf(plan);
        const jobs = podsOf(plan).filter((p) => p.labels["app.kubernetes.io/name"] === "tenant-taint");
        assert.deepStrictEqual(jobs.map((j) => j.labels["app.kubernetes.io/instance"]).sort(), ["a", "b"]);
        for (const job of jobs) {
            for (const port of [443, 6443]) assert.ok(connection(world, job, API_SERVER, port).allowed, `${job.name} → kube-apiserver:${port}`);
            assert.ok(!connection(world, job, OUTSIDE, 443).allowed, `${job.name} must not reach the internet`);
        }
    });

    for (const stack of EDGE_STACKS) {
        it(`${stack}: kube-state-metrics lists from the API server and is scraped by its own agent only`, async () => {
            const plan = await planStack(stack);
            const world = worldOf(plan);
            const pods = podsOf(plan);
            const configured = (stackConfig(stack).edge?.tenants ?? []).map((t) => t.name);
            const tenants = configured.length > 0 ? configured : [undefined];
            for (const t of tenants) {
                const ksm = pod(pods, `monitoring/kube-state-metrics${t ? `-${t}` : ""}`);
                const agent = pod(pods, `monitoring/prometheus-agent${t ? `-${t}` : ""}`);
                assert.ok(connection(world, ksm, API_SERVER, 443).allowed, `${ksm.name} → kube-apiserver:443`);
                assert.ok(!connection(world, ksm, OUTSIDE, 443).allowed, `${ksm.name} must not reach the internet`);
                assert.ok(connection(world, agent, { pod: ksm }, 8080).allowed, `${agent.name} → ${ksm.name}:8080`);
                for (const o of tenants.filter((x) => x !== t)) {
                    const foreign = pod(pods, `monitoring/prometheus-agent-${o}`);
                    assert.ok(!connection(world, foreign, { pod: ksm }, 8080).allowed, `${foreign.name} must not scrape ${ksm.name}`);
                }
                for (const other of pods.filter((p) => p !== agent && p !== ksm)) {
                    assert.ok(!connection(world, other, { pod: ksm }, 8080).allowed, `${other.name} must not scrape ${ksm.name}`);
                }
            }
        });
    }
});
