//! The manifests in deploy/kubernetes/ agree with the binary: every variable they set is one
//! `greeter serve` reads, the probes and Services point at the port it listens on, and
//! Kubernetes waits longer than the drain takes.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::{greeter, run};
use yaml_rust2::{Yaml, YamlLoader};

/// Every document of every manifest.
fn manifests() -> Vec<Yaml> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes");
    let mut documents = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let parsed = YamlLoader::load_from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            documents.extend(parsed);
        }
    }
    documents
}

fn of_kind(kind: &str) -> Vec<Yaml> {
    manifests()
        .into_iter()
        .filter(|doc| doc["kind"].as_str() == Some(kind))
        .collect()
}

fn deployment() -> Yaml {
    let mut deployments = of_kind("Deployment");
    assert_eq!(deployments.len(), 1, "one Deployment expected");
    deployments.remove(0)
}

fn container(deployment: &Yaml) -> &Yaml {
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

/// Each variable and its value; one from the downward API as `fieldRef:PATH`.
fn env(container: &Yaml) -> Vec<(String, String)> {
    container["env"]
        .as_vec()
        .expect("the container sets env")
        .iter()
        .map(|var| {
            let name = var["name"].as_str().expect("env name").to_owned();
            let value = match var["value"].as_str() {
                Some(value) => value.to_owned(),
                None => {
                    let path = var["valueFrom"]["fieldRef"]["fieldPath"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{name}: a value or a valueFrom.fieldRef"));
                    format!("fieldRef:{path}")
                }
            };
            (name, value)
        })
        .collect()
}

fn env_value(container: &Yaml, name: &str) -> Option<String> {
    env(container)
        .into_iter()
        .find_map(|(var, value)| (var == name).then_some(value))
}

/// `greeter serve --help`, the binary's own word on its flags.
fn serve_help() -> String {
    let out = run(greeter(["serve", "--help"]));
    assert_eq!(out.code, Some(0), "{out:?}");
    out.stdout
}

/// The variables `greeter serve` reads, from the `[env: GREETER_X=]` notes of its help.
fn variables_the_binary_reads() -> BTreeSet<String> {
    serve_help()
        .split("[env: ")
        .skip(1)
        .map(|rest| rest.split('=').next().unwrap().to_owned())
        .collect()
}

fn grpc_port(container: &Yaml) -> i64 {
    let ports = container["ports"].as_vec().expect("container ports");
    let grpc = ports
        .iter()
        .find(|port| port["name"].as_str() == Some("grpc"))
        .expect("a container port named grpc");
    grpc["containerPort"].as_i64().expect("containerPort")
}

#[test]
fn every_variable_is_one_the_binary_reads() {
    let known = variables_the_binary_reads();
    assert!(
        known.contains("GREETER_ADDR"),
        "parsed {known:?} from --help"
    );
    for (name, _) in env(container(&deployment())) {
        assert!(
            known.contains(&name),
            "{name} is not read by greeter serve: {known:?}"
        );
    }
}

#[test]
fn probes_and_addr_use_the_container_port() {
    let deployment = deployment();
    let container = container(&deployment);
    let port = grpc_port(container);
    let addr = env_value(container, "GREETER_ADDR").expect("GREETER_ADDR is set");
    assert_eq!(
        addr,
        format!(":{port}"),
        "listen on every interface, on the container port"
    );
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        let probe_port = container[probe]["grpc"]["port"].as_i64();
        assert_eq!(
            probe_port,
            Some(port),
            "{probe} must be a gRPC probe on port {port}"
        );
    }
}

#[test]
fn probes_ask_for_names_the_health_service_knows() {
    let deployment = deployment();
    let container = container(&deployment);
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        // Kubernetes sends "" (the whole server) when `service` is absent.
        let service = container[probe]["grpc"]["service"].as_str().unwrap_or("");
        assert!(
            ["", "helloworld.Greeter"].contains(&service),
            "{probe} asks for {service:?}, which health answers NOT_FOUND"
        );
    }
    assert_eq!(
        container["readinessProbe"]["grpc"]["service"].as_str(),
        Some("helloworld.Greeter"),
        "readiness follows the Greeter itself"
    );
}

#[test]
fn each_pod_answers_as_its_own_name() {
    let deployment = deployment();
    assert_eq!(
        env_value(container(&deployment), "GREETER_REPLICA").as_deref(),
        Some("fieldRef:metadata.name"),
        "the replica name comes from the downward API"
    );
}

#[test]
fn kubernetes_waits_longer_than_the_drain() {
    let deployment = deployment();
    let container = container(&deployment);
    let grace = match env_value(container, "GREETER_GRACE_PERIOD") {
        Some(value) => value,
        None => {
            let help = serve_help();
            let after = help
                .split("--grace-period")
                .nth(1)
                .expect("--grace-period in --help");
            let default = after.split("[default: ").nth(1).expect("a default");
            default.split(']').next().unwrap().to_owned()
        }
    };
    let grace = humantime::parse_duration(&grace).unwrap();
    let termination = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        .as_i64()
        .expect("terminationGracePeriodSeconds is set");
    assert!(
        Duration::from_secs(termination as u64) > grace,
        "terminationGracePeriodSeconds {termination} must exceed the grace period {grace:?}"
    );
}

#[test]
fn three_replicas_behind_a_service_and_a_headless_service() {
    let deployment = deployment();
    assert_eq!(deployment["spec"]["replicas"].as_i64(), Some(3));
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(&deployment["spec"]["selector"]["matchLabels"], pod_labels);
    let port = grpc_port(container(&deployment));

    let services = of_kind("Service");
    let headless: Vec<&Yaml> = services
        .iter()
        .filter(|service| service["spec"]["clusterIP"].as_str() == Some("None"))
        .collect();
    assert_eq!(
        headless.len(),
        1,
        "one headless Service for client-side balancing"
    );
    assert_eq!(services.len(), 2, "a ClusterIP Service and a headless one");
    for service in &services {
        let name = service["metadata"]["name"].as_str().unwrap_or("?");
        assert_eq!(
            &service["spec"]["selector"], pod_labels,
            "{name} selects the pods"
        );
        for service_port in service["spec"]["ports"].as_vec().expect("ports") {
            let target = &service_port["targetPort"];
            let resolves = target.as_str() == Some("grpc") || target.as_i64() == Some(port);
            assert!(
                resolves,
                "{name} targets {target:?}, not the grpc port {port}"
            );
        }
    }
}

#[test]
fn workers_match_the_cpu_limit() {
    let deployment = deployment();
    let container = container(&deployment);
    let limit = &container["resources"]["limits"]["cpu"];
    // `2`, "2", "1500m" or 0.5: the CPUs the quota allows, rounded down, at least one.
    let cpus = match (limit.as_i64(), limit.as_f64(), limit.as_str()) {
        (Some(whole), _, _) => whole as f64,
        (_, Some(real), _) => real,
        (_, _, Some(text)) => match text.strip_suffix('m') {
            Some(millis) => millis.parse::<f64>().expect("millicores") / 1000.0,
            None => text.parse().expect("a CPU quantity"),
        },
        _ => panic!("resources.limits.cpu is not set"),
    };
    let expected = (cpus.floor() as i64).max(1).to_string();
    assert_eq!(
        env_value(container, "GREETER_WORKERS").as_deref(),
        Some(expected.as_str()),
        "GREETER_WORKERS must be one worker per CPU of limits.cpu ({cpus})"
    );
}
