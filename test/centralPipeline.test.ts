import * as assert from "assert";
import { BUCKET_ROLES, BucketRole, rolePolicy } from "../components/thanosBucket";
import { runOffline } from "../tools/offline";
import { Plan, readStackFile } from "../tools/plan";
import { container, flag, isSecret, manifest, one, planStack, yaml } from "./helpers/plan";

/** The objstore.yml of the Secret whose resource name ends with `suffix`; fails unless it is a secret. */
function objstoreOf(plan: Plan, suffix: string): any {
    const data = (one(plan, "kubernetes:core/v1:Secret", suffix).inputs as any).stringData;
    const value = isSecret(data) ? data.value["objstore.yml"] : data["objstore.yml"];
    assert.ok(isSecret(data) || isSecret(value), "objstore.yml must be a secret");
    return yaml(isSecret(value) ? value.value : value);
}

describe("ThanosBucket (cluster-01)", () => {
    it("one MinIO user per component with the narrowest policy on this bucket: Store reads, Receive writes, the compactor deletes", async () => {
        const plan = await planStack("cluster-01");
        const bucket = one(plan, "minio:index/s3Bucket:S3Bucket", "-bucket");
        assert.strictEqual((bucket.inputs as any).bucket, "thanos-metrics");
        const actions = (role: string) => {
            const policy = JSON.parse((one(plan, "minio:index/iamPolicy:IamPolicy", `-${role}-policy`).inputs as any).policy) as any;
            assert.deepStrictEqual(policy, rolePolicy("thanos-metrics", role as BucketRole) as any);
            assert.deepStrictEqual(policy.Statement.flatMap((st: any) => st.Resource).sort(), ["arn:aws:s3:::thanos-metrics", "arn:aws:s3:::thanos-metrics/*"]);
            return policy.Statement.flatMap((st: any) => st.Action) as string[];
        };
        for (const role of BUCKET_ROLES) {
            const user = one(plan, "minio:index/iamUser:IamUser", `-${role}-user`);
            assert.strictEqual((user.inputs as any).name, `thanos-cluster-01-${role}`);
            assert.ok(isSecret((user.inputs as any).secret), "the user's secret key is a Pulumi secret");
            assert.ok(!actions(role).some((x) => x.includes("*")), "no wildcard actions");
        }
        assert.ok(!actions("store").some((x) => /Put|Delete|Abort/.test(x)), "the Store Gateway only reads");
        assert.ok(actions("receive").includes("s3:PutObject") && !actions("receive").includes("s3:DeleteObject"), "Receive writes, never deletes");
        assert.ok(actions("compactor").includes("s3:DeleteObject"), "only the compactor deletes");
        // Each component mounts its own user's objstore.yml.
        for (const [role, workload] of [["store", "-store-statefulset"], ["receive", "-receive-statefulset"], ["compactor", "-compactor-statefulset"]]) {
            const sts = manifest(one(plan, "kubernetes:apps/v1:StatefulSet", workload));
            const secret = sts.spec.template.spec.volumes.find((v: any) => v.name === "objstore").secret.secretName;
            assert.strictEqual(secret, `thanos-objstore-${role}`, workload);
            const doc = objstoreOf(plan, `-${role}-objstore`);
            assert.strictEqual(doc.config.access_key, `thanos-cluster-01-${role}`);
        }
    });

    it("the first, shared user stays (protected, kept on delete) until central.objectStorage.sharedUser is retired", async () => {
        const plan = await planStack("cluster-01");
        for (const [type, suffix] of [["minio:index/s3Bucket:S3Bucket", "-bucket"], ["minio:index/iamUser:IamUser", "-bucket-user"]]) {
            const r = one(plan, type, suffix);
            assert.ok(r.protect && r.retainOnDelete, `${r.name} must be protect + retainOnDelete`);
        }
        assert.strictEqual((one(plan, "minio:index/iamUser:IamUser", "-bucket-user").inputs as any).name, "thanos-cluster-01");
        const file = readStackFile("cluster-01");
        const central = JSON.parse(file.flat["agent-receiver:central"]);
        central.objectStorage.sharedUser = "retired";
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = () => (require("../index") as () => Promise<Record<string, unknown>>)();
        const retired = await runOffline({ project: "agent-receiver", stack: "cluster-01", config: { ...file.flat, "agent-receiver:central": JSON.stringify(central) }, secretKeys: file.secretKeys }, program);
        assert.strictEqual(retired.resources.filter((r) => r.name.endsWith("-bucket-user") || r.name.endsWith("-bucket-objstore")).length, 0);
        assert.strictEqual(retired.resources.filter((r) => r.type === "minio:index/iamUser:IamUser").length, 3);
    });

    it("never expires live blocks before the compactor would: noncurrent versions, and a backstop past retention", async () => {
        const rules = (one(await planStack("cluster-01"), "minio:index/ilmPolicy:IlmPolicy", "-lifecycle").inputs as any).rules;
        assert.deepStrictEqual(rules.find((r: any) => r.id === "expire-noncurrent-versions").noncurrentVersionExpirationDays, 7);
        const backstop = rules.find((r: any) => r.id === "backstop-expiry").expiration;
        assert.ok(Number(backstop.replace("d", "")) > 365 + 30, `backstop ${backstop} must be well beyond the 365d retention`);
    });

    it("writes each objstore.yml for MinIO as a secret", async () => {
        const doc = objstoreOf(await planStack("cluster-01"), "-receive-objstore");
        assert.strictEqual(doc.type, "S3");
        assert.strictEqual(doc.config.endpoint, "192.168.101.10:9000");
        assert.strictEqual(doc.config.bucket, "thanos-metrics");
        assert.strictEqual(doc.config.insecure, false);
    });
});

describe("Thanos Query, Query Frontend, Store Gateway, Compactor (cluster-01)", () => {
    it("Query reads Receive and the Store Gateway and deduplicates on the replica labels", async () => {
        const args: string[] = container(one(await planStack("cluster-01"), "kubernetes:apps/v1:Deployment", "-query-deployment")).args;
        assert.deepStrictEqual(args.filter((a) => a.startsWith("--query.replica-label=")), ["--query.replica-label=replica", "--query.replica-label=prometheus_replica"]);
        const sd = yaml(flag(args, "endpoint.sd-config")!);
        assert.deepStrictEqual(sd.endpoints.map((e: any) => e.address), [
            "dnssrv+_grpc._tcp.thanos-receive-headless.thanos.svc.cluster.local",
            "dnssrv+_grpc._tcp.thanos-store.thanos.svc.cluster.local",
        ]);
        assert.ok(!args.some((a) => a.startsWith("--endpoint=")), "deprecated --endpoint must not be used");
    });

    it("Query Frontend splits by day and caches in the program's memcached", async () => {
        const plan = await planStack("cluster-01");
        const args: string[] = container(one(plan, "kubernetes:apps/v1:Deployment", "-query-frontend-deployment")).args;
        assert.strictEqual(flag(args, "query-range.split-interval"), "24h");
        assert.strictEqual(flag(args, "query-frontend.downstream-url"), "http://thanos-query.thanos.svc.cluster.local:10902");
        const cache = yaml(flag(args, "query-range.response-cache-config")!);
        assert.strictEqual(cache.type, "MEMCACHED");
        assert.deepStrictEqual(cache.config.addresses, ["dnssrv+_client._tcp.cluster-01-memcached.thanos.svc.cluster.local"]);
        // The discovery name matches the memcached Service and its port name.
        const svc = manifest(one(plan, "kubernetes:core/v1:Service", "cluster-01-memcached-headless"));
        assert.strictEqual(svc.metadata.name, "cluster-01-memcached");
        assert.ok(svc.spec.ports.some((p: any) => p.name === "client" && p.port === 11211));
        const mc = container(one(plan, "kubernetes:apps/v1:StatefulSet", "cluster-01-memcached-statefulset"), "memcached");
        assert.match(mc.image, /^docker\.io\/library\/memcached:/);
        assert.deepStrictEqual(mc.args.slice(0, 4), ["-m", "1024", "-I", "5m"]);
    });

    it("Query Frontend lets in-flight queries finish on a rollout (kube-thanos' 120 s grace); the Ruler has kube-thanos' probes", async () => {
        const plan = await planStack("cluster-01");
        assert.strictEqual(manifest(one(plan, "kubernetes:apps/v1:Deployment", "-query-frontend-deployment")).spec.template.spec.terminationGracePeriodSeconds, 120);
        const ruler = container(one(plan, "kubernetes:apps/v1:StatefulSet", "-ruler-statefulset"));
        assert.deepStrictEqual(ruler.livenessProbe, { httpGet: { path: "/-/healthy", port: "http" }, periodSeconds: 5, failureThreshold: 24 });
        assert.deepStrictEqual(ruler.readinessProbe, { httpGet: { path: "/-/ready", port: "http" }, initialDelaySeconds: 10, periodSeconds: 5, failureThreshold: 18 });
    });

    it("Compactor: one instance, downsampling retention per resolution, vertical dedup of replicas", async () => {
        const sts = one(await planStack("cluster-01"), "kubernetes:apps/v1:StatefulSet", "-compactor-statefulset");
        assert.strictEqual(manifest(sts).spec.replicas, 1);
        const args: string[] = container(sts).args;
        assert.strictEqual(args[0], "compact");
        assert.strictEqual(flag(args, "retention.resolution-raw"), "30d");
        assert.strictEqual(flag(args, "retention.resolution-5m"), "90d");
        assert.strictEqual(flag(args, "retention.resolution-1h"), "365d");
        assert.strictEqual(flag(args, "deduplication.replica-label"), "replica");
        assert.strictEqual(flag(args, "compact.enable-vertical-compaction"), "");
        assert.strictEqual(flag(args, "wait"), "");
        assert.strictEqual(flag(args, "downsampling.disable"), undefined, "downsampling stays on");
    });

    it("Store Gateway runs the store command", async () => {
        const sts = manifest(one(await planStack("cluster-01"), "kubernetes:apps/v1:StatefulSet", "-store-statefulset"));
        assert.strictEqual(sts.spec.template.spec.containers[0].args[0], "store");
    });

    it("Store Gateway: index cache and caching bucket in its own memcached fleet, and per-request limits so one query cannot take a pod down", async () => {
        const plan = await planStack("cluster-01");
        const args: string[] = container(one(plan, "kubernetes:apps/v1:StatefulSet", "-store-statefulset")).args;
        const fleet = "dnssrv+_client._tcp.cluster-01-store-memcached.thanos.svc.cluster.local";
        const index = yaml(flag(args, "index-cache.config")!);
        assert.strictEqual(index.type, "MEMCACHED");
        assert.deepStrictEqual(index.config.addresses, [fleet]);
        assert.strictEqual(index.config.max_item_size, "1MiB");
        const bucket = yaml(flag(args, "store.caching-bucket.config")!);
        assert.strictEqual(bucket.type, "MEMCACHED");
        assert.deepStrictEqual(bucket.config.addresses, [fleet]);
        assert.strictEqual(bucket.chunk_subrange_size, 16000);
        assert.strictEqual(flag(args, "index-cache-size"), undefined, "the in-memory cache size is ignored once the index cache is configured");
        assert.strictEqual(flag(args, "store.limits.request-series"), "500000");
        assert.strictEqual(flag(args, "store.limits.request-samples"), "100000000");
        // Its own fleet: the Query Frontend's results cache is another, and the store reaches only its own.
        const svc = manifest(one(plan, "kubernetes:core/v1:Service", "-store-memcached-headless"));
        assert.strictEqual(svc.metadata.name, "cluster-01-store-memcached");
        const mc = container(one(plan, "kubernetes:apps/v1:StatefulSet", "-store-memcached-statefulset"), "memcached");
        assert.deepStrictEqual(mc.args.slice(0, 4), ["-m", "2048", "-I", "1m"]);
        const pod = manifest(one(plan, "kubernetes:apps/v1:StatefulSet", "-store-memcached-statefulset")).spec.template.metadata.labels;
        assert.strictEqual(pod["app.kubernetes.io/component"], "store-cache");
        const egress = manifest(one(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "-store-netpol")).spec.egress;
        assert.ok(egress.some((r: any) => r.ports[0].port === 11211 && r.to[0].podSelector.matchLabels["app.kubernetes.io/component"] === "store-cache"), JSON.stringify(egress));
    });

    it("pins every Thanos image to quay.io/thanos/thanos", async () => {
        const plan = await planStack("cluster-01");
        for (const suffix of ["-receive-statefulset", "-store-statefulset", "-compactor-statefulset"]) {
            assert.match(container(one(plan, "kubernetes:apps/v1:StatefulSet", suffix)).image, /^quay\.io\/thanos\/thanos:v\d+\.\d+\.\d+$/);
        }
    });
});
