//! kiln's modules form a one-way stack (ARCHITECTURE.md, "Layers"): a module uses only
//! modules below it. Read from the `crate::` paths in `src/` (code only: comments and a
//! file's trailing `mod tests` are skipped, as are test-only files), so a new upward
//! import fails here with the line that makes it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The stack, bottom first. A module may use any module of a lower layer, never one of
/// its own layer (other than itself) or above. Keep in step with ARCHITECTURE.md.
const LAYERS: &[&[&str]] = &[
    &["timings", "pointer", "suggest", "crd"],
    &["boundary"],
    &["error"],
    &["diagnostic"],
    &["yaml"],
    &["git"],
    &["model"],
    &["layout"],
    &["secrets"],
    &["validate"],
    &["render"],
    &["output"],
    &["inspect"],
    &["catalogue"],
    &["diff"],
    &["pipeline"],
    &["cli"],
    &["commands"],
];

fn layer_of(module: &str) -> Option<usize> {
    // `crate::Error` and `crate::Result` are `error`'s, re-exported at the root.
    let module = match module {
        "Error" | "Result" => "error",
        other => other,
    };
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Files declared `#[cfg(test)] mod name;`: test helpers, not part of the stack.
fn test_only_files(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut test_only = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for pair in lines.windows(2) {
            if pair[0] == "#[cfg(test)]"
                && let Some(name) = pair[1]
                    .trim_start_matches("pub ")
                    .strip_prefix("mod ")
                    .and_then(|r| r.strip_suffix(';'))
            {
                let dir = if file.ends_with("mod.rs") || file.ends_with("lib.rs") {
                    file.parent().unwrap().to_path_buf()
                } else {
                    file.with_extension("")
                };
                test_only.push(dir.join(format!("{name}.rs")));
                test_only.push(dir.join(name).join("mod.rs"));
            }
        }
    }
    test_only
}

/// The code of a file: without comments and without its trailing `mod tests`.
fn code(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let all: Vec<&str> = text.lines().collect();
    for (i, line) in all.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed == "#[cfg(test)]"
            && all
                .get(i + 1)
                .is_some_and(|next| next.trim().starts_with("mod tests"))
        {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let code = match line.find("//") {
            // A `//` inside a string (a URL) is kept: only a line comment is cut.
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        };
        lines.push((i + 1, code.to_owned()));
    }
    lines
}

/// The top-level modules a line names through `crate::` (`crate::a::b`, `crate::{a, b::c}`).
fn modules_used(line: &str) -> Vec<String> {
    let mut used = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The group's items at depth 0, each named by its first identifier.
            let mut depth = 0usize;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        used.extend(first_ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            used.extend(first_ident(&item));
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                used.push(name);
            }
        }
    }
    used
}

fn first_ident(item: &str) -> Option<String> {
    let name: String = item
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

#[test]
fn no_module_uses_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let test_only = test_only_files(&files);
    let mut upward = Vec::new();
    let mut unplaced = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        let module = first.trim_end_matches(".rs");
        if matches!(module, "lib" | "main") || test_only.contains(file) {
            continue;
        }
        let Some(own) = layer_of(module) else {
            unplaced.insert(module.to_owned(), rel.display().to_string());
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (line_no, line) in code(&text) {
            for used in modules_used(&line) {
                if used == module {
                    continue;
                }
                match layer_of(&used) {
                    Some(layer) if layer < own => {}
                    Some(_) => upward.push(format!(
                        "src/{}:{line_no}: `{module}` uses `{used}`, which is not below it: {}",
                        rel.display(),
                        line.trim()
                    )),
                    None => {
                        unplaced.insert(used, format!("src/{}:{line_no}", rel.display()));
                    }
                }
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "modules not in LAYERS (add them to tests/layers.rs and ARCHITECTURE.md): {unplaced:?}"
    );
    assert!(
        upward.is_empty(),
        "{} upward uses (move the item down, or the caller up):\n{}",
        upward.len(),
        upward.join("\n")
    );
}

#[test]
fn the_parser_reads_every_form_of_crate_path() {
    assert_eq!(modules_used("use crate::model::load;"), ["model"]);
    assert_eq!(
        modules_used("use crate::{model::{A, B}, render, diff::x};"),
        ["model", "render", "diff"]
    );
    assert_eq!(
        modules_used("let x = crate::render::yaml::to_string(&crate::model::X);"),
        ["render", "model"]
    );
    assert_eq!(
        code(
            "use a;\n// crate::render\nlet u = \"http://x\"; // crate::diff\n#[cfg(test)]\nmod tests {\n use crate::commands;\n}\n"
        ),
        [
            (1, "use a;".to_owned()),
            (3, "let u = \"http://x\"; // crate::diff".to_owned())
        ]
    );
}

#[test]
fn the_layers_are_written_down_in_architecture_md() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .unwrap();
    let section = doc
        .split("## Layers")
        .nth(1)
        .expect("ARCHITECTURE.md has a `## Layers` section");
    let mut last = 0;
    for layer in LAYERS {
        for module in *layer {
            let at = section
                .find(&format!("`{module}`"))
                .unwrap_or_else(|| panic!("`{module}` is missing from ARCHITECTURE.md's Layers"));
            assert!(
                at >= last,
                "`{module}` is out of order in ARCHITECTURE.md's Layers"
            );
            last = at;
        }
    }
}

/// Literals that start like an output path but are not one: (file, literal, why).
const NOT_OUTPUT_PATHS: &[(&str, &str, &str)] = &[(
    "render/pipelines/plan.rs",
    "secrets/{id}",
    "a JSON pointer below an app's `build`",
)];

/// The string literals of a line of code that start with `prefix` (its text up to the
/// closing quote).
fn literals_starting<'l>(line: &'l str, prefix: &str) -> Vec<&'l str> {
    let quoted = format!("\"{prefix}");
    line.match_indices(&quoted)
        .map(|(at, _)| {
            let rest = &line[at + 1..];
            &rest[..rest.find('"').unwrap_or(rest.len())]
        })
        .collect()
}

/// Every path under `out/` is built by `src/layout.rs` (ARCHITECTURE.md, "Layers"):
/// no other code spells a literal that starts with a target's folder
/// (`"kubernetes/…"`, `format!("flux/{…}")`) or puts `out/` into a repository path,
/// other than the names of built-in templates (files under `templates/`).
#[test]
fn only_the_layout_spells_output_paths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let test_only = test_only_files(&files);
    let targets: Vec<&str> = kiln::render::TARGETS.iter().map(|t| t.id()).collect();
    assert!(targets.len() >= 6, "{targets:?}");
    let mut found = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap().display().to_string();
        if rel == "layout.rs" || test_only.contains(file) {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for (line_no, line) in code(&text) {
            let mut literals = Vec::new();
            for target in &targets {
                literals.extend(literals_starting(&line, &format!("{target}/")));
            }
            literals.extend(literals_starting(&line, "./out/"));
            literals.extend(line.contains("}/out/").then_some("…/out/…"));
            for literal in literals {
                let template = root.join("templates").join(literal).is_file();
                let allowed = NOT_OUTPUT_PATHS
                    .iter()
                    .any(|(f, l, _)| *f == rel && *l == literal);
                if !template && !allowed {
                    found.push(format!("src/{rel}:{line_no}: `{literal}`"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "output paths spelled outside src/layout.rs (build them with `kiln::layout`):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_output_path_scan_sees_paths_and_skips_templates() {
    assert_eq!(
        literals_starting(
            r#"out.add(format!("kubernetes/apps/{name}"), x); t("kubernetes")"#,
            "kubernetes/"
        ),
        ["kubernetes/apps/{name}"]
    );
    assert!(literals_starting(r#"let a = "out/kubernetes/x";"#, "kubernetes/").is_empty());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(root.join("templates").join("hosts/Caddyfile").is_file());
}
