//! `extends` and `abstract`: each environment's chain of files, base first; a model
//! with no environment, and bases no environment extends.

use super::decode::File;
use crate::diagnostic::{Diagnostic, Diagnostics, FileId, Span, checks};
use crate::model::Name;
use std::collections::{BTreeMap, BTreeSet};

/// One environment to resolve: its name, the files it is built from (base first), the
/// file named after it, and their paths relative to the project root.
pub(super) struct Pending<'a> {
    pub(super) name: Name,
    pub(super) chain: Vec<&'a File>,
    pub(super) file: FileId,
    pub(super) sources: Vec<String>,
}

/// The environments (the files that are not `abstract`), each with its chain, and the
/// stems of every file some chain uses. An environment whose chain is broken or whose
/// file name is not a valid name is reported and left out.
pub(super) fn environments<'a>(
    files: &'a [File],
    dir: &str,
    diags: &mut Diagnostics,
) -> (Vec<Pending<'a>>, BTreeSet<String>) {
    let environments: Vec<&File> = files.iter().filter(|f| !f.is_abstract).collect();
    if environments.is_empty() && !diags.has_errors() {
        // Point at the first `abstract: true` when there is one: that is what makes
        // this file a base rather than an environment.
        let at = files
            .iter()
            .find_map(|f| f.node.get("abstract").map(|n| n.span));
        let message = if at.is_some() {
            "no environment in environments/: every file is `abstract: true`".to_owned()
        } else {
            format!("no environment in {dir}")
        };
        diags.push(
            Diagnostic::error(checks::NO_ENVIRONMENT, message)
                .at(at)
                .help("add a file such as environments/dev.yaml (files with `abstract: true` are only shared bases)"),
        );
    }
    let by_stem: BTreeMap<&str, &File> = files.iter().map(|f| (f.stem.as_str(), f)).collect();
    let mut extended = BTreeSet::new();
    let mut pending = Vec::new();
    for file in &environments {
        let Some(chain) = chain(file, &by_stem, diags) else {
            continue;
        };
        for f in &chain {
            extended.insert(f.stem.clone());
        }
        let name = match Name::parse(&file.stem) {
            Ok(name) => name,
            Err(why) => {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_NAME,
                        format!("environment name from file name: {why}"),
                    )
                    .at(Some(Span::new(file.id, 0, 0)))
                    .help("rename the file; the environment is named after it"),
                );
                continue;
            }
        };
        let sources: Vec<String> = chain.iter().map(|f| f.rel.clone()).collect();
        pending.push(Pending {
            name,
            chain,
            file: file.id,
            sources,
        });
    }
    (pending, extended)
}

/// A warning for every abstract file no environment extends (`extended`: the stems
/// the chains use).
pub(super) fn unused_abstract(
    files: &[File],
    extended: &BTreeSet<String>,
    diags: &mut Diagnostics,
) {
    for f in files
        .iter()
        .filter(|f| f.is_abstract && !extended.contains(&f.stem))
    {
        diags.push(
            Diagnostic::warning(
                checks::UNUSED_ABSTRACT,
                format!("`{}` is abstract but no environment extends it", f.stem),
            )
            .at(f.node.get("abstract").map(|n| n.span))
            .help(format!(
                "add `extends: {}` to an environment, or delete the file",
                f.stem
            )),
        );
    }
}

/// The files an environment is built from, base first.
fn chain<'a>(
    file: &'a File,
    by_stem: &BTreeMap<&str, &'a File>,
    diags: &mut Diagnostics,
) -> Option<Vec<&'a File>> {
    let mut chain = vec![file];
    let mut current = file;
    while let Some((parent, span)) = &current.extends {
        let Some(next) = by_stem.get(parent.as_str()) else {
            let known: Vec<_> = by_stem
                .keys()
                .filter(|s| **s != file.stem)
                .copied()
                .collect();
            diags.push(
                Diagnostic::error(
                    checks::EXTENDS,
                    format!("`extends: {parent}` names no file in environments/"),
                )
                .at(Some(*span))
                .did_you_mean(parent, known.iter().copied())
                .help(if known.is_empty() {
                    format!("create environments/{parent}.yaml")
                } else {
                    format!("files you can extend: {}", known.join(", "))
                }),
            );
            return None;
        };
        if chain.iter().any(|f| f.stem == next.stem) {
            let cycle: Vec<_> = chain
                .iter()
                .map(|f| f.stem.as_str())
                .chain([parent.as_str()])
                .collect();
            diags.push(
                Diagnostic::error(
                    checks::EXTENDS,
                    format!("`extends` forms a cycle: {}", cycle.join(" → ")),
                )
                .at(Some(*span))
                .help("one of these files must not extend another"),
            );
            return None;
        }
        chain.push(next);
        current = next;
    }
    chain.reverse();
    Some(chain)
}
