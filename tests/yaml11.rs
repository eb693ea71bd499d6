//! Values that survive YAML 1.1: Kubernetes and older tools read YAML with 1.1 rules,
//! where `on`, `y`, `0755`, `12:30` or `2001-12-14` are booleans, numbers and dates.
//! Every string a 1.1 reader would take for something else must come out quoted.
//!
//! End to end: a model puts a corpus of such strings in environment variables (of an
//! app on a cluster and of an app on a host), in label values (the tunnel selector;
//! app and group names that are YAML 1.1 booleans) and in route hostnames (where they
//! are valid DNS names); `kiln build`; then
//! - a YAML 1.1 reader (PyYAML, from the validators' venv) reads every YAML file
//!   kiln wrote: no key or value comes back as anything but the string kiln meant;
//! - `kubectl kustomize` renders each overlay and cluster folder from kiln's files,
//!   and its output is read back (as YAML 1.2, the way kustomize writes it: it leaves
//!   `=` and `<<` unquoted, which 1.1's value and merge types would claim);
//! - `docker compose config --format json` prints the host's compose file as compose
//!   read it;
//!
//! and every value read back is the same string.

use crate::support::{kiln, repo, snapshot, write_env};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Strings a YAML 1.1 reader takes for a boolean, null, integer (octal, hex, binary,
/// underscored, sexagesimal), float (exponent, `.inf`, `.NaN`), timestamp, or for
/// the merge and value keys.
const HAZARDS: &[&str] = &[
    "on",
    "off",
    "On",
    "OFF",
    "yes",
    "no",
    "Yes",
    "NO",
    "y",
    "n",
    "Y",
    "N",
    "true",
    "false",
    "True",
    "FALSE",
    "~",
    "null",
    "Null",
    "NULL",
    "0755",
    "012",
    "0o17",
    "0x1F",
    "0b1010",
    "1e3",
    "1E3",
    "+1",
    "-1",
    "-0",
    "+12.5",
    ".5",
    "1.0",
    "6.8523015e+5",
    "685.230_15e+03",
    "1_000",
    "12:30",
    "1:20:30",
    "190:20:30.15",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    ".inf",
    "-.Inf",
    ".NaN",
    "=",
    "<<",
];

/// Hazards that are valid hostnames.
const HOSTNAMES: &[&str] = &[
    "on",
    "off",
    "yes",
    "no",
    "y",
    "n",
    "true",
    "false",
    "null",
    "0755",
    "012",
    "0x1f",
    "0b1010",
    "1e3",
    "1.0",
    "12",
    "2001-12-14",
];

/// Hazards that are valid label values, as the tunnel's pod selector.
const LABELS: &[(&str, &str)] = &[
    ("tier", "on"),
    ("flag", "yes"),
    ("short", "y"),
    ("mode", "0755"),
    ("exp", "1e3"),
    ("date", "2001-12-14"),
    ("nothing", "null"),
    ("bool", "true"),
    ("sep", "1_000"),
    ("hex", "0x1F"),
    ("float", "1.0"),
];

fn validator(name: &str) -> PathBuf {
    let prefix = std::env::var_os("VALIDATORS_PREFIX")
        .map_or_else(|| PathBuf::from("/tmp/validators"), PathBuf::from);
    let path = if name == "python" {
        prefix.join("venv/bin/python")
    } else {
        prefix.join("bin").join(name)
    };
    assert!(
        path.is_file(),
        "{} is not installed (tools/validators/setup-validators.sh); set KILN_SKIP_VALIDATORS=1 to skip",
        path.display()
    );
    path
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A cluster app `yes` in group `on`, a host app `y`, both with every hazard as an
/// environment variable; routes on hazardous hostnames; a tunnel selecting hazardous
/// labels.
fn model() -> String {
    let env: String = HAZARDS
        .iter()
        .enumerate()
        .map(|(i, h)| format!("      V{i:02}: {}\n", quoted(h)))
        .collect();
    let routes: String = HOSTNAMES
        .iter()
        .enumerate()
        .map(|(i, h)| format!("      r{i:02}: {{host: {}}}\n", quoted(h)))
        .collect();
    let selector: Vec<String> = LABELS
        .iter()
        .map(|(k, v)| format!("{k}: {}", quoted(v)))
        .collect();
    format!(
        "environment:
  domain: example.com
  runsOn: lab
registries:
  hub: {{host: registry.example.com}}
clusters:
  lab:
    ingress: {{kind: traefik}}
    networkPolicy: cilium
    tunnel: {{name: edge, namespace: cloudflare, selector: {{{selector}}}}}
hosts:
  vm:
    address: 10.0.0.5
    dataDir: /data
    caddy: {{tls: {{mode: acme, email: ops@example.com}}}}
apps:
  yes:
    group: on
    image: {{registry: hub, repository: shop/web, tag: \"1.0\"}}
    port: 8080
    health: {{path: /healthz, tool: wget}}
    resources:
      requests: {{cpu: 50m, memory: 64Mi}}
      limits: {{cpu: 100m, memory: 64Mi}}
    env:
{env}    routes:
{routes}      public: {{host: public.example.com, tunnel: true}}
  y:
    runsOn: vm
    image: {{registry: hub, repository: shop/api, tag: \"1.0\"}}
    port: 9000
    health: {{path: /healthz, tool: wget}}
    resources:
      requests: {{cpu: 50m, memory: 64Mi}}
      limits: {{cpu: 100m, memory: 64Mi}}
    publish: {{port: 9000}}
    env:
{env}",
        selector = selector.join(", ")
    )
}

/// Reads YAML documents with PyYAML (YAML 1.1): anything it does not read as a string,
/// a number, a boolean or null (a key or a value) comes back as "not a string ...".
fn read_yaml_11(text: &str) -> Vec<Value> {
    read_yaml_11_all(&[text.to_owned()]).remove(0)
}

/// [`read_yaml_11`] of many files in one PyYAML process.
fn read_yaml_11_all(texts: &[String]) -> Vec<Vec<Value>> {
    const SCRIPT: &str = r#"
import json, sys, yaml
def plain(v):
    if isinstance(v, dict):
        return {(k if isinstance(k, str) else "not a string: " + repr(k)): plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    return {"not a string": repr(v)}
texts = json.load(sys.stdin)
print(json.dumps([[plain(d) for d in yaml.safe_load_all(t) if d is not None] for t in texts]))
"#;
    let mut child = Command::new(validator("python"))
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_vec(texts).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "PyYAML cannot read: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every YAML file in `tree` reads the same with YAML 1.1 as with YAML 1.2; returns
/// how many there are.
fn same_in_yaml_11_and_12(tree: &BTreeMap<String, Vec<u8>>, what: &str) -> usize {
    let files: Vec<(&String, String)> = tree
        .iter()
        .filter(|(p, _)| p.ends_with(".yaml") || p.ends_with(".yml"))
        .map(|(p, b)| (p, String::from_utf8(b.clone()).unwrap()))
        .collect();
    let texts: Vec<String> = files.iter().map(|(_, t)| t.clone()).collect();
    for ((path, text), yaml_11) in files.iter().zip(read_yaml_11_all(&texts)) {
        assert_eq!(
            yaml_11,
            read_yaml_12(text),
            "{what}{path} reads differently with YAML 1.1:\n{text}"
        );
    }
    files.len()
}

fn kustomize(dir: &Path) -> Vec<Value> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl on PATH");
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    read_yaml_12(&String::from_utf8(out.stdout).unwrap())
}

/// Reads `---`-separated YAML documents with kiln's strict YAML 1.2 reader (as JSON,
/// like [`read_yaml_11`]).
fn read_yaml_12(text: &str) -> Vec<Value> {
    let mut sources = kiln::diagnostic::SourceMap::default();
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in text.lines().chain(["---"]) {
        if line == "---" {
            if !current.trim().is_empty() {
                let id = sources.add("kustomize output", current.clone());
                let node =
                    kiln::yaml::parse(id, &current).unwrap_or_else(|e| panic!("{e:?}\n{current}"));
                docs.push(node.to_json());
            }
            current.clear();
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    docs
}

fn object<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {docs:#?}"))
}

/// The hazards as the environment variables the model sets.
fn expected_env() -> BTreeMap<String, Value> {
    HAZARDS
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("V{i:02}"), Value::from(*h)))
        .collect()
}

#[test]
fn strings_a_yaml_11_reader_would_retype_survive_kustomize_and_compose() {
    if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
        return;
    }
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    write_env(root, "dev.yaml", &model());
    let run = kiln(root, &["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = root.join("out");

    // Every YAML file kiln wrote reads the same with YAML 1.1 as with YAML 1.2: every
    // string 1.1 would retype is quoted, keys included.
    let files = same_in_yaml_11_and_12(&snapshot(&out), "out/");
    assert!(files >= 8, "{files} YAML files");
    let compose_text = std::fs::read_to_string(out.join("hosts/vm/y-dev/compose.yaml")).unwrap();
    let docs = read_yaml_11(&compose_text);
    let env: BTreeMap<String, Value> =
        serde_json::from_value(docs[0]["services"]["y"]["environment"].clone()).unwrap();
    assert_eq!(env, expected_env());
    // The comparison is not vacuous: one value left unquoted reads as `true`.
    let unquoted = compose_text.replace("V00: \"on\"", "V00: on");
    assert_ne!(compose_text, unquoted);
    let docs = read_yaml_11(&unquoted);
    assert_eq!(docs[0]["services"]["y"]["environment"]["V00"], true);

    // Kubernetes: the overlay as kubectl kustomize prints it, read with YAML 1.1.
    let docs = kustomize(&out.join("kubernetes/apps/yes/overlays/dev"));
    let deployment = object(&docs, "Deployment", "yes");
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/name"], "yes", "{labels}");
    assert_eq!(labels["app.kubernetes.io/part-of"], "on", "{labels}");
    assert_eq!(deployment["metadata"]["namespace"], "on-dev");
    let env: BTreeMap<String, Value> =
        deployment["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap().to_owned(), e["value"].clone()))
            .collect();
    assert_eq!(env, expected_env());
    let ingress = object(&docs, "Ingress", "yes");
    let mut hosts: Vec<&str> = ingress["spec"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host"].as_str().unwrap_or("(not a string)"))
        .filter(|h| *h != "public.example.com")
        .collect();
    hosts.sort_unstable();
    let mut want_hosts = HOSTNAMES.to_vec();
    want_hosts.sort_unstable();
    assert_eq!(hosts, want_hosts);

    let docs = kustomize(&out.join("kubernetes/clusters/lab/tunnel"));
    let policy = object(&docs, "CiliumNetworkPolicy", "tunnel-to-on-dev");
    let selector: BTreeMap<String, Value> =
        serde_json::from_value(policy["spec"]["endpointSelector"]["matchLabels"].clone()).unwrap();
    let want: BTreeMap<String, Value> = LABELS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    assert_eq!(selector, want);
    assert_eq!(
        policy["spec"]["egress"][0]["toPorts"][0]["ports"][0]["port"],
        "8080"
    );
    let docs = kustomize(&out.join("kubernetes/clusters/lab/namespaces"));
    object(&docs, "Namespace", "on-dev");

    // Compose: `docker compose config` prints the file as compose read it.
    let compose = out.join("hosts/vm/y-dev/compose.yaml");
    let printed = Command::new(validator("docker-compose"))
        .arg("-f")
        .arg(&compose)
        .args(["config", "--format", "json"])
        .env_remove("COMPOSE_PROJECT_NAME")
        .output()
        .unwrap();
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let config: Value = serde_json::from_slice(&printed.stdout).unwrap();
    let env: BTreeMap<String, Value> =
        serde_json::from_value(config["services"]["y"]["environment"].clone()).unwrap();
    assert_eq!(env, expected_env());
    assert_eq!(config["services"]["y"]["labels"]["kiln.app"], "y");
}

/// The same holds for every YAML file of the committed `out/` and of every golden
/// case's expected output.
#[test]
fn every_committed_yaml_file_reads_the_same_in_yaml_11_and_12() {
    if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
        return;
    }
    let mut files = same_in_yaml_11_and_12(&snapshot(&repo().join("out")), "out/");
    for case in std::fs::read_dir(repo().join("tests/golden"))
        .unwrap()
        .flatten()
    {
        let expected = case.path().join("expected/out");
        let what = format!(
            "tests/golden/{}/expected/out/",
            case.file_name().to_string_lossy()
        );
        files += same_in_yaml_11_and_12(&snapshot(&expected), &what);
    }
    assert!(files > 100, "{files} YAML files");
}
