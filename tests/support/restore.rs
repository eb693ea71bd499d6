//! What the restore tests (`pg_restore`, `mysql_restore`, `redis_restore`) share: whether
//! a missing server is a failure, a command's output in a message, the dumps a folder
//! holds, a dump cut short, and a generated command with a container path moved.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Whether a missing server fails the test (`KILN_REQUIRE_VALIDATORS=1`, as
/// `tools/test.sh` and CI set it) instead of skipping it.
pub fn required() -> bool {
    std::env::var_os("KILN_REQUIRE_VALIDATORS").is_some_and(|v| v == "1")
}

/// A command's status and output, for a failure message.
pub fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `out`, asserting that `what` succeeded.
pub fn ok(out: Output, what: &str) -> Output {
    assert!(out.status.success(), "{what} failed: {}", text(&out));
    out
}

/// The files in `dir` whose names end with `ext`.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    v.sort();
    v
}

/// The first half of `dump`, written beside it under `name`.
pub fn truncated(dump: &Path, name: &str) -> PathBuf {
    let bytes = fs::read(dump).unwrap();
    let broken = dump.with_file_name(name);
    fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    broken
}

/// `text` with `from` replaced by `to`, which it must contain.
pub fn moved(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "no longer contains {from:?}:\n{text}");
    text.replace(from, to)
}
