import * as k8s from "@pulumi/kubernetes";
import * as minio from "@pulumi/minio";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify } from "yaml";

export interface ThanosBucketArgs {
    /** Bucket name on the existing MinIO. */
    readonly bucket: string;
    /** MinIO S3 endpoint, host:port. */
    readonly endpoint: string;
    readonly tls: boolean;
    readonly region: string;
    /** Name of the dedicated MinIO user (one per central cluster). */
    readonly userName: string;
    /** Namespace that receives the `objstore.yml` Secret. */
    readonly namespace: pulumi.Input<string>;
    /** Kubernetes name of that Secret (stable: every Thanos component mounts it). Default `thanos-objstore`. */
    readonly secretName?: string;
    readonly noncurrentVersionDays: number;
    /** Backstop expiry of current objects; validated to lie well beyond the longest retention. */
    readonly backstopExpiryDays: number;
}

/** The IAM policy of the Thanos user: this bucket and nothing else. */
export function bucketPolicy(bucket: string): object {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Action: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                Resource: [`arn:aws:s3:::${bucket}`],
            },
            {
                Effect: "Allow",
                Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                Resource: [`arn:aws:s3:::${bucket}/*`],
            },
        ],
    };
}

/** Thanos `objstore.yml` for MinIO. `insecure` in Thanos' S3 config means plain HTTP. */
export function objstoreConfig(a: { bucket: string; endpoint: string; region: string; tls: boolean; accessKey: string; secretKey: string }): string {
    return stringify({
        type: "S3",
        config: {
            bucket: a.bucket,
            endpoint: a.endpoint,
            region: a.region,
            access_key: a.accessKey,
            secret_key: a.secretKey,
            insecure: !a.tls,
            // Path-style addressing: MinIO behind an IP address has no per-bucket DNS names.
            bucket_lookup_type: "path",
        },
    });
}

/**
 * The Thanos bucket on the site's existing MinIO, a MinIO user limited to it, and the Kubernetes Secret holding
 * Thanos' `objstore.yml`.
 *
 * Only the compactor deletes blocks. The lifecycle rules therefore never expire live data on a schedule that could
 * race it: noncurrent versions (what a compactor delete leaves behind with versioning on) expire after a few days,
 * and current objects only as a backstop far beyond the longest retention. Incomplete multipart uploads are
 * cleaned by MinIO itself (`api stale_uploads_expiry`, 24h by default); the MinIO provider has no rule for them.
 *
 * The bucket and the user are protected: `pulumi destroy` stops at them (see README, "Really deleting data").
 */
export class ThanosBucket extends pulumi.ComponentResource {
    public readonly bucketName: pulumi.Output<string>;
    /** Name of the Secret with key `objstore.yml`. */
    public readonly secretName: pulumi.Output<string>;

    constructor(name: string, args: ThanosBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:storage:ThanosBucket", name, {}, opts);
        const keep = { parent: this, protect: true, retainOnDelete: true };

        const bucket = new minio.S3Bucket(`${name}-bucket`, { bucket: args.bucket, acl: "private", forceDestroy: false }, keep);
        new minio.S3BucketVersioning(
            `${name}-versioning`,
            { bucket: bucket.bucket, versioningConfiguration: { status: "Enabled" } },
            { parent: this },
        );
        new minio.IlmPolicy(
            `${name}-lifecycle`,
            {
                bucket: bucket.bucket,
                rules: [
                    { id: "expire-noncurrent-versions", status: "Enabled", noncurrentVersionExpirationDays: args.noncurrentVersionDays },
                    { id: "backstop-expiry", status: "Enabled", expiration: `${args.backstopExpiryDays}d` },
                ],
            },
            { parent: this },
        );

        const secretKey = new random.RandomPassword(`${name}-secret-key`, { length: 40, special: false }, { parent: this });
        const user = new minio.IamUser(
            `${name}-user`,
            { name: args.userName, secret: secretKey.result, forceDestroy: false },
            keep,
        );
        const policy = new minio.IamPolicy(
            `${name}-policy`,
            { name: `${args.userName}-bucket-only`, policy: bucket.bucket.apply((b) => JSON.stringify(bucketPolicy(b))) },
            { parent: this },
        );
        new minio.IamUserPolicyAttachment(`${name}-policy-attachment`, { userName: user.name, policyName: policy.name }, { parent: this });

        const secret = new k8s.core.v1.Secret(
            `${name}-objstore`,
            {
                metadata: { name: args.secretName ?? "thanos-objstore", namespace: args.namespace },
                type: "Opaque",
                stringData: {
                    "objstore.yml": pulumi.secret(
                        pulumi.all([bucket.bucket, user.name, secretKey.result]).apply(([b, accessKey, sk]) =>
                            objstoreConfig({ bucket: b, endpoint: args.endpoint, region: args.region, tls: args.tls, accessKey, secretKey: sk }),
                        ),
                    ),
                },
            },
            { parent: this },
        );

        this.bucketName = bucket.bucket;
        this.secretName = secret.metadata.name;
        this.registerOutputs({ bucketName: this.bucketName, secretName: this.secretName });
    }
}
