/** The evaluator's semantics, case by case from the Kubernetes and Cilium documentation. */
import * as assert from "assert";
import { CiliumNetworkPolicy, NetworkPolicy, Pod, World, connection, inCidr } from "../tools/networkPolicyEvaluator";

const web: Pod = { name: "app/web", namespace: "app", labels: { role: "web" }, ports: [{ name: "http", containerPort: 8080 }] };
const db: Pod = { name: "app/db", namespace: "app", labels: { role: "db" }, ports: [{ name: "pg", containerPort: 5432 }] };
const probe: Pod = { name: "ops/probe", namespace: "ops", labels: { role: "web" } };
const other: Pod = { name: "ops/other", namespace: "ops", labels: { role: "x" } };
const namespaces = { app: { team: "a" }, ops: { team: "ops" } };
const np = (namespace: string, name: string, spec: NetworkPolicy["spec"]): NetworkPolicy => ({ kind: "NetworkPolicy", namespace, name, spec });
const cnp = (namespace: string, name: string, spec: CiliumNetworkPolicy["spec"]): CiliumNetworkPolicy => ({ kind: "CiliumNetworkPolicy", namespace, name, spec });
const world = (...policies: (NetworkPolicy | CiliumNetworkPolicy)[]): World => ({ namespaces, policies });
const denyAll = (ns: string) => np(ns, "deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });

describe("network policy evaluator", () => {
    it("no policy: everything is allowed; a default deny isolates both directions", () => {
        assert.ok(connection(world(), web, { pod: db }, 5432).allowed);
        assert.ok(!connection(world(denyAll("app")), web, { pod: db }, 5432).allowed);
        assert.ok(!connection(world(denyAll("app")), probe, { pod: db }, 5432).allowed, "ingress isolated");
        assert.ok(connection(world(denyAll("ops")), web, { pod: db }, 5432).allowed, "another namespace's policy does not apply");
    });

    it("policyTypes absent: Ingress always, Egress only when the policy has egress rules", () => {
        const ingressOnly = np("app", "p", { podSelector: {}, ingress: [] });
        assert.ok(connection(world(ingressOnly), web, { ip: "8.8.8.8" }, 443).allowed, "egress not isolated");
        assert.ok(!connection(world(ingressOnly), probe, { pod: web }, 8080).allowed, "ingress isolated");
        const withEgress = np("app", "p", { podSelector: {}, egress: [] });
        assert.ok(!connection(world(withEgress), web, { ip: "8.8.8.8" }, 443).allowed);
    });

    it("namespaceSelector and podSelector in one peer is AND, in two peers is OR (the classic pitfall)", () => {
        const and = np("app", "and", { podSelector: { matchLabels: { role: "db" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "ops" } }, podSelector: { matchLabels: { role: "web" } } }] }] });
        const or = np("app", "or", { podSelector: { matchLabels: { role: "db" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "ops" } } }, { podSelector: { matchLabels: { role: "web" } } }] }] });
        assert.ok(connection(world(and), probe, { pod: db }, 5432).allowed);
        assert.ok(!connection(world(and), other, { pod: db }, 5432).allowed, "AND: wrong pod in the right namespace");
        assert.ok(!connection(world(and), web, { pod: db }, 5432).allowed, "AND: right pod in the wrong namespace");
        assert.ok(connection(world(or), other, { pod: db }, 5432).allowed, "OR: any pod of the namespace");
        assert.ok(connection(world(or), web, { pod: db }, 5432).allowed, "OR: the pod of the policy's own namespace");
    });

    it("a podSelector alone selects pods of the policy's namespace only; the metadata.name label is implicit", () => {
        const p = np("app", "p", { podSelector: { matchLabels: { role: "db" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: { role: "web" } } }] }] });
        assert.ok(connection(world(p), web, { pod: db }, 5432).allowed);
        assert.ok(!connection(world(p), probe, { pod: db }, 5432).allowed, "same labels, other namespace");
        const byName = np("app", "p", { podSelector: { matchLabels: { role: "db" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ops" } } }] }] });
        assert.ok(connection(world(byName), other, { pod: db }, 5432).allowed);
    });

    it("ports: numbers, ranges, names resolved on the destination, protocol TCP by default; rules are additive", () => {
        const p = (ports: NetworkPolicy["spec"]["ingress"]) => world(np("app", "p", { podSelector: { matchLabels: { role: "db" } }, policyTypes: ["Ingress"], ingress: ports }));
        assert.ok(connection(p([{ ports: [{ port: 5432 }] }]), web, { pod: db }, 5432).allowed);
        assert.ok(!connection(p([{ ports: [{ port: 5432, protocol: "UDP" }] }]), web, { pod: db }, 5432).allowed);
        assert.ok(connection(p([{ ports: [{ port: 5000, endPort: 6000 }] }]), web, { pod: db }, 5432).allowed);
        assert.ok(connection(p([{ ports: [{ port: "pg" }] }]), web, { pod: db }, 5432).allowed);
        assert.ok(!connection(p([{ ports: [{ port: "http" }] }]), web, { pod: db }, 5432).allowed, "db has no port named http");
        assert.ok(connection(p([{ ports: [{ port: 1 }] }, { ports: [{ port: 5432 }] }]), web, { pod: db }, 5432).allowed);
    });

    it("an egress rule with ports and no `to` reaches every destination, the internet included", () => {
        const w = world(denyAll("app"), np("app", "p", { podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [{ port: 443 }] }] }));
        assert.ok(connection(w, web, { ip: "203.0.113.9" }, 443).allowed);
        assert.ok(connection(w, web, { entity: "kube-apiserver" }, 443).allowed);
        assert.ok(!connection(w, web, { ip: "203.0.113.9" }, 80).allowed);
    });

    it("ipBlock with except matches outside addresses; under Cilium it matches neither pods nor the API server", () => {
        const w = world(denyAll("app"), np("app", "p", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }] }] }));
        assert.ok(connection(w, web, { ip: "192.168.1.1" }, 443).allowed);
        assert.ok(!connection(w, web, { ip: "10.1.2.3" }, 443).allowed, "except");
        assert.ok(!connection(w, web, { entity: "kube-apiserver" }, 443).allowed, "the API server is an entity, not a CIDR");
        assert.ok(!connection(w, web, { pod: probe }, 443).allowed, "pods are not CIDRs");
        assert.ok(inCidr("192.168.101.10", "192.168.101.0/24") && !inCidr("192.168.102.1", "192.168.101.0/24"));
    });

    it("CiliumNetworkPolicy: toEntities with toPorts, toEndpoints in the policy's namespace, toCIDRSet, and isolation by section", () => {
        const api = cnp("app", "api", { endpointSelector: { matchLabels: { role: "web" } }, egress: [{ toEntities: ["kube-apiserver"], toPorts: [{ ports: [{ port: "443", protocol: "TCP" }] }] }] });
        assert.ok(connection(world(api), web, { entity: "kube-apiserver" }, 443).allowed);
        assert.ok(!connection(world(api), web, { entity: "kube-apiserver" }, 80).allowed);
        assert.ok(!connection(world(api), web, { ip: "8.8.8.8" }, 443).allowed, "the egress section isolates the endpoint");
        assert.ok(connection(world(api), db, { ip: "8.8.8.8" }, 443).allowed, "not selected");
        const eps = cnp("app", "eps", { endpointSelector: {}, egress: [{ toEndpoints: [{ matchLabels: { role: "web" } }] }] });
        assert.ok(connection(world(eps), db, { pod: web }, 8080).allowed);
        assert.ok(!connection(world(eps), db, { pod: probe }, 8080).allowed, "toEndpoints is the policy's namespace unless it names one");
        const other = cnp("app", "o", { endpointSelector: {}, egress: [{ toEndpoints: [{ matchLabels: { "k8s:io.kubernetes.pod.namespace": "ops", role: "web" } }] }] });
        assert.ok(connection(world(other), db, { pod: probe }, 8080).allowed);
        const cidr = cnp("app", "c", { endpointSelector: {}, egress: [{ toCIDRSet: [{ cidr: "192.168.101.0/24", except: ["192.168.101.1/32"] }] }] });
        assert.ok(connection(world(cidr), db, { ip: "192.168.101.10" }, 9000).allowed);
        assert.ok(!connection(world(cidr), db, { ip: "192.168.101.1" }, 9000).allowed);
        const cluster = cnp("app", "in", { endpointSelector: {}, egress: [{ toEntities: ["cluster"] }] });
        assert.ok(connection(world(cluster), db, { entity: "host" }, 10250).allowed);
        assert.ok(!connection(world(cluster), db, { ip: "8.8.8.8" }, 443).allowed, "cluster is not world");
    });

    it("a connection needs both sides: the source's egress and the destination's ingress", () => {
        const egressOk = np("app", "e", { podSelector: { matchLabels: { role: "web" } }, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: { matchLabels: { role: "db" } } }] }] });
        const dbDeny = np("app", "d", { podSelector: { matchLabels: { role: "db" } }, policyTypes: ["Ingress"] });
        const v = connection(world(egressOk, dbDeny), web, { pod: db }, 5432);
        assert.ok(!v.allowed);
        assert.deepStrictEqual(v.egress.allowedBy, ["NetworkPolicy app/e"]);
        assert.deepStrictEqual(v.ingress?.allowedBy, []);
    });
});
