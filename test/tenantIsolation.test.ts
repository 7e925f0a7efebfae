import * as assert from "assert";
import { all, container, manifest, one, planEdgeWith, planStack, yaml } from "./helpers/plan";


const LABEL = "node-restriction.kubernetes.io/tenant";

describe("TenantIsolation and per-tenant agents (cluster-02)", () => {
    const tenants = { a: ["cluster-02-worker-1", "cluster-02-worker-2"], b: ["cluster-02-worker-3", "cluster-02-worker-4"] };

    it("yields two agents, each placed only on its own tenant's nodes", async () => {
        const plan = await planStack("cluster-02");
        for (const t of ["a", "b"] as const) {
            const spec = manifest(one(plan, "kubernetes:apps/v1:StatefulSet", `-agent-${t}-statefulset`)).spec.template.spec;
            assert.deepStrictEqual(spec.nodeSelector, { [LABEL]: t });
            // The taint key stays `tenant` (NodeRestriction already forbids a kubelet to change its taints).
            assert.deepStrictEqual(spec.tolerations, [{ key: "tenant", operator: "Equal", value: t, effect: "NoSchedule" }]);
        }
    });

    it("scrapes only its own namespaces and nodes (the scopes never overlap)", async () => {
        const configs = (await planStack("cluster-02")).outputs.agentConfigs as Record<string, string>;
        assert.deepStrictEqual(Object.keys(configs).sort(), ["cluster-02-a", "cluster-02-b"]);
        const scope = (writer: string, t: string) => {
            const cfg = yaml(configs[writer]);
            const pods = cfg.scrape_configs.find((s: any) => s.job_name === "pods");
            for (const job of ["kubelet", "cadvisor", "node-exporter"]) {
                const relabels = cfg.scrape_configs.find((s: any) => s.job_name === job).relabel_configs;
                // Prometheus' name for the node label node-restriction.kubernetes.io/tenant (unsupported characters → _).
                const meta = "__meta_kubernetes_node_label_node_restriction_kubernetes_io_tenant";
                assert.deepStrictEqual(relabels[0], { source_labels: [meta], regex: t, action: "keep" });
                // Series keep the label name they had before the node label moved.
                assert.ok(relabels.some((r: any) => r.target_label === "node_tenant" && r.source_labels[0] === meta), `${job}: node_tenant`);
                assert.ok(!JSON.stringify(relabels).includes("__meta_kubernetes_node_label_tenant"), `${job}: nothing reads the legacy label`);
            }
            const ksm = cfg.scrape_configs.find((s: any) => s.job_name === "kube-state-metrics").static_configs[0].targets[0];
            return { namespaces: pods.kubernetes_sd_configs[0].namespaces.names, ksm };
        };
        const a = scope("cluster-02-a", "a");
        const b = scope("cluster-02-b", "b");
        assert.deepStrictEqual(a.namespaces, ["tenant-a"]);
        assert.deepStrictEqual(b.namespaces, ["tenant-b"]);
        assert.notStrictEqual(a.ksm, b.ksm);
    });

    it("RBAC: pods only in its namespaces, kubelet metrics only of its own nodes", async () => {
        const plan = await planStack("cluster-02");
        for (const [t, nodes] of Object.entries(tenants)) {
            const cr = manifest(one(plan, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", `-agent-${t}-nodes`));
            const metrics = cr.rules.find((r: any) => r.resources.includes("nodes/metrics"));
            assert.deepStrictEqual(metrics.resourceNames, nodes);
            assert.ok(!cr.rules.some((r: any) => r.resources.includes("pods")), "no cluster-wide pod access");
            const roles = all(plan, "kubernetes:rbac.authorization.k8s.io/v1:Role").filter((r) => r.name.includes(`-agent-${t}-pods-`));
            // Its tenant's namespace, and Fluent Bit's (it scrapes the Fluent Bit pods on its own nodes).
            assert.deepStrictEqual(roles.map((r) => manifest(r).metadata.namespace), [`tenant-${t}`, "logging-node"]);
            const binding = manifest(one(plan, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", `-agent-${t}-pods-tenant-${t}`));
            assert.strictEqual(binding.subjects[0].name, `prometheus-agent-${t}`);
        }
    });

    it("per-tenant kube-state-metrics watches only the tenant's namespaces with namespaced Roles", async () => {
        const plan = await planStack("cluster-02");
        const values = (one(plan, "kubernetes:helm.sh/v4:Chart", "-kube-state-metrics-a-chart").inputs as any).values;
        assert.strictEqual(values.namespaces, "tenant-a");
        assert.deepStrictEqual(values.rbac, { useClusterRole: false });
        assert.ok(!values.collectors.includes("nodes") && !values.collectors.includes("secrets"));
        assert.deepStrictEqual(values.nodeSelector, { [LABEL]: "a" });
    });

    it("labels its nodes by server-side patch without owning taints; taints only its own key", async () => {
        const plan = await planStack("cluster-02");
        const patches = all(plan, "kubernetes:core/v1:NodePatch").map(manifest);
        assert.deepStrictEqual(patches.map((p) => p.metadata.name).sort(), [...tenants.a, ...tenants.b]);
        for (const p of patches) {
            assert.strictEqual(p.spec, undefined, "a NodePatch that owns spec.taints would replace the node controller's taints");
            assert.match(p.metadata.labels[LABEL], /^[ab]$/);
        }
        const job = one(plan, "kubernetes:batch/v1:Job", "-tenant-a-taint-" + all(plan, "kubernetes:batch/v1:Job").find((j) => j.name.includes("-tenant-a-"))!.name.split("-").pop());
        assert.deepStrictEqual(container(job).command, ["kubectl", "taint", "nodes", ...tenants.a, "tenant=a:NoSchedule", "--overwrite"]);
        const role = manifest(one(plan, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "-tenant-a-taint"));
        assert.deepStrictEqual(role.rules, [{ apiGroups: [""], resources: ["nodes"], resourceNames: tenants.a, verbs: ["get", "patch"] }]);
    });

    it("gives each tenant namespace a quota, limit range and default-deny with tenant-only allows", async () => {
        const plan = await planStack("cluster-02");
        const quota = manifest(one(plan, "kubernetes:core/v1:ResourceQuota", "-tenant-a-tenant-a-quota"));
        assert.deepStrictEqual(quota.spec.hard, { "requests.cpu": "16", "limits.memory": "32Gi", "requests.memory": "32Gi", pods: "200" });
        assert.ok(one(plan, "kubernetes:core/v1:LimitRange", "-tenant-a-tenant-a-limits"));
        const deny = manifest(one(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "-tenant-a-tenant-a-default-deny"));
        assert.deepStrictEqual(deny.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        const allow = manifest(one(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "-tenant-a-tenant-a-allow-tenant"));
        const text = JSON.stringify(allow);
        assert.ok(!text.includes("tenant-b"), "tenant A's namespace admits nothing from tenant B");
        assert.match(text, /"app.kubernetes.io\/instance":"agent-a"/);
    });
    it("labels tenant nodes under node-restriction.kubernetes.io/ (a kubelet cannot set it); the legacy label only while migrating", async () => {
        // cluster-02 is in the migration window (edge.legacyTenantNodeLabel: true): both labels, same value.
        const migrating = all(await planStack("cluster-02"), "kubernetes:core/v1:NodePatch").map(manifest);
        for (const p of migrating) assert.deepStrictEqual(Object.keys(p.metadata.labels).sort(), [LABEL, "tenant"]);
        assert.ok(migrating.every((p) => p.metadata.labels.tenant === p.metadata.labels[LABEL]));
        // After the window: the new label alone (server-side apply then removes `tenant`, which only the patch owned).
        const after = await planEdgeWith("cluster-02", (e) => delete e.legacyTenantNodeLabel);
        const patches = all(after, "kubernetes:core/v1:NodePatch");
        assert.deepStrictEqual(patches.map((p) => p.urn).sort(), all(await planStack("cluster-02"), "kubernetes:core/v1:NodePatch").map((p) => p.urn).sort(), "same resources: the label changes in place");
        for (const p of patches.map(manifest)) assert.deepStrictEqual(Object.keys(p.metadata.labels), [LABEL]);
    });

    it("the agents and kube-state-metrics wait for their tenant's node labels (never select by a label not yet there)", async () => {
        const plan = await planStack("cluster-02");
        for (const t of ["a", "b"] as const) {
            const patches = all(plan, "kubernetes:core/v1:NodePatch").filter((p) => p.name.includes(`-tenant-${t}-node-`)).map((p) => p.urn).sort();
            assert.strictEqual(patches.length, 2);
            for (const r of [
                one(plan, "kubernetes:core/v1:ConfigMap", `-agent-${t}-config`),
                one(plan, "kubernetes:apps/v1:StatefulSet", `-agent-${t}-statefulset`),
                one(plan, "kubernetes:helm.sh/v4:Chart", `-kube-state-metrics-${t}-chart`),
            ]) {
                assert.deepStrictEqual(r.dependencies.filter((d) => d.includes("NodePatch")).sort(), patches, `${r.name} depends on tenant ${t}'s node patches`);
            }
        }
    });
    describe("the tenant teams' RBAC", () => {
        type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
        /** Whether the rules allow `verb` on `group`/`resource` (RBAC semantics, wildcards included). */
        const allows = (rules: Rule[], group: string, resource: string, verb: string) =>
            rules.some(
                (r) =>
                    (r.apiGroups.includes(group) || r.apiGroups.includes("*")) &&
                    (r.resources.includes(resource) || r.resources.includes("*")) &&
                    (r.verbs.includes(verb) || r.verbs.includes("*")),
            );
        const WRITES = ["create", "update", "patch", "delete", "deletecollection"];

        it("binds a Role in each tenant namespace to the tenant's group (default tenant-<name>)", async () => {
            const plan = await planStack("cluster-02");
            for (const t of ["a", "b"]) {
                const binding = manifest(one(plan, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", `-tenant-${t}-tenant-${t}-team`));
                assert.strictEqual(binding.metadata.namespace, `tenant-${t}`);
                assert.deepStrictEqual(binding.subjects, [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: `tenant-${t}` }]);
                assert.deepStrictEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "tenant-workloads" });
                assert.strictEqual(manifest(one(plan, "kubernetes:rbac.authorization.k8s.io/v1:Role", `-tenant-${t}-tenant-${t}-team`)).metadata.namespace, `tenant-${t}`);
            }
            const named = await planEdgeWith("cluster-02", (e) => (e.tenants[0].group = "oidc:team-alpha"));
            const binding = manifest(one(named, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "-tenant-a-tenant-a-team"));
            assert.deepStrictEqual(binding.subjects.map((s: any) => s.name), ["oidc:team-alpha"]);
        });

        it("runs workloads but cannot edit NetworkPolicies, quotas, LimitRanges, RBAC or admission; no wildcard", async () => {
            const role = manifest(one(await planStack("cluster-02"), "kubernetes:rbac.authorization.k8s.io/v1:Role", "-tenant-a-tenant-a-team"));
            const rules: Rule[] = role.rules;
            for (const r of rules) {
                for (const field of [r.apiGroups, r.resources, r.verbs]) assert.ok(!field.includes("*"), `wildcard in ${JSON.stringify(r)}`);
                assert.ok(!r.verbs.some((v) => ["escalate", "bind", "impersonate"].includes(v)), `privilege verbs in ${JSON.stringify(r)}`);
                assert.strictEqual(r.resourceNames, undefined);
            }
            const work: [string, string][] = [
                ["", "pods"], ["", "services"], ["", "configmaps"], ["", "secrets"], ["", "persistentvolumeclaims"], ["", "serviceaccounts"],
                ["apps", "deployments"], ["apps", "statefulsets"], ["apps", "daemonsets"], ["batch", "jobs"], ["batch", "cronjobs"],
                ["autoscaling", "horizontalpodautoscalers"], ["policy", "poddisruptionbudgets"],
            ];
            for (const [g, res] of work) for (const v of ["create", "update", "patch", "delete", "get", "list", "watch"]) assert.ok(allows(rules, g, res, v), `${v} ${g}/${res}`);
            assert.ok(allows(rules, "", "pods/log", "get") && allows(rules, "", "pods/exec", "create"), "logs and exec");
            const isolation: [string, string][] = [["networking.k8s.io", "networkpolicies"], ["", "resourcequotas"], ["", "limitranges"]];
            for (const [g, res] of isolation) {
                assert.ok(allows(rules, g, res, "get"), `reads ${res}`);
                for (const v of WRITES) assert.ok(!allows(rules, g, res, v), `must not ${v} ${res}`);
            }
            const forbiddenGroups = ["admissionregistration.k8s.io", "rbac.authorization.k8s.io", "cilium.io"];
            assert.deepStrictEqual(rules.filter((r) => r.apiGroups.some((g) => forbiddenGroups.includes(g))), [], "nothing on admission, RBAC or Cilium policies");
            // The binding of the placement policy is cluster-scoped: a namespaced Role could not grant it anyway.
            assert.ok(!rules.some((r) => r.resources.some((res) => res.startsWith("validatingadmissionpolic"))));
        });
    });
});
