/**
 * A scrape load for a local agent, sized in series: application pods (what the generated `pods` job scrapes, found
 * through the same `__meta_kubernetes_pod_*` labels its relabel rules read) and expositions shaped like cAdvisor,
 * the kubelet and kube-state-metrics. `npm run bench` runs the generated agent and a default one against the same
 * load (memory, drain, shutdown). Counters grow on every scrape, so every sample is a new value.
 */
import * as http from "http";
import type { Harness } from "./harness";

/** Series of one application pod: the load is 10 of these, with the infrastructure shapes below. */
export const SERIES_PER_APP_POD = 5000;

/** Scale of the infrastructure shapes (per container, pod, ReplicaSet/ConfigMap/Secret). */
export interface InfraScale {
    readonly containers: number;
    readonly pods: number;
    readonly objects: number;
}

/** The infrastructure shapes the bench has always used (about 20k series before the drop lists, 7k after). */
export const BENCH_INFRA: InfraScale = { containers: 400, pods: 400, objects: 300 };

export interface LoadServer {
    /** `host:port` of the exposition server. */
    readonly address: string;
    /** Application pods as file_sd targets of the `pods` job, with the labels its relabel rules read. */
    readonly podTargets: { targets: string[]; labels: Record<string, string> }[];
    /** Series each shape exposes (before any drop list). */
    readonly series: { apps: number; cadvisor: number; kubelet: number; kubeStateMetrics: number };
    close(): void;
}

const HISTOGRAM_BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];
const METHODS = ["GET", "POST", "PUT", "DELETE"];
const STATUSES = ["200", "201", "400", "404", "500"];

/**
 * One application pod's exposition with exactly `series` series: request-duration histograms (12 buckets, sum and
 * count per route and method) for about 70 % of them, request counters per route, method and status for the rest.
 */
export function appExposition(series: number, tick: number): string {
    const lines: string[] = [];
    const histogramSeries = Math.floor((series * 0.7) / (HISTOGRAM_BUCKETS.length + 2)) * (HISTOGRAM_BUCKETS.length + 2);
    for (let route = 0; lines.length < histogramSeries; route++) {
        for (const method of METHODS) {
            if (lines.length >= histogramSeries) break;
            const l = `route="/api/v1/resource${route}/items",method="${method}"`;
            HISTOGRAM_BUCKETS.forEach((le, i) => lines.push(`app_http_request_duration_seconds_bucket{${l},le="${le}"} ${tick * (i + 1)}`));
            lines.push(`app_http_request_duration_seconds_sum{${l}} ${tick * 0.37}`, `app_http_request_duration_seconds_count{${l}} ${tick * 12}`);
        }
    }
    for (let route = 0; lines.length < series; route++) {
        for (const method of METHODS) {
            for (const status of STATUSES) {
                if (lines.length >= series) break;
                lines.push(`app_http_requests_total{route="/api/v1/resource${route}/items",method="${method}",status="${status}"} ${tick + route}`);
            }
        }
    }
    return lines.join("\n") + "\n";
}

/** Expositions shaped like the real ones the drop lists target: per container, pod, ReplicaSet, ConfigMap, Secret. */
export function infraExpositions(scale: InfraScale): { cadvisor: string[]; kubelet: string[]; ksm: string[] } {
    const cadvisor: string[] = [];
    const kubelet: string[] = [];
    const ksm: string[] = [];
    for (let i = 0; i < scale.containers; i++) {
        const l = `container="c${i}",namespace="ns${i % 20}",pod="p${i}",id="/kubepods/pod${i}/c${i}",image="registry.example/app:${i % 7}"`;
        for (const m of ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes", "container_network_receive_bytes_total", "container_network_transmit_bytes_total", "container_fs_usage_bytes"]) cadvisor.push(`${m}{${l}} ${i}`);
        for (const st of ["sleeping", "running", "stopped", "uninterruptible", "iowaiting"]) cadvisor.push(`container_tasks_state{${l},state="${st}"} 0`);
        for (const [ft, sc] of [["pgfault", "container"], ["pgfault", "hierarchy"], ["pgmajfault", "container"], ["pgmajfault", "hierarchy"]]) cadvisor.push(`container_memory_failures_total{${l},failure_type="${ft}",scope="${sc}"} 1`);
        for (const m of ["container_fs_reads_merged_total", "container_fs_writes_merged_total", "container_fs_sector_reads_total", "container_fs_sector_writes_total", "container_fs_io_time_seconds_total", "container_sockets", "container_threads", "container_threads_max", "container_file_descriptors", "container_last_seen", "container_spec_memory_swap_limit_bytes"]) cadvisor.push(`${m}{${l}} 1`);
    }
    for (const verb of ["GET", "PUT", "POST", "PATCH"]) {
        for (let host = 0; host < 5; host++) {
            for (const le of ["0.005", "0.025", "0.1", "0.25", "0.5", "1", "2", "4", "8", "15", "30", "60", "+Inf"]) kubelet.push(`rest_client_request_duration_seconds_bucket{verb="${verb}",host="h${host}",le="${le}"} 1`);
        }
    }
    kubelet.push('kubelet_volume_stats_used_bytes{namespace="ns0",persistentvolumeclaim="data"} 1');
    for (let i = 0; i < scale.pods; i++) {
        const l = `namespace="ns${i % 20}",pod="p${i}"`;
        ksm.push(`kube_pod_info{${l},node="n${i % 8}"} 1`, `kube_pod_container_status_restarts_total{${l},container="c"} 0`, `kube_pod_owner{${l},owner_kind="ReplicaSet"} 1`);
        for (const ph of ["Pending", "Running", "Succeeded", "Failed", "Unknown"]) ksm.push(`kube_pod_status_phase{${l},phase="${ph}"} ${ph === "Running" ? 1 : 0}`);
        for (const r of ["cpu", "memory"]) ksm.push(`kube_pod_container_resource_requests{${l},container="c",resource="${r}"} 1`);
        ksm.push(`kube_pod_tolerations{${l},key="node.kubernetes.io/not-ready"} 1`, `kube_pod_tolerations{${l},key="node.kubernetes.io/unreachable"} 1`, `kube_pod_created{${l}} 1`, `kube_pod_status_scheduled_time{${l}} 1`);
    }
    for (let i = 0; i < scale.objects; i++) {
        const n = `namespace="ns${i % 20}"`;
        for (const m of ["kube_replicaset_owner", "kube_replicaset_spec_replicas", "kube_replicaset_status_replicas", "kube_replicaset_metadata_generation", "kube_replicaset_created", "kube_replicaset_labels"]) ksm.push(`${m}{${n},replicaset="rs${i}"} 1`);
        for (const m of ["kube_configmap_info", "kube_configmap_created", "kube_configmap_metadata_resource_version"]) ksm.push(`${m}{${n},configmap="cm${i}"} 1`);
        for (const m of ["kube_secret_info", "kube_secret_type", "kube_secret_created", "kube_secret_metadata_resource_version"]) ksm.push(`${m}{${n},secret="s${i}"} 1`);
    }
    return { cadvisor, kubelet, ksm };
}

/**
 * Serve `appPods` application pods of SERIES_PER_APP_POD series (`/app/<i>`) and the infrastructure shapes
 * (`/cadvisor`, `/kubelet`, `/ksm`, the paths `localAgentConfig` points those jobs at) on one port.
 */
export function startLoadServer(h: Harness, port: number, appPods: number, infra: InfraScale = BENCH_INFRA): LoadServer {
    const shapes = infraExpositions(infra);
    const bodies: Record<string, string> = { "/cadvisor": shapes.cadvisor.join("\n") + "\n", "/kubelet": shapes.kubelet.join("\n") + "\n", "/ksm": shapes.ksm.join("\n") + "\n" };
    const ticks = new Map<string, number>();
    const server = http.createServer((req, res) => {
        const url = req.url ?? "";
        let body = bodies[url];
        if (body === undefined && url.startsWith("/app/")) {
            const tick = (ticks.get(url) ?? 0) + 1;
            ticks.set(url, tick);
            body = appExposition(SERIES_PER_APP_POD, tick);
        }
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
        res.end(body ?? "\n");
    });
    server.listen(port, "127.0.0.1");
    const close = () => server.close();
    h.onCleanup(close);
    const address = `127.0.0.1:${port}`;
    const podTargets = Array.from({ length: appPods }, (_, i) => ({
        targets: [address],
        labels: {
            __meta_kubernetes_pod_annotation_prometheus_io_scrape: "true",
            __meta_kubernetes_pod_annotation_prometheus_io_path: `/app/${i}`,
            __meta_kubernetes_pod_annotation_prometheus_io_port: String(port),
            __meta_kubernetes_pod_phase: "Running",
            __meta_kubernetes_namespace: `app-${i % 3}`,
            __meta_kubernetes_pod_name: `app-${i}-7d9f8c6b5-x2k4p`,
            __meta_kubernetes_pod_node_name: "edge-node-1",
        },
    }));
    return {
        address,
        podTargets,
        series: { apps: appPods * SERIES_PER_APP_POD, cadvisor: shapes.cadvisor.length, kubelet: shapes.kubelet.length, kubeStateMetrics: shapes.ksm.length },
        close,
    };
}
