//! Test helpers: run the kiln binary, copy and snapshot directory trees, compare
//! trees with a unified diff, and rewrite expectations under `UPDATE_GOLDEN=1`.

#![allow(dead_code, unreachable_pub)]

pub mod restore;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether expectations should be rewritten instead of compared.
/// The example projects under `examples/` (each with `environments/` and its
/// committed `out/`), sorted.
pub fn examples() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.join("environments").is_dir())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

pub fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// The output of one kiln run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `kiln ARGS` with `--root root`, no colour.
pub fn kiln(root: &Path, args: &[&str]) -> Run {
    kiln_with(root, args, &[], None)
}

/// Runs `kiln ARGS` with `--root root`, no colour, extra environment variables and
/// the given standard input (none: an empty one).
pub fn kiln_with(root: &Path, args: &[&str], vars: &[(&str, String)], stdin: Option<&str>) -> Run {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
    cmd.args(args)
        .arg("--root")
        .arg(root)
        .arg("--color")
        .arg("never")
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("kiln runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().expect("kiln runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every file under `dir` (relative path → bytes); symlinks are not followed.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return out;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let p = entry.path();
            let t = entry.file_type().unwrap();
            if t.is_dir() {
                stack.push(p);
            } else if !t.is_file() {
                // A link or a FIFO is recorded, never read (which would follow or hang).
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, b"<not a regular file>".to_vec());
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in snapshot(from) {
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, bytes).unwrap();
        // kiln's scripts (the only files it writes executable) keep their mode, so a
        // committed example's deploy.sh runs as a user's would.
        if rel.ends_with(".sh") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
}

/// Compares two snapshots; returns a readable report of every difference.
pub fn compare_trees(
    expected: &BTreeMap<String, Vec<u8>>,
    actual: &BTreeMap<String, Vec<u8>>,
) -> Option<String> {
    let mut report = String::new();
    for (path, want) in expected {
        match actual.get(path) {
            None => report.push_str(&format!("missing: {path}\n")),
            Some(got) if got != want => {
                let a = String::from_utf8_lossy(want);
                let b = String::from_utf8_lossy(got);
                report.push_str(&format!(
                    "changed: {path}\n{}",
                    similar::TextDiff::from_lines(a.as_ref(), b.as_ref())
                        .unified_diff()
                        .context_radius(3)
                        .header(&format!("expected/{path}"), &format!("actual/{path}"))
                ));
            }
            Some(_) => {}
        }
    }
    for path in actual.keys().filter(|p| !expected.contains_key(*p)) {
        report.push_str(&format!("unexpected: {path}\n"));
    }
    (!report.is_empty()).then_some(report)
}

/// Replaces the directory `dir` with exactly the files of `tree`.
pub fn rewrite_tree(dir: &Path, tree: &BTreeMap<String, Vec<u8>>) {
    let _ = std::fs::remove_dir_all(dir);
    for (rel, bytes) in tree {
        let dest = dir.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, bytes).unwrap();
        // kiln's scripts (the only files it writes executable) keep their mode, so a
        // committed example's deploy.sh runs as a user's would.
        if rel.ends_with(".sh") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
}

/// Writes a model file under `root/environments/`.
pub fn write_env(root: &Path, name: &str, text: &str) {
    let dir = root.join("environments");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

/// A temporary project holding a copy of the repository's `environments/`.
pub fn reference_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &repo().join("environments"),
        &dir.path().join("environments"),
    );
    dir
}
