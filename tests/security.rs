//! Security: every workload meets Pod Security "restricted" (checked on what
//! `kubectl kustomize` builds); a real secret scanner (detect-secrets, installed with
//! the validators) finds no secret material in `out/` or in the repository, and checkov's scan of `out/`
//! (run by `tests/validators.rs` with every failed check counted) finds nothing the
//! model does not waive with a reason.
//!
//! The scanner runs with all its plugins. Four kinds of lines are excluded, each
//! because it is not a secret by construction:
//! - sealed values (`AQ…`/`Ag…` base64 of kubeseal's format, alone on a line or after
//!   `value:`), which only the cluster's controller can decrypt;
//! - sha256 fingerprints and lock hashes (`kiln.lock`, `certificate: sha256:`,
//!   `source:` fingerprints of a key's definition, never of its value);
//! - lines that *name* a secret (`secretName: x`, `pullSecret: x`, `{secret: x, key: y}`,
//!   a key name ending in `:`, the CI variable a password comes from), which the
//!   keyword plugin flags by their words;
//! - an env template's comment that spells a connection URL around the placeholder
//!   `PASSWORD` (`redis://default:PASSWORD@host:6379/0`), which the basic-auth plugin
//!   flags by its shape.
//! A few source lines that only *talk about* credentials carry detect-secrets' own
//! `pragma: allowlist secret` comment.
//! Excluded paths: `target/`, `node_modules/`, `.git/`, and the deliberate test material
//! (`src/secrets/test_data/` holds throwaway keys for the sealing vectors; `tests/`
//! plants fake values to prove they never reach `out/`; `tools/validators/samples/`
//! are the validators' own self-test inputs).

use crate::support::repo;
use std::process::Command;

/// detect-secrets matches these against each line as it reads it; for YAML it first
/// rewrites `key: value` as `key: "value"`, hence the optional quotes.
const EXCLUDE_LINES: &[&str] = &[
    // kubeseal ciphertext: 2-byte length prefix (AQ/Ag/…) + RSA block + AES-GCM.
    r#"^\s*([A-Za-z0-9._-]+:\s*)?["']?A[A-Za-z0-9+/]{300,}={0,2}["']?\s*$"#,
    r"^[0-9a-f]{64}  ",
    r"certificate: .?sha256:[0-9a-f]{64}",
    r#"^\s*source: ["']?[0-9a-f]{16}["']?\s*$"#,
    // Names of secrets, keys and the CI variables or env vars holding them.
    r#"^\s*(secretName|pullSecret|sshKey|secret|onePasswordItem|name|key|claimName|password|passwordEnv|username):\s*["']?[A-Za-z0-9 ._${}-]*["']?\s*$"#,
    r"\{secret: [a-z0-9-]+, key: [A-Za-z0-9._-]+\}",
    r#"^\s*["']?[A-Za-z0-9._-]+["']?:\s*$"#,
    // An env template's comment spelling a connection URL around the placeholder
    // PASSWORD (the value is filled in on the host, never written by kiln).
    r"^# The connection URL [a-z]+://[^\s:@]+:PASSWORD@\S+, where PASSWORD is:$",
];

/// The exclusions as one regex (detect-secrets keeps only the last `--exclude-lines`).
fn exclusions() -> String {
    EXCLUDE_LINES
        .iter()
        .map(|r| format!("(?:{r})"))
        .collect::<Vec<_>>()
        .join("|")
}

#[test]
fn no_secret_material_in_out_or_the_repository() {
    if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
        return;
    }
    let prefix =
        std::env::var("VALIDATORS_PREFIX").unwrap_or_else(|_| "/tmp/validators".to_owned());
    let exe = std::path::Path::new(&prefix).join("detect-secrets-venv/bin/detect-secrets");
    assert!(
        exe.is_file(),
        "detect-secrets is not installed: run tools/test.sh (or tools/validators/setup-validators.sh)"
    );
    let mut cmd = Command::new(&exe);
    cmd.current_dir(repo()).args(["scan", "--all-files"]);
    cmd.args([
        "--exclude-files",
        r"(^|/)(target|node_modules|\.git|tests|test_data|samples)/",
    ]);
    cmd.args(["--exclude-lines", &exclusions()]);
    let out = cmd.output().expect("detect-secrets runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings: Vec<String> = report["results"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(file, items)| {
            items
                .as_array()
                .into_iter()
                .flatten()
                .map(move |i| format!("{file}:{} {}", i["line_number"], i["type"]))
        })
        .collect();
    assert!(
        findings.is_empty(),
        "detect-secrets found secret material:\n{}",
        findings.join("\n")
    );
    // The scan covered the output and the model.
    let scanned = report["plugins_used"].as_array().map_or(0, Vec::len);
    assert!(scanned > 10, "only {scanned} detect-secrets plugins ran");
}

/// The scanner does find a secret written in the clear where kiln writes, with the
/// same exclusions: the test above cannot pass by scanning nothing.
#[test]
fn the_secret_scan_catches_a_planted_secret() {
    if std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1") {
        return;
    }
    let prefix =
        std::env::var("VALIDATORS_PREFIX").unwrap_or_else(|_| "/tmp/validators".to_owned());
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("out")).unwrap();
    std::fs::write(
        tmp.path().join("out/leak.yaml"),
        "env:\n- name: GITHUB_TOKEN\n  value: ghp_4Yz7QvR2mN8kL1pX6wT3bJ9cF5dH0sA2eU7i\n- name: AWS_SECRET_ACCESS_KEY\n  value: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    )
    .unwrap();
    let mut cmd =
        Command::new(std::path::Path::new(&prefix).join("detect-secrets-venv/bin/detect-secrets"));
    cmd.current_dir(tmp.path()).args(["scan", "--all-files"]);
    cmd.args(["--exclude-lines", &exclusions()]);
    let out = cmd.output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["results"]["out/leak.yaml"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{report}"
    );
}

/// The kinds whose objects carry a pod template, and where it sits.
fn pod_spec(object: &serde_json::Value) -> Option<&serde_json::Value> {
    match object["kind"].as_str()? {
        "Pod" => Some(&object["spec"]),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            Some(&object["spec"]["template"]["spec"])
        }
        "CronJob" => Some(&object["spec"]["jobTemplate"]["spec"]["template"]["spec"]),
        _ => None,
    }
}

/// What Pod Security "restricted" (and the baseline it includes) rejects in one pod
/// spec, per the Pod Security Standards: host namespaces, privileged containers, host
/// ports, volumes other than the listed kinds, privilege escalation, running as root,
/// a seccomp profile other than RuntimeDefault/Localhost, and capabilities beyond
/// `drop: [ALL]` (+ NET_BIND_SERVICE).
fn restricted_violations(spec: &serde_json::Value) -> Vec<String> {
    let mut v = Vec::new();
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[field] == true {
            v.push(format!("{field}: true"));
        }
    }
    const VOLUMES: &[&str] = &[
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ];
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        for key in volume.as_object().unwrap().keys() {
            if key != "name" && !VOLUMES.contains(&key.as_str()) {
                v.push(format!("volume `{}` is {key}", volume["name"]));
            }
        }
    }
    let pod = &spec["securityContext"];
    let seccomp_ok = |s: &serde_json::Value| {
        matches!(
            s["seccompProfile"]["type"].as_str(),
            Some("RuntimeDefault" | "Localhost")
        )
    };
    let containers = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().into_iter().flatten());
    for c in containers {
        let name = c["name"].as_str().unwrap_or("?");
        let sc = &c["securityContext"];
        if sc["privileged"] == true {
            v.push(format!("{name}: privileged"));
        }
        if sc["allowPrivilegeEscalation"] != false {
            v.push(format!("{name}: allowPrivilegeEscalation is not false"));
        }
        let non_root = if sc["runAsNonRoot"].is_boolean() {
            sc["runAsNonRoot"] == true
        } else {
            pod["runAsNonRoot"] == true
        };
        if !non_root {
            v.push(format!("{name}: runAsNonRoot is not true"));
        }
        if sc["runAsUser"] == 0 || (sc["runAsUser"].is_null() && pod["runAsUser"] == 0) {
            v.push(format!("{name}: runAsUser is 0"));
        }
        if !(seccomp_ok(sc) || (sc["seccompProfile"].is_null() && seccomp_ok(pod))) {
            v.push(format!(
                "{name}: no RuntimeDefault/Localhost seccomp profile"
            ));
        }
        let drops_all = sc["capabilities"]["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|c| c == "ALL"));
        if !drops_all {
            v.push(format!("{name}: capabilities do not drop ALL"));
        }
        for add in sc["capabilities"]["add"].as_array().into_iter().flatten() {
            if add != "NET_BIND_SERVICE" {
                v.push(format!("{name}: adds capability {add}"));
            }
        }
        for port in c["ports"].as_array().into_iter().flatten() {
            if port["hostPort"].as_u64().is_some_and(|p| p != 0) {
                v.push(format!("{name}: hostPort {}", port["hostPort"]));
            }
        }
    }
    v
}

/// Every object in a tree as kubectl sees it: each overlay (and each directory
/// outside the app trees) through `kubectl kustomize`, loose files as written.
fn objects(out: &std::path::Path) -> Vec<(String, serde_json::Value)> {
    let mut objects = Vec::new();
    let mut push_docs = |origin: String, text: &str| {
        let docs: Vec<serde_json::Value> =
            serde_saphyr::from_str_multiple(text).unwrap_or_else(|e| panic!("{origin}: {e}"));
        objects.extend(
            docs.into_iter()
                .filter(|d| d.is_object())
                .map(|d| (origin.clone(), d)),
        );
    };
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let is_base = dir.file_name().is_some_and(|n| n == "base");
        if dir.join("kustomization.yaml").is_file() {
            if is_base {
                continue; // built through its overlays
            }
            let built = Command::new("kubectl")
                .arg("kustomize")
                .arg(&dir)
                .output()
                .expect("kubectl runs");
            assert!(
                built.status.success(),
                "{}",
                String::from_utf8_lossy(&built.stderr)
            );
            push_docs(
                dir.display().to_string(),
                &String::from_utf8_lossy(&built.stdout),
            );
            continue;
        }
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml")
                && path
                    .components()
                    .any(|c| c.as_os_str() == "kubernetes" || c.as_os_str() == "pipelines")
                && !path.to_string_lossy().contains("/.github/")
            {
                push_docs(
                    path.display().to_string(),
                    &std::fs::read_to_string(&path).unwrap(),
                );
            }
        }
    }
    objects
}

/// Every workload kiln writes meets Pod Security "restricted", unless the model sets
/// the environment's `podSecurity` lower (the namespace's enforce label then says so).
#[test]
fn workloads_meet_pod_security_restricted() {
    let mut trees = vec![repo().join("out")];
    for entry in std::fs::read_dir(repo().join("tests/golden"))
        .unwrap()
        .flatten()
    {
        let out = entry.path().join("expected/out");
        if out.join("kubernetes").is_dir() {
            trees.push(out);
        }
    }
    for example in crate::support::examples() {
        if example.join("out/kubernetes").is_dir() {
            trees.push(example.join("out"));
        }
    }
    let mut problems = Vec::new();
    let mut checked = 0;
    for tree in &trees {
        let objects = objects(tree);
        let levels: std::collections::BTreeMap<&str, &str> = objects
            .iter()
            .filter(|(_, o)| o["kind"] == "Namespace")
            .filter_map(|(_, o)| {
                Some((
                    o["metadata"]["name"].as_str()?,
                    o["metadata"]["labels"]["pod-security.kubernetes.io/enforce"].as_str()?,
                ))
            })
            .collect();
        assert!(
            !levels.is_empty(),
            "{}: no Namespace objects",
            tree.display()
        );
        for (origin, object) in &objects {
            let Some(spec) = pod_spec(object) else {
                continue;
            };
            let namespace = object["metadata"]["namespace"].as_str().unwrap_or("");
            if levels.get(namespace).is_some_and(|l| *l != "restricted") {
                continue;
            }
            checked += 1;
            for violation in restricted_violations(spec) {
                problems.push(format!(
                    "{origin}: {} {}: {violation}",
                    object["kind"], object["metadata"]["name"]
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 20, "only {checked} workloads checked");
}

/// The check above finds what "restricted" forbids.
#[test]
fn the_pod_security_check_catches_a_privileged_pod() {
    let spec = serde_json::json!({
        "hostNetwork": true,
        "volumes": [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}],
        "containers": [{
            "name": "app",
            "securityContext": {"runAsUser": 0, "capabilities": {"add": ["SYS_ADMIN"]}},
            "ports": [{"containerPort": 80, "hostPort": 80}]
        }]
    });
    let found = restricted_violations(&spec).join("\n");
    for needle in [
        "hostNetwork",
        "hostPath",
        "allowPrivilegeEscalation",
        "runAsNonRoot",
        "runAsUser is 0",
        "seccomp",
        "drop ALL",
        "SYS_ADMIN",
        "hostPort 80",
    ] {
        assert!(found.contains(needle), "{needle} not in:\n{found}");
    }
}

/// The one-off pods the runbooks give for restoring a volume (the JSON each writes
/// before `kubectl run --overrides`) meet Pod Security "restricted" too, so the
/// restore runs in the app's namespace.
#[test]
fn runbook_restore_pods_meet_pod_security_restricted() {
    let mut runbooks = Vec::new();
    for entry in std::fs::read_dir(repo().join("tests/golden"))
        .unwrap()
        .flatten()
    {
        runbooks.push(entry.path().join("expected/out/docs"));
    }
    for example in crate::support::examples() {
        runbooks.push(example.join("out/docs"));
    }
    let mut checked = 0;
    let mut problems = Vec::new();
    for dir in runbooks {
        for page in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(page.path()).unwrap();
            // Each pod is the indented heredoc after `cat > <app>-<volume>-restore.json`.
            for block in text.split("-restore.json <<'EOF'\n").skip(1) {
                let json: String = block
                    .lines()
                    .take_while(|l| l.trim() != "EOF")
                    .collect::<Vec<_>>()
                    .join("\n");
                let pod: serde_json::Value = serde_json::from_str(&json)
                    .unwrap_or_else(|e| panic!("{}: {e}:\n{json}", page.path().display()));
                assert_eq!(pod["apiVersion"], "v1", "kubectl run requires it");
                checked += 1;
                for violation in restricted_violations(&pod["spec"]) {
                    problems.push(format!("{}: {violation}", page.path().display()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 2, "only {checked} restore pods checked");
}
