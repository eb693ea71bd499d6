//! Secrets end to end. `kiln seal` runs against a fake `op` on PATH (the real 1Password
//! CLI is not installed here) and the throwaway test controller certificate; the
//! SealedSecrets `kiln build` writes are then decrypted with the test private key, as
//! the controller would, and every plaintext is searched for in `out/`.

use crate::support::{kiln, kiln_with, reference_project, repo, snapshot};
use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const USERNAME: &str = "gitlab+deploy-token-1";

fn test_data(name: &str) -> PathBuf {
    repo().join("src/secrets/test_data").join(name)
}

fn cert() -> String {
    test_data("cert2048.pem").display().to_string()
}

/// The hand-entered `known_hosts` line of the VM deploy key.
const KNOWN_HOSTS: &str = "192.168.1.50 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItestkey";

/// The values the fake 1Password holds, by reference.
fn op_values() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        (
            "op://Kubernetes/Invoicetron Dev/postgres-password",
            "dev0pw1d2e3a4d5b6e7e8f9a0b1c2d3e4f5a6b7c8d9",
        ),
        (
            "op://Kubernetes/Invoicetron Prod/postgres-password",
            "prod9pw8f7e6d5c4b3a2918273645546372819aabbc",
        ),
        (
            "op://Kubernetes/Invoicetron Deploy Token/password",
            "glpat-Zq81xYtT0kenValue",
        ),
        ("op://Homelab/Harbor Robot/username", "robot$storefront"),
        (
            "op://Homelab/Harbor Robot/password",
            "harbor9Robot8Pass7Word6",
        ),
        (
            "op://Homelab/VM Deploy Key/private key",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAtestkeyvalue\n-----END OPENSSH PRIVATE KEY-----\n",
        ),
    ])
}

/// A directory with a fake `op` that serves `values` and logs every call.
struct FakeOp {
    dir: tempfile::TempDir,
}

impl FakeOp {
    fn new(values: &BTreeMap<&str, &str>) -> FakeOp {
        let dir = tempfile::tempdir().unwrap();
        let table: String = values.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect();
        std::fs::write(dir.path().join("values.tsv"), table).unwrap();
        let script = format!(
            r#"#!/bin/sh
echo "$*" >> '{log}'
[ "$1" = read ] && [ "$2" = --no-newline ] || {{ echo "fake op: unexpected arguments: $*" >&2; exit 9; }}
awk -F '\t' -v ref="$3" '$1 == ref {{ printf "%s", $2; found = 1 }} END {{ if (!found) {{ print "fake op: no item " ref > "/dev/stderr"; exit 1 }} }}' '{values}'
"#,
            log = dir.path().join("calls.log").display(),
            values = dir.path().join("values.tsv").display(),
        );
        let op = dir.path().join("op");
        std::fs::write(&op, script).unwrap();
        make_executable(&op);
        FakeOp { dir }
    }

    fn path_var(&self) -> String {
        format!(
            "{}:{}",
            self.dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn seal(root: &Path, op: &FakeOp, args: &[&str]) -> crate::support::Run {
    let cert = cert();
    let mut all = vec!["seal", "--cert", cert.as_str()];
    all.extend_from_slice(args);
    kiln_with(
        root,
        &all,
        &[
            ("PATH", op.path_var()),
            ("KILN_GITLAB_REGISTRY_USERNAME", USERNAME.to_owned()),
            ("KILN_VM_SSH_KEY_KNOWN_HOSTS", KNOWN_HOSTS.to_owned()),
        ],
        None,
    )
}

/// Opens one sealed value as the controller does.
fn unseal(key: &rsa::RsaPrivateKey, sealed: &str, label: &[u8]) -> Vec<u8> {
    use aes_gcm::aead::{Aead, KeyInit};
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .unwrap();
    let len = usize::from(u16::from_be_bytes([raw[0], raw[1]]));
    assert_eq!(len, key.size());
    let session = key
        .decrypt(
            rsa::Oaep::<sha2::Sha256>::new_with_label(label.to_vec()),
            &raw[2..2 + len],
        )
        .expect("the controller's key opens the session key with this scope's label");
    aes_gcm::Aes256Gcm::new_from_slice(&session)
        .unwrap()
        .decrypt(&Default::default(), &raw[2 + len..])
        .expect("the GCM tag verifies")
}

fn private_key() -> rsa::RsaPrivateKey {
    let text = std::fs::read_to_string(test_data("key2048.pem")).unwrap();
    rsa::RsaPrivateKey::from_pkcs1_der(pem::parse(text).unwrap().contents()).unwrap()
}

/// Every SealedSecret under `out/`, decrypted: (path, data key) → plaintext, plus the
/// scope each was sealed with.
fn decrypt_out(out: &Path) -> BTreeMap<(String, String), (Vec<u8>, String, String)> {
    let key = private_key();
    let mut found = BTreeMap::new();
    for (path, bytes) in snapshot(out) {
        if !path.contains("sealedsecret-") {
            continue;
        }
        let doc: serde_json::Value =
            serde_saphyr::from_str(std::str::from_utf8(&bytes).unwrap()).unwrap();
        assert_eq!(doc["kind"], "SealedSecret", "{path}");
        let meta = &doc["metadata"];
        let (name, ns) = (
            meta["name"].as_str().unwrap(),
            meta["namespace"].as_str().unwrap(),
        );
        let annotations = &meta["annotations"];
        let (scope, label) = if annotations["sealedsecrets.bitnami.com/cluster-wide"] == "true" {
            ("cluster-wide", String::new())
        } else if annotations["sealedsecrets.bitnami.com/namespace-wide"] == "true" {
            ("namespace-wide", ns.to_owned())
        } else {
            ("strict", format!("{ns}/{name}"))
        };
        assert_eq!(
            doc["spec"]["template"]["metadata"]["annotations"], meta["annotations"],
            "{path}: the template carries the scope annotations too"
        );
        for (k, v) in doc["spec"]["encryptedData"].as_object().unwrap() {
            let plain = unseal(&key, v.as_str().unwrap(), label.as_bytes());
            found.insert(
                (path.clone(), k.clone()),
                (
                    plain,
                    scope.to_owned(),
                    doc["spec"]["template"]["type"].as_str().unwrap().to_owned(),
                ),
            );
        }
    }
    found
}

/// Fails if any file under `out` contains `needle` (or its base64).
fn assert_absent(out: &Path, needle: &[u8], what: &str) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(needle);
    for (path, bytes) in snapshot(out) {
        for n in [needle, b64.as_bytes()] {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n),
                "{what} appears in out/{path}"
            );
        }
    }
}

#[test]
fn sealed_reference_secrets_decrypt_to_their_sources_and_no_plaintext_reaches_out() {
    let project = reference_project();
    let root = project.path();
    let _ = std::fs::remove_dir_all(root.join("environments/sealed"));
    let op = FakeOp::new(&op_values());
    let run = seal(root, &op, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        op.calls().len(),
        7,
        "dev: the database password and the deploy token; prod: those, the Harbor robot's username and password, and the VM deploy key"
    );
    let build = kiln(root, &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    assert!(
        !build.stderr.contains("secret-not-sealed"),
        "{}",
        build.stderr
    );
    let out = root.join("out");
    let opened = decrypt_out(&out);
    assert_eq!(opened.len(), 12, "{:?}", opened.keys());
    let values = op_values();
    for (env, item) in [("dev", "Dev"), ("prod", "Prod")] {
        let dir = format!("secrets/homelab/invoicetron-{env}");
        let get = |file: &str, key: &str| {
            opened[&(format!("{dir}/sealedsecret-{file}.yaml"), key.to_owned())].clone()
        };
        let password =
            values[format!("op://Kubernetes/Invoicetron {item}/postgres-password").as_str()];
        let (pw, scope, kind) = get("invoicetron-db", "postgres-password");
        assert_eq!(pw, password.as_bytes());
        assert_eq!((scope.as_str(), kind.as_str()), ("strict", "Opaque"));
        let (url, ..) = get("invoicetron-app", "database-url");
        assert_eq!(
            String::from_utf8(url).unwrap(),
            format!("postgresql://invoicetron:{password}@invoicetron-db:5432/invoicetron")
        );
        let (auth_secret, ..) = get("invoicetron-app", "better-auth-secret");
        assert_eq!(auth_secret.len(), 40);
        assert!(
            auth_secret
                .iter()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_absent(&out, &auth_secret, "a generated value");
        let (config, _, kind) = get("gitlab-registry", ".dockerconfigjson");
        assert_eq!(kind, "kubernetes.io/dockerconfigjson");
        let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
        let entry = &config["auths"]["registry.k8s.rommelporras.com"];
        let token = values["op://Kubernetes/Invoicetron Deploy Token/password"];
        assert_eq!(entry["username"], USERNAME);
        assert_eq!(entry["password"], token);
        assert_eq!(
            entry["auth"],
            base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{token}"))
        );
    }
    for (what, value) in values
        .iter()
        .map(|(k, v)| (*k, *v))
        .chain([("the username", USERNAME)])
    {
        assert_absent(&out, value.as_bytes(), what);
        assert_absent(&root.join("environments"), value.as_bytes(), what);
    }
    // Every namespace directory builds with kubectl kustomize (the validators run it
    // too); here it is enough that check is clean after the build.
    assert_eq!(kiln(root, &["check"]).code, 0);
}

#[test]
fn seal_seals_only_what_is_new_changed_or_rotated() {
    let project = reference_project();
    let root = project.path();
    let _ = std::fs::remove_dir_all(root.join("environments/sealed"));
    let op = FakeOp::new(&op_values());
    assert_eq!(seal(root, &op, &[]).code, 0);
    let sealed_dir = root.join("environments/sealed");
    let first = snapshot(&sealed_dir);
    assert_eq!(first.len(), 2);

    // Nothing changed: no source is asked, not a byte changes.
    let broken = FakeOp::new(&BTreeMap::new());
    let run = seal(root, &broken, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(broken.calls().is_empty(), "{:?}", broken.calls());
    assert!(run.stderr.contains("nothing to seal"), "{}", run.stderr);
    assert_eq!(snapshot(&sealed_dir), first);

    // Rotating the registry token re-seals exactly the registry secret.
    let run = seal(root, &op, &["--env", "prod", "--rotate", "gitlab-registry"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = snapshot(&sealed_dir);
    assert_eq!(after["dev.yaml"], first["dev.yaml"]);
    let changed = changed_values(&first["prod.yaml"], &after["prod.yaml"]);
    assert_eq!(
        changed,
        ["invoicetron-prod/gitlab-registry/.dockerconfigjson"]
    );

    // Rotating the database password (from 1Password) re-seals the URL made from it.
    let run = seal(root, &op, &["--env", "prod", "--rotate", "invoicetron-db"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rotated = snapshot(&sealed_dir);
    let changed = changed_values(&after["prod.yaml"], &rotated["prod.yaml"]);
    assert_eq!(
        changed,
        [
            "invoicetron-prod/invoicetron-app/database-url",
            "invoicetron-prod/invoicetron-db/postgres-password"
        ]
    );
    assert!(
        run.stderr.contains("(follows a value sealed anew)"),
        "{}",
        run.stderr
    );

    // A changed definition (a longer generated secret) re-seals that key only, and
    // warns that a generated value changed.
    let common = root.join("environments/common.yaml");
    let text = std::fs::read_to_string(&common).unwrap();
    std::fs::write(
        &common,
        text.replace(
            "better-auth-secret:\n        generate: {length: 40, alphabet: hex}",
            "better-auth-secret:\n        generate: {length: 64, alphabet: hex}",
        ),
    )
    .unwrap();
    let build = kiln(root, &["build"]);
    assert!(
        build
            .stderr
            .contains("warning[sealed-value-outdated]: the sealed value of")
            && build.stderr.contains("was made from an older definition"),
        "{}",
        build.stderr
    );
    let run = seal(root, &broken, &["--env", "dev"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("generated anew"), "{}", run.stderr);
    let last = snapshot(&sealed_dir);
    assert_eq!(
        changed_values(&rotated["dev.yaml"], &last["dev.yaml"]),
        ["invoicetron-dev/invoicetron-app/better-auth-secret"]
    );
}

/// `namespace/secret/key` of every sealed value that differs between two files.
fn changed_values(a: &[u8], b: &[u8]) -> Vec<String> {
    let flat = |bytes: &[u8]| -> BTreeMap<String, String> {
        let v: serde_json::Value =
            serde_saphyr::from_str(std::str::from_utf8(bytes).unwrap()).unwrap();
        let mut out = BTreeMap::new();
        for (_, c) in v["clusters"].as_object().unwrap() {
            for (ns, secrets) in c["namespaces"].as_object().unwrap() {
                for (s, keys) in secrets.as_object().unwrap() {
                    for (k, val) in keys.as_object().unwrap() {
                        out.insert(format!("{ns}/{s}/{k}"), val["value"].to_string());
                    }
                }
            }
        }
        out
    };
    let (a, b) = (flat(a), flat(b));
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn seal_refuses_bad_certificates_and_unusable_values_and_writes_nothing() {
    let project = reference_project();
    let root = project.path();
    let _ = std::fs::remove_dir_all(root.join("environments/sealed"));
    let op = FakeOp::new(&op_values());
    for (file, message) in [
        ("cert-expired.pem", "the certificate expired"),
        ("cert-ec.pem", "not RSA"),
        ("key2048.pem", "no CERTIFICATE block"),
        ("README.md", "not a PEM certificate"),
    ] {
        let path = test_data(file).display().to_string();
        let run = kiln_with(
            root,
            &["seal", "--cert", &path],
            &[("PATH", op.path_var())],
            None,
        );
        assert_eq!(run.code, 2, "{file}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{file}: {}", run.stderr);
        assert!(
            run.stderr.contains(&path),
            "{file}: names the file: {}",
            run.stderr
        );
        assert!(!root.join("environments/sealed").exists());
    }

    // An empty answer from 1Password (an expired session) is refused.
    let mut empty = op_values();
    empty.insert("op://Kubernetes/Invoicetron Deploy Token/password", "");
    let run = seal(root, &FakeOp::new(&empty), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("returned nothing"), "{}", run.stderr);
    assert!(
        run.stderr.contains("environments/common.yaml:"),
        "located: {}",
        run.stderr
    );
    assert!(!root.join("environments/sealed").exists());

    // A password with a `/` cannot go into the database URL.
    let mut slash = op_values();
    slash.insert(
        "op://Kubernetes/Invoicetron Prod/postgres-password",
        "abc/def@ghi",
    );
    let run = seal(root, &FakeOp::new(&slash), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("characters a URL cannot hold"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("abc/def"),
        "the value is never printed"
    );
    assert!(!root.join("environments/sealed").exists());

    // A hand-entered value comes from standard input when its variable is unset, and
    // none at all is an error naming the variable.
    let run = kiln_with(
        root,
        &["seal", "--cert", &cert(), "--env", "dev"],
        &[("PATH", op.path_var())],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("KILN_GITLAB_REGISTRY_USERNAME"),
        "{}",
        run.stderr
    );
    let run = kiln_with(
        root,
        &["seal", "--cert", &cert(), "--env", "dev"],
        &[("PATH", op.path_var())],
        Some("gitlab+deploy-token-7\n"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let build = kiln(root, &["build", "--env", "dev"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let opened = decrypt_out(&root.join("out"));
    let (config, ..) = &opened[&(
        "secrets/homelab/invoicetron-dev/sealedsecret-gitlab-registry.yaml".to_owned(),
        ".dockerconfigjson".to_owned(),
    )];
    let config: serde_json::Value = serde_json::from_slice(config).unwrap();
    assert_eq!(
        config["auths"]["registry.k8s.rommelporras.com"]["username"],
        "gitlab+deploy-token-7"
    );
}

/// The golden case `secrets-scopes` was sealed by `kiln seal` with the test certificate
/// and known values; its expected SealedSecrets open with the test key in each scope.
#[test]
fn golden_sealed_secrets_open_in_all_three_scopes() {
    let out = repo().join("tests/golden/secrets-scopes/expected/out");
    let opened = decrypt_out(&out);
    let scopes: std::collections::BTreeSet<&str> =
        opened.values().map(|(_, s, _)| s.as_str()).collect();
    assert_eq!(
        scopes.into_iter().collect::<Vec<_>>(),
        ["cluster-wide", "namespace-wide", "strict"]
    );
    let value = |ns: &str, file: &str, key: &str| {
        opened[&(
            format!("secrets/pi/{ns}/sealedsecret-{file}.yaml"),
            key.to_owned(),
        )]
            .0
            .clone()
    };
    for ns in ["ops", "storefront"] {
        assert_eq!(value(ns, "storefront-api", "token"), b"golden-token-123");
        assert_eq!(
            value(ns, "storefront-api", "url"),
            b"https://api:golden-token-123@api.shop.example.com/"
        );
        let config: serde_json::Value =
            serde_json::from_slice(&value(ns, "harbor-registry", ".dockerconfigjson")).unwrap();
        assert_eq!(
            config["auths"]["harbor.lan:8080"]["username"],
            "golden-robot"
        );
        assert_eq!(
            config["auths"]["harbor.lan:8080"]["password"],
            "golden-harbor-password"
        );
    }
    assert_eq!(
        value("ops", "vm-ssh-key", "ssh-privatekey"),
        b"golden-ssh-key"
    );
    assert!(!opened.contains_key(&(
        "secrets/pi/storefront/sealedsecret-vm-ssh-key.yaml".to_owned(),
        "ssh-privatekey".to_owned()
    )));
}

/// The repository's own `environments/sealed/` is sealed for the throwaway test
/// controller with placeholder values: every SealedSecret in the committed `out/`
/// opens with the test key, and none of the placeholders appears in clear.
#[test]
fn committed_reference_sealed_secrets_open_with_the_test_key() {
    let out = repo().join("out");
    let opened = decrypt_out(&out);
    assert_eq!(opened.len(), 12, "{:?}", opened.keys());
    for ((path, key), (plain, scope, _)) in &opened {
        assert_eq!(scope, "strict", "{path}");
        if key == "postgres-password" {
            assert!(plain.starts_with(b"placeholder-"), "{path}");
            assert_absent(&out, plain, "a placeholder password");
        }
    }
}

/// `out/secrets/seal.sh` does what `kiln seal` does, with kubeseal: run it against a
/// fake kubeseal (which records what it is asked to seal) and check that `kiln build`
/// embeds the file it wrote, with current fingerprints, and that the values are
/// composed as kiln composes them.
#[test]
fn seal_sh_writes_the_file_kiln_build_embeds() {
    let project = reference_project();
    let root = project.path();
    let _ = std::fs::remove_dir_all(root.join("environments/sealed"));
    assert_eq!(kiln(root, &["build"]).code, 0);
    let op = FakeOp::new(&op_values());
    let log = op.dir.path().join("kubeseal.log");
    let kubeseal = op.dir.path().join("kubeseal");
    std::fs::write(
        &kubeseal,
        format!(
            // A value in kubeseal's layout (2-byte length, a 2048-bit RSA block, then at
            // least a GCM tag) whose last bytes say what was sealed.
            "#!/bin/sh\nv=$(cat; printf x)\nv=${{v%x}}\nprintf '%s\\t%s\\n' \"$*\" \"$v\" >> '{}'\n{{ printf '\\001\\000'; head -c 272 /dev/zero; printf 'FAKESEALED%s' \"$(printf '%s' \"$*|$v\" | sha256sum | cut -c1-16)\"; }} | base64 -w0\n",
            log.display()
        ),
    )
    .unwrap();
    make_executable(&kubeseal);
    let out = std::process::Command::new("bash")
        .arg(root.join("out/secrets/seal.sh"))
        .arg("prod")
        .arg(cert())
        .env("PATH", op.path_var())
        .env("KILN_GITLAB_REGISTRY_USERNAME", USERNAME)
        .env("KILN_VM_SSH_KEY_KNOWN_HOSTS", KNOWN_HOSTS)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let build = kiln(root, &["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    assert!(
        !build.stderr.contains("older definition"),
        "fingerprints agree: {}",
        build.stderr
    );
    assert!(
        !build.stderr.contains("invoicetron-prod` on cluster"),
        "{}",
        build.stderr
    );
    let sealed = std::fs::read_to_string(
        root.join("out/secrets/homelab/invoicetron-prod/sealedsecret-invoicetron-app.yaml"),
    )
    .unwrap();
    // Each value sits under its checkov waiver comment: `key:`, `# checkov:skip=...`, value.
    let value = sealed
        .lines()
        .skip_while(|l| l.trim() != "database-url:")
        .skip(1)
        .find(|l| !l.trim_start().starts_with('#'))
        .unwrap_or_default();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .unwrap_or_default();
    assert!(
        raw.len() == 2 + 272 + 26
            && raw.starts_with(b"\x01\x00")
            && raw[274..].starts_with(b"FAKESEALED"),
        "{sealed}"
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    let sealed_value = |name: &str, needle: &str| -> String {
        calls
            .lines()
            .find(|l| l.contains(&format!("--name {name}")) && l.contains(needle))
            .and_then(|l| l.split_once('\t'))
            .map(|(_, v)| v.to_owned())
            .unwrap_or_else(|| panic!("{name}/{needle} not sealed: {calls}"))
    };
    let password = op_values()["op://Kubernetes/Invoicetron Prod/postgres-password"];
    assert!(calls.contains("--scope strict --from-file=/dev/stdin --namespace invoicetron-prod --name invoicetron-app"), "{calls}");
    assert_eq!(
        sealed_value("invoicetron-app", "postgresql://"),
        format!("postgresql://invoicetron:{password}@invoicetron-db:5432/invoicetron")
    );
    assert_eq!(sealed_value("invoicetron-db", password), password);
    let config = sealed_value("gitlab-registry", "auths");
    let token = op_values()["op://Kubernetes/Invoicetron Deploy Token/password"];
    let expected = format!(
        "{{\"auths\":{{\"registry.k8s.rommelporras.com\":{{\"username\":\"{USERNAME}\",\"password\":\"{token}\",\"auth\":\"{}\"}}}}}}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{token}"))
    );
    assert_eq!(
        config, expected,
        "the same .dockerconfigjson as `kiln seal` writes"
    );
}

/// Sealed values the model no longer places are reported where they are in the sealed
/// file (found by fuzzing: the warning had no location).
#[test]
fn obsolete_sealed_values_are_located_in_the_sealed_file() {
    let project = reference_project();
    let root = project.path();
    let sealed = root.join("environments/sealed/dev.yaml");
    let text = std::fs::read_to_string(&sealed).unwrap();
    assert!(text.contains("\n      invoicetron-dev:\n"));
    std::fs::write(
        &sealed,
        text.replace("\n      invoicetron-dev:\n", "\n      old-ns:\n"),
    )
    .unwrap();
    let run = kiln(root, &["build", "--format", "json"]);
    let obsolete: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|d: &serde_json::Value| {
            d["message"]
                .as_str()
                .is_some_and(|m| m.contains("no longer places"))
        })
        .collect();
    assert!(!obsolete.is_empty(), "{}{}", run.stdout, run.stderr);
    for d in obsolete {
        assert_eq!(d["file"], "environments/sealed/dev.yaml", "{d}");
        assert_eq!(
            (&d["code"], &d["name"], &d["severity"]),
            (
                &serde_json::json!("W0207"),
                &serde_json::json!("unused-sealed-value"),
                &serde_json::json!("warning")
            ),
            "a warning has a W code: {d}"
        );
        assert!(d["line"].as_u64().unwrap() > 1, "{d}");
    }
}

/// A secret only a stack reads (through its env file) is used: no `unused-secret`
/// warning, with or without `usedBy`, which may name the stack; a name that is
/// neither an app nor a stack is still an error.
#[test]
fn a_secret_only_a_stack_reads_is_used_and_used_by_may_name_the_stack() {
    let project = reference_project();
    let common = project.path().join("environments/common.yaml");
    let text = std::fs::read_to_string(&common).unwrap();
    let with_secret = |used_by: &str| {
        text.replace(
            "      SMTP_PASS: {secret: supabase, key: smtp-password}\n",
            "      SMTP_PASS: {secret: supabase, key: smtp-password}\n      EXTRA_TOKEN: {secret: stack-only, key: token}\n",
        )
        .replace(
            "\nsecrets:\n",
            &format!("\nsecrets:\n  stack-only:\n{used_by}    keys:\n      token: {{generate: {{length: 20, alphabet: hex}}}}\n"),
        )
    };
    for used_by in ["", "    usedBy: [supabase]\n"] {
        let model = with_secret(used_by);
        assert!(model.contains("EXTRA_TOKEN") && model.contains("stack-only:"));
        std::fs::write(&common, &model).unwrap();
        let run = kiln(project.path(), &["build"]);
        assert!(run.code <= 1, "{}", run.stderr);
        assert!(
            !run.stderr.contains("secret `stack-only` is used by no app"),
            "{}",
            run.stderr
        );
    }
    std::fs::write(&common, with_secret("    usedBy: [supabsae]\n")).unwrap();
    let run = kiln(project.path(), &["build"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no app or stack is named `supabsae`")
            && run.stderr.contains("supabase"),
        "{}",
        run.stderr
    );
}
