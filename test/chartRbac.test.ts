/**
 * What the charts' roles may read. For every chart the program installs, the values that decide its RBAC (read in
 * the chart's templates at the pinned version, cited below) are set by the program and asserted here on the values
 * the chart renders with (its defaults merged with ours). A chart role that can still read Secrets is listed in
 * README ("Security", chart roles) with its reason.
 */
import * as assert from "assert";
import { charts } from "../lib/versions";
import { isHelmChart } from "../tools/plan";
import { effectiveValues } from "./helpers/charts";
import { STACKS, manifest, planStack } from "./helpers/plan";

type Check = (v: any, where: string) => void;

const CHECKS: Record<string, Check> = {
    // kube-prometheus-stack 88.5.3 and its subcharts.
    "kube-prometheus-stack": (v, where) => {
        // grafana 12.11.1 templates/clusterrole.yaml and role.yaml: any sidecar on ⇒ get/list/watch on configmaps AND
        // secrets (cluster-wide unless rbac.namespaced). Grafana provisions from mounted files instead.
        assert.strictEqual(v.grafana.rbac.create, false, `${where}: grafana.rbac.create`);
        for (const s of ["dashboards", "datasources", "plugins", "alerts", "notifiers"]) assert.notStrictEqual(v.grafana.sidecar[s]?.enabled, true, `${where}: grafana.sidecar.${s}.enabled`);
        assert.strictEqual(v.grafana.automountServiceAccountToken, false, `${where}: grafana.automountServiceAccountToken`);
        // kube-state-metrics 8.4.0 templates/role.yaml: one list/watch rule per collector; the defaults include secrets.
        assert.ok(v["kube-state-metrics"].collectorsExclude.includes("secrets"), `${where}: kube-state-metrics.collectorsExclude`);
        // prometheus-node-exporter: not installed by this chart (its own component, below).
        assert.strictEqual(v.nodeExporter.enabled, false, `${where}: nodeExporter.enabled`);
        // Alertmanager reads mounted files only.
        assert.strictEqual(v.alertmanager.alertmanagerSpec.automountServiceAccountToken, false, `${where}: alertmanagerSpec.automountServiceAccountToken`);
        // The operator's ClusterRole (templates/prometheus-operator/clusterrole.yaml) keeps `*` on configmaps and
        // secrets: it writes the Prometheus/Alertmanager configuration Secrets (README lists it).
        assert.notStrictEqual(v.prometheusOperator.enabled, false, `${where}: the operator runs (and is the listed exception)`);
    },
    // kube-state-metrics 8.4.0 templates/role.yaml (see above); a tenant instance: Roles in its namespaces only.
    "kube-state-metrics": (v, where) => {
        assert.ok(v.collectorsExclude.includes("secrets"), `${where}: collectorsExclude`);
        assert.ok(!(v.collectors as string[]).filter((c) => !v.collectorsExclude.includes(c)).includes("secrets"), `${where}: effective collectors`);
        if (v.namespaces) assert.strictEqual(v.rbac.useClusterRole, false, `${where}: a tenant instance uses Roles`);
    },
    // prometheus-node-exporter 4.56.1 templates/clusterrole.yaml: a ClusterRole only with kubeRBACProxy.enabled.
    "prometheus-node-exporter": (v, where) => assert.strictEqual(v.kubeRBACProxy.enabled, false, `${where}: kubeRBACProxy.enabled`),
    // opensearch 3.6.0: rbac.create (default false) creates only a ServiceAccount; no Role.
    opensearch: (v, where) => assert.strictEqual(v.rbac.create, false, `${where}: rbac.create`),
    // opensearch-dashboards 3.6.0 templates/rolebinding.yaml binds a Role the chart never creates: off, so that a
    // Role of that name made later cannot be granted by accident.
    "opensearch-dashboards": (v, where) => assert.strictEqual(v.rbac.create, false, `${where}: rbac.create`),
    // fluent-bit 0.58.1 templates/clusterrole.yaml: get/list/watch namespaces and pods; nodes and events only when
    // asked for. No secrets.
    "fluent-bit": (v, where) => {
        assert.strictEqual(v.rbac.nodeAccess, false, `${where}: rbac.nodeAccess`);
        assert.strictEqual(v.rbac.eventsAccess, false, `${where}: rbac.eventsAccess`);
    },
};

describe("what the charts' roles may read", () => {
    for (const stack of STACKS) {
        it(`${stack}: every chart's RBAC-deciding values are set and asserted`, async () => {
            for (const r of (await planStack(stack)).resources.filter(isHelmChart)) {
                const { chart, version, values } = manifest(r) as { chart: string; version: string; values: Record<string, unknown> };
                const check = CHECKS[chart];
                assert.ok(check, `${r.name}: chart ${chart} has no RBAC check; read its templates and add one`);
                if ((values as any).crds?.enabled === true) continue; // the CRD-only instance renders no workload
                check(effectiveValues(chart, version, values), `${stack} ${r.name}`);
            }
        });
    }

    it("the checks can fail: Grafana with its chart's defaults, kube-state-metrics with its default collectors", () => {
        const { kubePrometheusStack: kps, kubeStateMetrics: ksm } = charts;
        assert.throws(() => CHECKS[kps.chart](effectiveValues(kps.chart, kps.version, {}), "defaults"), /grafana.rbac.create/);
        assert.throws(() => CHECKS[ksm.chart](effectiveValues(ksm.chart, ksm.version, {}), "defaults"), /collectorsExclude/);
    });
});
