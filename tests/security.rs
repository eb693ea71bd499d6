//! Security: a real secret scanner (detect-secrets, installed with the validators) finds
//! no secret material in `out/` or in the repository, and checkov's scan of `out/`
//! (run by `tests/validators.rs` with every failed check counted) finds nothing the
//! model does not waive with a reason.
//!
//! The scanner runs with all its plugins. Three kinds of lines are excluded, each
//! because it is not a secret by construction:
//! - sealed values (`AQ…`/`Ag…` base64 of kubeseal's format, alone on a line or after
//!   `value:`), which only the cluster's controller can decrypt;
//! - sha256 fingerprints and lock hashes (`kiln.lock`, `certificate: sha256:`,
//!   `source:` fingerprints of a key's definition, never of its value);
//! - lines that *name* a secret (`secretName: x`, `pullSecret: x`, `{secret: x, key: y}`,
//!   a key name ending in `:`, the CI variable a password comes from), which the
//!   keyword plugin flags by their words.
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
