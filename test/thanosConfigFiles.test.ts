/**
 * The configuration files the program writes for Thanos — objstore.yml (S3), the Receive hashring and limits, the
 * Query Frontend's response cache (memcached client) and Query's endpoint discovery — key by key against the Go
 * types the pinned Thanos reads them into (and thanos-io/objstore at the version Thanos' go.mod requires), kept as a
 * derived field list in test/fixtures/upstream/thanos-<version>/config-files.fields.txt. Thanos refuses an unknown
 * key in objstore.yml, the limits and the cache configuration (strict YAML); in the hashring and the endpoint
 * configuration it ignores one silently, which is why those are checked too (the list's header says which is which).
 */
import * as assert from "assert";
import { images } from "../lib/versions";
import { flag, manifest, one, planStack, yaml } from "./helpers/plan";
import { GoWalkOptions, parseGoFields, upstreamFile, upstreamFolder, walkGoFields } from "./helpers/upstream";

function thanosFields() {
    const tag = images.thanos.tag;
    const dir = upstreamFolder(
        "thanos",
        tag,
        "Derive config-files.fields.txt from the Go types of github.com/thanos-io/thanos at that tag and of github.com/thanos-io/objstore " +
            "at the version its go.mod requires (one line per field: struct, tag name, Go type, file:line; see the file's header) — never copy the code.",
    );
    return { where: `thanos ${tag} config-files.fields.txt`, fields: parseGoFields(upstreamFile(dir, "config-files.fields.txt"), `${dir}/config-files.fields.txt`) };
}

/** receive.Endpoint's UnmarshalJSON takes an address string as well as an object. */
const HASHRING_OPTIONS: GoWalkOptions = {
    scalarToo: { Endpoint: "pkg/receive/config.go:80-104 (v0.42.4): Endpoint.UnmarshalJSON first reads the value as a plain address string" },
};

/** The `type` values the readers handle, each selecting the struct its `config` is read into. */
const OBJSTORE_TYPES: Record<string, string> = { S3: "Config" }; // objstore client/factory.go:59-60 (S3 → s3.NewBucket)
const CACHE_TYPES: Record<string, string> = { MEMCACHED: "MemcachedResponseCacheConfig" }; // queryfrontend/config.go:115-117

/** A `{type, config}` file: the outer struct, then `config` against the struct its type selects. */
function walkTyped(file: any, outer: string, types: Record<string, string>, t: ReturnType<typeof thanosFields>, what: string): string[] {
    const problems = walkGoFields(file, outer, t.fields, t.where, what);
    const inner = types[String(file?.type).toUpperCase()];
    if (inner === undefined) return [...problems, `${what}.type: ${file?.type} is not one of ${Object.keys(types).join(", ")} (the types this check knows)`];
    return [...problems, ...walkGoFields(file.config, inner, t.fields, t.where, `${what}.config`)];
}

async function files() {
    const plan = await planStack("cluster-01");
    const args = (suffix: string) => manifest(one(plan, "kubernetes:apps/v1:Deployment", suffix)).spec.template.spec.containers[0].args as string[];
    const qf = args("-query-frontend-deployment");
    return {
        // Every component's objstore.yml has the same keys (one user each); the receive one stands for all.
        objstore: yaml(manifest(one(plan, "kubernetes:core/v1:Secret", "-receive-objstore")).stringData["objstore.yml"]),
        hashring: JSON.parse(manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-receive-hashring")).data["hashrings.json"]),
        limits: yaml(manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-receive-limits")).data["limits.yaml"]),
        queryRangeCache: yaml(flag(qf, "query-range.response-cache-config")!),
        labelsCache: yaml(flag(qf, "labels.response-cache-config")!),
        endpoints: yaml(flag(args("-query-deployment"), "endpoint.sd-config")!),
    };
}

describe(`Thanos configuration files against the Go types of Thanos ${images.thanos.tag}`, () => {
    it("the field list parses; its S3 Config is objstore's, and Endpoint and the tenants map are what the walk needs", () => {
        const { fields } = thanosFields();
        assert.ok(fields.get("Config")!.every((f) => f.source.includes("github.com/thanos-io/objstore@") && f.source.includes("/providers/s3/s3.go:")));
        assert.ok(fields.get("Endpoint")!.some((f) => f.key === "address"));
        assert.strictEqual(fields.get("TenantsWriteLimitsConfig")![0].type, "map[string]*WriteLimitConfig");
    });

    it("a misspelt or misplaced key is reported in each kind of file (so the checks below can fail)", () => {
        const t = thanosFields();
        assert.deepStrictEqual(walkTyped({ type: "S3", config: { bucket: "b", insecure: true, bucket_lookup: "path" } }, "BucketConfig", OBJSTORE_TYPES, t, "objstore"), [
            `objstore.config.bucket_lookup: Config has no field bucket_lookup (${t.where})`,
        ]);
        assert.deepStrictEqual(walkTyped({ type: "GCS", config: {} }, "BucketConfig", OBJSTORE_TYPES, t, "objstore"), ["objstore.type: GCS is not one of S3 (the types this check knows)"]);
        assert.deepStrictEqual(walkGoFields([{ hashring: "d", endpoints: ["a:1", { address: "b:1", zone: "z" }], tenant: [] }], "[]HashringConfig", t.fields, t.where, "", HASHRING_OPTIONS), [
            `[0].endpoints[1].zone: Endpoint has no field zone (${t.where})`,
            `[0].tenant: HashringConfig has no field tenant (${t.where})`,
        ]);
        // Without the Endpoint exception, an address string would be refused: the walk does not accept scalars blindly.
        assert.strictEqual(walkGoFields([{ endpoints: ["a:1"] }], "[]HashringConfig", t.fields, t.where).length, 1);
        assert.deepStrictEqual(walkGoFields({ write: { default: { head_series_limit: 1, request: { series: 1 } }, tenants: { a: { headSeriesLimit: 1 } } } }, "RootLimitsConfig", t.fields, t.where), [
            `write.default.request.series: requestLimitsConfig has no field series (${t.where})`,
            `write.tenants.a.headSeriesLimit: WriteLimitConfig has no field headSeriesLimit (${t.where})`,
        ]);
        assert.deepStrictEqual(walkTyped({ type: "MEMCACHED", config: { addresses: [], max_item_size: "1MiB", expiry: "1h" } }, "CacheProviderConfig", CACHE_TYPES, t, "cache"), [
            `cache.config.expiry: MemcachedResponseCacheConfig has no field expiry (${t.where})`,
        ]);
        assert.deepStrictEqual(walkGoFields({ endpoints: [{ addres: "x" }] }, "EndpointConfig", t.fields, t.where), [`endpoints[0].addres: endpointSettings has no field addres (${t.where})`]);
    });

    it("cluster-01: objstore.yml (S3), the hashring, the limits, both response caches and the endpoint configuration use only keys Thanos reads", async () => {
        const t = thanosFields();
        const f = await files();
        const problems = [
            ...walkTyped(f.objstore, "BucketConfig", OBJSTORE_TYPES, t, "objstore.yml"),
            ...walkGoFields(f.hashring, "[]HashringConfig", t.fields, t.where, "hashrings.json", HASHRING_OPTIONS),
            ...walkGoFields(f.limits, "RootLimitsConfig", t.fields, t.where, "limits.yaml"),
            ...walkTyped(f.queryRangeCache, "CacheProviderConfig", CACHE_TYPES, t, "--query-range.response-cache-config"),
            ...walkTyped(f.labelsCache, "CacheProviderConfig", CACHE_TYPES, t, "--labels.response-cache-config"),
            ...walkGoFields(f.endpoints, "EndpointConfig", t.fields, t.where, "--endpoint.sd-config"),
        ];
        assert.deepStrictEqual(problems, [], problems.join("\n"));
        // The checks above walked real content, not empty files.
        assert.ok(f.hashring[0].endpoints.length >= 3 && Object.keys(f.limits.write).length > 0 && f.endpoints.endpoints.length >= 2);
    });
});
