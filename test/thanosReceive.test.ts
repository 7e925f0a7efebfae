import { centralSecrets } from "./helpers/plan";
import * as assert from "assert";
import { parseFlatConfig } from "../lib/config";
import { generateHashring } from "../lib/hashring";
import { runOffline } from "../tools/offline";
import { readStackFile } from "../tools/plan";
import { buildStack } from "../stacks";
import { all, container, flag, isSecret, manifest, one, planStack, yaml } from "./helpers/plan";

const STS = "kubernetes:apps/v1:StatefulSet";

describe("generateHashring", () => {
    const base = { statefulSet: "thanos-receive", headlessService: "thanos-receive-headless", namespace: "thanos", replicationFactor: 3, grpcPort: 10901 };

    it("lists one endpoint per replica, by stable pod DNS name", () => {
        const ring = generateHashring({ ...base, replicas: 3 });
        assert.deepStrictEqual(ring[0].endpoints, [0, 1, 2].map((i) => `thanos-receive-${i}.thanos-receive-headless.thanos.svc.cluster.local:10901`));
    });

    it("grows with the replica count (scaling regenerates the ring)", () => {
        assert.strictEqual(generateHashring({ ...base, replicas: 5 })[0].endpoints.length, 5);
    });

    it("refuses fewer endpoints than the replication factor (ketama would)", () => {
        assert.throws(() => generateHashring({ ...base, replicas: 2 }), /ketama needs at least replicationFactor/);
    });
});

describe("ThanosReceive (cluster-01)", () => {
    it("runs 3 replicas with replication factor 3, ketama and the generated ring", async () => {
        const plan = await planStack("cluster-01");
        const sts = one(plan, STS, "-receive-statefulset");
        const m = manifest(sts);
        assert.strictEqual(m.spec.replicas, 3);
        const args: string[] = container(sts).args;
        assert.strictEqual(args[0], "receive");
        assert.strictEqual(flag(args, "receive.replication-factor"), "3");
        assert.strictEqual(flag(args, "receive.hashrings-algorithm"), "ketama");
        assert.strictEqual(flag(args, "receive.hashrings-file"), "/etc/thanos/hashring/hashrings.json");

        const cm = manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-receive-hashring"));
        const ring = JSON.parse(cm.data["hashrings.json"]);
        assert.strictEqual(ring[0].endpoints.length, 3);
        // Each pod's --receive.local-endpoint, with its own name substituted, is exactly one ring entry.
        const local = flag(args, "receive.local-endpoint")!;
        for (let i = 0; i < 3; i++) {
            const self = local.replace("$(POD_NAME)", `thanos-receive-${i}`).replace("$(POD_NAMESPACE)", "thanos");
            assert.ok(ring[0].endpoints.includes(self), `${self} not in ring`);
        }
        // The volume mounts the ring ConfigMap the program generated.
        const vol = m.spec.template.spec.volumes.find((v: any) => v.name === "hashring");
        assert.strictEqual(vol.configMap.name, cm.metadata.name);
    });

    it("takes the tenant from the client certificate and labels data with tenant_id and replica", async () => {
        const args: string[] = container(one(await planStack("cluster-01"), STS, "-receive-statefulset")).args;
        assert.strictEqual(flag(args, "receive.tenant-certificate-field"), "organization");
        assert.strictEqual(flag(args, "remote-write.server-tls-client-ca"), "/etc/thanos/tls/ca.crt");
        assert.strictEqual(flag(args, "receive.tenant-label-name"), "tenant_id");
        assert.strictEqual(flag(args, "receive.default-tenant-id"), "unknown");
        assert.ok(args.includes('--label=replica="$(POD_NAME)"'));
        assert.strictEqual(flag(args, "tsdb.retention"), "2d");
        // One writer with its clock ahead must not push the head past everybody else's samples.
        assert.strictEqual(flag(args, "tsdb.too-far-in-future.time-window"), "10m");
        assert.strictEqual(flag(args, "objstore.config-file"), "/etc/thanos/objstore/objstore.yml");
    });

    it("is safe to roll: PDB maxUnavailable 1, distinct nodes, spread over zones, 900 s grace, per-replica retained PVCs, probes", async () => {
        const plan = await planStack("cluster-01");
        const m = manifest(one(plan, STS, "-receive-statefulset"));
        const pdb = manifest(one(plan, "kubernetes:policy/v1:PodDisruptionBudget", "-receive-pdb"));
        assert.strictEqual(pdb.spec.maxUnavailable, 1);
        assert.deepStrictEqual(pdb.spec.selector.matchLabels, m.spec.selector.matchLabels);
        const anti = m.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
        assert.strictEqual(anti.topologyKey, "kubernetes.io/hostname");
        // Zones as well, preferred: fewer zones than replicas, or none labelled, must not block scheduling.
        assert.deepStrictEqual(m.spec.template.spec.topologySpreadConstraints, [
            { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: m.spec.selector.matchLabels } },
        ]);
        assert.strictEqual(m.spec.template.spec.terminationGracePeriodSeconds, 900);
        assert.strictEqual(m.spec.volumeClaimTemplates[0].spec.resources.requests.storage, "50Gi");
        assert.strictEqual(m.spec.volumeClaimTemplates[0].spec.storageClassName, "local-path");
        assert.deepStrictEqual(m.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
        const c = m.spec.template.spec.containers[0];
        assert.strictEqual(c.readinessProbe.httpGet.path, "/-/ready");
        assert.strictEqual(c.livenessProbe.httpGet.path, "/-/healthy");
        // Derived from central.expectedSeries (test/sizing.test.ts has the derivation).
        assert.deepStrictEqual(c.resources, { requests: { cpu: "1050m", memory: "2304Mi" }, limits: { memory: "3456Mi" } });
        assert.ok(m.spec.selector.matchLabels["app.kubernetes.io/version"] === undefined, "selector must not carry the version");
    });

    it("writes the per-tenant limits file from config", async () => {
        const cm = manifest(one(await planStack("cluster-01"), "kubernetes:core/v1:ConfigMap", "-receive-limits"));
        const limits = yaml(cm.data["limits.yaml"]);
        // uniqueHeadSeries 81000 (1.5 × the 54000 expected series) × replicationFactor 3: the limiter sums every
        // receiver's copy of each series.
        assert.deepStrictEqual(limits.write.default, { request: { size_bytes_limit: 5242880, series_limit: 10000 }, head_series_limit: 243000 });
        assert.match(limits.write.global.meta_monitoring_url, /^http:\/\/thanos-query\.thanos\.svc/);
    });

    it("keeps the server key secret in its Secret", async () => {
        const secret = one(await planStack("cluster-01"), "kubernetes:core/v1:Secret", "-receive-tls");
        assert.ok(isSecret((secret.inputs as any).stringData["tls.key"]) || isSecret((secret.inputs as any).stringData));
    });

    it("regenerates the ring when Receive is scaled to 5", async () => {
        const file = readStackFile("cluster-01");
        const raw = JSON.parse(file.flat["agent-receiver:central"]);
        raw.receive.replicas = 5;
        file.flat["agent-receiver:central"] = JSON.stringify(raw);
        const cfg = parseFlatConfig("cluster-01", file.flat, (k) => file.secretKeys.includes(k));
        const result = await runOffline({ project: "agent-receiver", stack: "cluster-01" }, () => buildStack(cfg, centralSecrets(cfg)));
        const ring = JSON.parse((all({ stack: "x", ...result }, "kubernetes:core/v1:ConfigMap").find((r) => r.name.endsWith("-receive-hashring"))!.inputs as any).data["hashrings.json"]);
        assert.strictEqual(ring[0].endpoints.length, 5);
        const sts = all({ stack: "x", ...result }, STS).find((r) => r.name.endsWith("-receive-statefulset"))!;
        assert.strictEqual((sts.inputs as any).spec.replicas, 5);
    });
});
