import * as k8s from "@pulumi/kubernetes";
import * as minio from "@pulumi/minio";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import { generationName } from "../lib/rotation";

export interface ThanosBucketArgs {
    /** Bucket name on the existing MinIO. */
    readonly bucket: string;
    /** MinIO S3 endpoint, host:port. */
    readonly endpoint: string;
    readonly tls: boolean;
    readonly region: string;
    /** Prefix of the MinIO users' names: `<prefix>` (the shared user), `<prefix>-store`, `-receive`, `-compactor`. */
    readonly userName: string;
    /** Namespace that receives the `objstore.yml` Secrets. */
    readonly namespace: pulumi.Input<string>;
    /** Kubernetes name of the shared user's Secret (kept while `sharedUser` is `keep`). Default `thanos-objstore`. */
    readonly secretName?: string;
    /**
     * The first, shared user that could read, write and delete: kept (`keep`) until the operator retires it by the
     * written procedure (README, "Object storage users"); never replaced by a program change.
     */
    readonly sharedUser: "keep" | "retired";
    /** Rotation generation of each component's key (`central.rotation.objectStorage`). */
    readonly keyGenerations?: Partial<Record<BucketRole, number>>;
    readonly noncurrentVersionDays: number;
    /** Backstop expiry of current objects; validated to lie well beyond the longest retention. */
    readonly backstopExpiryDays: number;
}

/** Who uses the bucket, each with its own MinIO user and the narrowest policy. */
export const BUCKET_ROLES = ["store", "receive", "compactor"] as const;
export type BucketRole = (typeof BUCKET_ROLES)[number];

/**
 * The IAM policy of each component's user, on this bucket only. The Store Gateway only reads; Receive uploads blocks
 * (it reads back what it checks, and never deletes: a partial upload it cannot clean is the compactor's to delete);
 * the compactor reads, writes (compacted and downsampled blocks, deletion marks) and deletes.
 */
export function rolePolicy(bucket: string, role: BucketRole): object {
    const objectActions: Record<BucketRole, string[]> = {
        store: ["s3:GetObject"],
        receive: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        compactor: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
    };
    const bucketActions = role === "store" ? ["s3:ListBucket", "s3:GetBucketLocation"] : ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"];
    return {
        Version: "2012-10-17",
        Statement: [
            { Effect: "Allow", Action: bucketActions, Resource: [`arn:aws:s3:::${bucket}`] },
            { Effect: "Allow", Action: objectActions[role], Resource: [`arn:aws:s3:::${bucket}/*`] },
        ],
    };
}

/** The Secret with a component's `objstore.yml`. */
export function objstoreSecretName(role: BucketRole): string {
    return `thanos-objstore-${role}`;
}

/** The IAM policy of the shared user (read, write, delete on this bucket), kept until it is retired. */
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
    /** Name of each component's Secret with key `objstore.yml`. */
    public readonly secretNames: Record<BucketRole, pulumi.Output<string>>;

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

        const objstoreSecret = (resourceName: string, secretName: string, accessKey: pulumi.Input<string>, sk: pulumi.Input<string>) =>
            new k8s.core.v1.Secret(
                resourceName,
                {
                    metadata: { name: secretName, namespace: args.namespace },
                    type: "Opaque",
                    stringData: {
                        "objstore.yml": pulumi.secret(
                            pulumi.all([bucket.bucket, accessKey, sk]).apply(([b, key, secret]) =>
                                objstoreConfig({ bucket: b, endpoint: args.endpoint, region: args.region, tls: args.tls, accessKey: key, secretKey: secret }),
                            ),
                        ),
                    },
                },
                { parent: this },
            );

        // The first, shared user (read, write, delete). Kept, protected, until the operator retires it: the
        // components no longer use it, but removing it from the program would make `pulumi up` stop at a protected
        // resource. README, "Object storage users", has the procedure.
        if (args.sharedUser === "keep") {
            const secretKey = new random.RandomPassword(`${name}-secret-key`, { length: 40, special: false }, { parent: this });
            const user = new minio.IamUser(`${name}-user`, { name: args.userName, secret: secretKey.result, forceDestroy: false }, keep);
            const policy = new minio.IamPolicy(
                `${name}-policy`,
                { name: `${args.userName}-bucket-only`, policy: bucket.bucket.apply((b) => JSON.stringify(bucketPolicy(b))) },
                { parent: this },
            );
            new minio.IamUserPolicyAttachment(`${name}-policy-attachment`, { userName: user.name, policyName: policy.name }, { parent: this });
            objstoreSecret(`${name}-objstore`, args.secretName ?? "thanos-objstore", user.name, secretKey.result);
        }

        // One user per component, with the narrowest policy; its key rotates with its generation.
        const secretNames = {} as Record<BucketRole, pulumi.Output<string>>;
        for (const role of BUCKET_ROLES) {
            const key = new random.RandomPassword(generationName(`${name}-${role}-secret-key`, args.keyGenerations?.[role]), { length: 40, special: false }, { parent: this });
            const user = new minio.IamUser(`${name}-${role}-user`, { name: `${args.userName}-${role}`, secret: key.result, forceDestroy: false }, { parent: this });
            const policy = new minio.IamPolicy(
                `${name}-${role}-policy`,
                { name: `${args.userName}-${role}`, policy: bucket.bucket.apply((b) => JSON.stringify(rolePolicy(b, role))) },
                { parent: this },
            );
            new minio.IamUserPolicyAttachment(`${name}-${role}-policy-attachment`, { userName: user.name, policyName: policy.name }, { parent: this });
            secretNames[role] = objstoreSecret(`${name}-${role}-objstore`, objstoreSecretName(role), user.name, key.result).metadata.name;
        }

        this.bucketName = bucket.bucket;
        this.secretNames = secretNames;
        this.registerOutputs({ bucketName: this.bucketName, secretNames: this.secretNames });
    }
}
