use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, locate};

/// A generated file that names a file or script kiln does not generate.
pub(crate) struct DanglingReference;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K014",
    name: "dangling-reference",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "A generated file names a path under `out/` that the build does not write.",
    fix: "fix the template override (or the target) that names the path, so it names a file the build writes",
    doc: r#"## What it does
Reads every file kiln generates (scripts, runbooks, Job commands, Flux paths) for paths
under `out/` and checks that each names a file or folder the same build writes.

## Why is this bad?
Documentation and scripts that point at things that do not exist send people (and Jobs)
down dead ends at the worst moment: seed 000's `FLUX_SETUP.md` told readers to run a
`flux-bootstrap.sh` that was never committed.

## Example
A deploy Job running `./out/hosts/vm/deploy.sh backend` when no compose project on host
`vm` is generated. kiln generates both sides from one model; this rule catches a template
override or a target that drifts.

## How to fix
The generated text comes from a template: if the project overrides it under
`templates/`, correct the path there (or delete the override to use kiln's default).
Otherwise the target is wrong: report it with the model.
"#,
};

impl Rule for DanglingReference {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        let tree = cx.output;
        for (path, file) in tree.iter() {
            let Ok(text) = std::str::from_utf8(&file.bytes) else {
                continue;
            };
            for reference in references(text) {
                let target = reference.trim_end_matches('/');
                let exists = tree.get(target).is_some() || tree.has_dir(target);
                if exists || target.contains("<") {
                    continue;
                }
                let (env, subject, span) = locate(cx, path);
                let Some(env) = env else { continue };
                let d = sink
                    .diagnostic(format!(
                        "out/{path} refers to out/{target}, which kiln does not generate"
                    ))
                    .at(span);
                sink.report(env, subject, d);
            }
        }
    }
}

/// Paths under `out/` mentioned in a text (`out/...` or `./out/...`), without the prefix.
fn references(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find("out/") {
        let start = from + i;
        from = start + 4;
        let before = start.checked_sub(1).map(|j| bytes[j]);
        if !matches!(
            before,
            None | Some(b' ' | b'/' | b'\'' | b'"' | b'`' | b'(' | b'\n' | b'=')
        ) {
            continue;
        }
        // `./out/` is fine; `foo/out/` is some other folder.
        if before == Some(b'/') && !(start >= 2 && &text[start - 2..start] == "./") {
            continue;
        }
        let end = text[from..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || "._/-<>".contains(c)))
            .map_or(text.len(), |j| from + j);
        let path = text[from..end].trim_end_matches('.');
        if !path.is_empty() {
            out.push(path);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::references;

    #[test]
    fn finds_paths_under_out() {
        let text = "run ./out/hosts/vm/deploy.sh app && see out/docs/prod.md. Not ./layout/x or about/out/y";
        assert_eq!(references(text), ["hosts/vm/deploy.sh", "docs/prod.md"]);
    }
}
