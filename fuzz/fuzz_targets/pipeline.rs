//! Fuzz target: kiln's whole pipeline on arbitrary bytes.
//!
//! The input is one or more files of `environments/`, split at marker lines
//! `#%% NAME` (a YAML comment, so a seed reads as the files it holds): the text before
//! the first marker is `dev.yaml`, each marker starts `NAME.yaml` (`common`, `prod`,
//! `sealed/dev`, `state/image-tags`: lowercase letters, digits, `-`, `_` and one
//! optional `sealed/` or `state/` folder), or `out/kiln.lock` / `out/.kiln.lock.pending`
//! (the lock and pending list of the previous build). Bytes need not be UTF-8.
//!
//! Each run writes the files into a scratch project and calls `kiln::pipeline::compile`
//! (load → validate → render → lint, as `kiln build` does), then renders every
//! diagnostic in both formats. Besides "no panic, no hang, no crash" it asserts what
//! kiln promises about bad input: every diagnostic is located, and every generated path
//! stays inside `out/`. When the input holds a lock, the output stage then compares
//! and writes `out/` (as `kiln check` and `kiln build --force` do), and a canary file
//! beside the project, which a lock line may name, must survive.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

const MARKER: &[u8] = b"#%% ";
const MAX_FILES: usize = 8;

fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a scratch directory"))
        .path()
}

/// Splits the input into (path relative to the project root, bytes).
fn files(data: &[u8]) -> Vec<(PathBuf, &[u8])> {
    let mut out: Vec<(PathBuf, &[u8])> = Vec::new();
    let mut name = PathBuf::from("environments/dev.yaml");
    let mut start = 0;
    let mut i = 0;
    while i <= data.len() {
        let at_line_start = i == 0 || data[i - 1] == b'\n';
        if i == data.len() || (at_line_start && data[i..].starts_with(MARKER)) {
            if i > start || i == data.len() {
                out.push((name.clone(), &data[start..i]));
            }
            if i == data.len() || out.len() == MAX_FILES {
                break;
            }
            let line_end = data[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(data.len(), |p| i + p);
            name = file_name(&data[i + MARKER.len()..line_end], out.len());
            start = (line_end + 1).min(data.len());
            i = start;
            continue;
        }
        i += 1;
    }
    out
}

/// A safe file name from the marker's text (the fuzzer picks the text).
fn file_name(raw: &[u8], n: usize) -> PathBuf {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim();
    if matches!(text, "out/kiln.lock" | "out/.kiln.lock.pending") {
        return PathBuf::from(text);
    }
    let (dir, stem) = match text.split_once('/') {
        Some((d @ ("sealed" | "state"), s)) => (Some(d), s),
        _ => (None, text),
    };
    let ok = !stem.is_empty()
        && stem.len() <= 24
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    let stem = if ok { stem.to_owned() } else { format!("f{n}") };
    let file = format!("{stem}.yaml");
    let envs = Path::new("environments");
    dir.map_or_else(|| envs.join(&file), |d| envs.join(d).join(&file))
}

fuzz_target!(|data: &[u8]| {
    let scratch = scratch();
    let root = &scratch.join("project");
    let canary = scratch.join("victim.txt");
    std::fs::write(&canary, "canary\n").unwrap();
    let envs = root.join("environments");
    let out = root.join("out");
    let _ = std::fs::remove_dir_all(&envs);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(envs.join("sealed")).unwrap();
    std::fs::create_dir_all(envs.join("state")).unwrap();
    let mut model_files = 0;
    let mut lock = false;
    for (path, bytes) in files(data) {
        model_files += usize::from(path.parent() == Some(Path::new("environments")));
        lock |= path.starts_with("out");
        std::fs::create_dir_all(root.join(&path).parent().unwrap()).unwrap();
        std::fs::write(root.join(path), bytes).unwrap();
    }

    let compiled = kiln::pipeline::compile(
        &kiln::model::Files::read(root),
        kiln::model::State::default(),
    );
    let sources = &compiled.project.sources;
    for d in &compiled.diagnostics {
        // With no model file at all there is nothing to point at (`environments/`
        // holds only sealed values or recorded tags).
        if model_files == 0 && d.name == "no-environment" {
            continue;
        }
        assert!(
            d.span.is_some(),
            "unlocated diagnostic: {} {}",
            d.name,
            d.message
        );
    }
    use kiln::diagnostic::render::{Format, all};
    let _ = all(&compiled.diagnostics, sources, Format::Human, false);
    let _ = all(&compiled.diagnostics, sources, Format::Json, false);

    for (path, _) in compiled.tree.iter() {
        let p = Path::new(path);
        assert!(
            p.components().all(|c| matches!(c, Component::Normal(_))),
            "a generated path leaves out/: {path}"
        );
    }

    if lock && !compiled.has_errors() {
        let scope = kiln::output::Scope::default();
        let _ = kiln::output::check(&out, &compiled.tree, &scope);
        let options = kiln::output::WriteOptions {
            force: true,
            ..Default::default()
        };
        let _ = kiln::output::write_with(&out, &compiled.tree, &options);
        assert!(canary.exists(), "a lock line made the build delete a file outside out/");
        let names: Vec<_> = std::fs::read_dir(scratch)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "the output stage wrote beside the project: {names:?}");
    }
});
