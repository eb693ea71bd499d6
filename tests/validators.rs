//! The real tools accept what kiln writes: `tools/validators/validate-out.sh` runs
//! kubectl kustomize, kubernetes-validate (strict), the CRD schemas, yamllint and the
//! rest over the committed `out/` and every golden `expected/out/`.
//!
//! The validators are installed by `tools/validators/setup-validators.sh` (CI runs it
//! in `.ci/run`). Missing validators fail the test; set `KILN_SKIP_VALIDATORS=1` to
//! skip it explicitly on a machine without them.

use crate::support::repo;
use std::path::Path;
use std::process::Command;

/// Runs every validator over `dir`; with `security`, checkov too, and any failed
/// check fails (skips come only from the model, as annotations in the output).
fn validate(dir: &Path, security: bool) -> Result<(), String> {
    let script = repo().join("tools/validators/validate-out.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(dir)
        .env("VALIDATE_STRICT_SKIP", "1")
        .env("CHECKOV", if security { "1" } else { "0" })
        .env("CHECKOV_GATE", "1")
        .output()
        .expect("bash runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}:\n{text}", dir.display()))
    }
}

fn skipped() -> bool {
    std::env::var_os("KILN_SKIP_VALIDATORS").is_some_and(|v| v == "1")
}

#[test]
fn committed_out_passes_every_validator() {
    if skipped() {
        return;
    }
    validate(&repo().join("out"), true).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn golden_outputs_pass_every_validator() {
    if skipped() {
        return;
    }
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(repo().join("tests/golden"))
        .unwrap()
        .flatten()
    {
        let out = entry.path().join("expected/out");
        if out.is_dir()
            && let Err(e) = validate(&out, false)
        {
            failures.push(e);
        }
    }
    for example in crate::support::examples() {
        if let Err(e) = validate(&example.join("out"), false) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
