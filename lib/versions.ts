/**
 * Every image and chart the program deploys, pinned in one place.
 *
 * Renovate (`renovate.json`) reads the `// renovate:` comments to propose updates; a version bump here is the
 * only change needed to upgrade a component. Charts also need their default values under
 * `test/fixtures/upstream/<name>-<version>/` (with its SOURCE.json) so the Helm-value test can check the keys we set.
 *
 * An image's comment sits right above its `tag:` line: Renovate pins digests (`pinDigests`), and its replacement
 * template rewrites the tag line and writes a `digest: "sha256:…",` line under it. Keep that layout (a test renders
 * the template over this file).
 */
import type * as pulumi from "@pulumi/pulumi";

/** A manifest digest as registries print it: `sha256:` and 64 lowercase hex digits (checked by `imageName`). */
export type ImageDigest = `sha256:${string}`;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface ImageRef {
    /** Registry host, e.g. `quay.io`. Rewritten to the site's mirror when `images.registryMirror` is set. */
    readonly registry: string;
    readonly repository: string;
    readonly tag: string;
    /**
     * The digest the tag pointed to when it was pinned (Renovate's digest pinning writes it). When present, pods pull
     * by digest, so a tag moved upstream (or on the mirror) cannot change what runs; the tag stays for people and for
     * Renovate's version updates.
     */
    readonly digest?: ImageDigest;
}

export const images = {
    thanos: {
        registry: "quay.io",
        repository: "thanos/thanos",
        // renovate: datasource=docker depName=quay.io/thanos/thanos
        tag: "v0.42.4",
    },
    prometheus: {
        registry: "quay.io",
        repository: "prometheus/prometheus",
        // renovate: datasource=docker depName=quay.io/prometheus/prometheus
        tag: "v3.14.0",
    },
    // Official image (Docker library); Bitnami's memcached is no longer free.
    memcached: {
        registry: "docker.io",
        repository: "library/memcached",
        // renovate: datasource=docker depName=docker.io/library/memcached
        tag: "1.6.39-alpine",
    },
    // Reloads the edge agents' configuration in place (same release as kube-prometheus-stack's operator).
    configReloader: {
        registry: "quay.io",
        repository: "prometheus-operator/prometheus-config-reloader",
        // renovate: datasource=docker depName=quay.io/prometheus-operator/prometheus-config-reloader
        tag: "v0.93.1",
    },
    memcachedExporter: {
        registry: "quay.io",
        repository: "prometheus/memcached-exporter",
        // renovate: datasource=docker depName=quay.io/prometheus/memcached-exporter
        tag: "v0.15.3",
    },
    // Official kubectl image, used by the tenant taint Job.
    kubectl: {
        registry: "registry.k8s.io",
        repository: "kubectl",
        // renovate: datasource=docker depName=registry.k8s.io/kubectl
        tag: "v1.34.2",
    },
    // The OpenSearch image (same version as the chart's appVersion) runs the one-shot security/ISM Job.
    openSearch: {
        registry: "docker.io",
        repository: "opensearchproject/opensearch",
        // renovate: datasource=docker depName=docker.io/opensearchproject/opensearch
        tag: "3.6.0",
    },
    // Metrics for OpenSearch: the exporter documents OpenSearch support; OpenSearch itself has no Prometheus endpoint.
    openSearchExporter: {
        registry: "quay.io",
        repository: "prometheuscommunity/elasticsearch-exporter",
        // renovate: datasource=docker depName=quay.io/prometheuscommunity/elasticsearch-exporter
        tag: "v1.11.0",
    },
} as const satisfies Record<string, ImageRef>;

export interface ChartRef {
    readonly chart: string;
    readonly version: string;
    readonly repo: string;
}

export const charts = {
    // renovate: datasource=helm registryUrl=https://prometheus-community.github.io/helm-charts
    nodeExporter: {
        chart: "prometheus-node-exporter",
        version: "4.56.1",
        repo: "https://prometheus-community.github.io/helm-charts",
    },
    // renovate: datasource=helm registryUrl=https://prometheus-community.github.io/helm-charts
    kubeStateMetrics: {
        chart: "kube-state-metrics",
        version: "8.4.0",
        repo: "https://prometheus-community.github.io/helm-charts",
    },
    // renovate: datasource=helm registryUrl=https://prometheus-community.github.io/helm-charts
    kubePrometheusStack: {
        chart: "kube-prometheus-stack",
        version: "88.5.3",
        repo: "https://prometheus-community.github.io/helm-charts",
    },
    // renovate: datasource=helm registryUrl=https://opensearch-project.github.io/helm-charts
    openSearch: {
        chart: "opensearch",
        version: "3.6.0",
        repo: "https://opensearch-project.github.io/helm-charts",
    },
    // renovate: datasource=helm registryUrl=https://opensearch-project.github.io/helm-charts
    openSearchDashboards: {
        chart: "opensearch-dashboards",
        version: "3.6.0",
        repo: "https://opensearch-project.github.io/helm-charts",
    },
    // renovate: datasource=helm registryUrl=https://fluent.github.io/helm-charts
    fluentBit: {
        chart: "fluent-bit",
        version: "0.58.1",
        repo: "https://fluent.github.io/helm-charts",
    },
} as const satisfies Record<string, ChartRef>;

/**
 * `registry/repository:tag`, or `registry/repository:tag@sha256:…` when the pin has a digest, with the registry
 * replaced by the site mirror when one is configured. A malformed digest throws: it would only fail at pull time.
 */
export function imageName(ref: ImageRef, registryMirror?: string): string {
    if (ref.digest !== undefined && !DIGEST.test(ref.digest)) {
        throw new Error(`${ref.registry}/${ref.repository}:${ref.tag}: digest ${JSON.stringify(ref.digest)} is not sha256:<64 lowercase hex digits>`);
    }
    const registry = registryMirror ? `${registryMirror.replace(/\/+$/, "")}/${ref.registry}` : ref.registry;
    return `${registry}/${ref.repository}:${ref.tag}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** Arguments of a `helm.v4.Chart` for a pinned chart: every chart the program installs goes through here. */
export function pinnedChartArgs(ref: ChartRef, namespace: pulumi.Input<string>, values: Record<string, unknown>) {
    return { chart: ref.chart, version: ref.version, repositoryOpts: { repo: ref.repo }, namespace, values };
}
