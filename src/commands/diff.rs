//! `kiln diff ENV_A ENV_B` and `kiln diff --against REF [ENV...]`: render in memory,
//! ask every target for each environment's resources, compare, print.

use super::{Outcome, Printer};
use crate::cli::{DiffArgs, GlobalArgs};
use crate::diagnostic::render::Format;
use crate::diff::report::{self, Kind, Presence, Report, Section};
use crate::diff::{self, Normalizer, Options, ResourceId};
use crate::git::Revision;
use crate::model::{Environment, Files};
use crate::output::state;
use crate::pipeline::{Compiled, compile};
use crate::render::{self, Resource};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn run(g: &GlobalArgs, args: &DiffArgs, out: &Printer) -> crate::Result<Outcome> {
    let report = match &args.against {
        None => {
            let [a, b] = args.environments.as_slice() else {
                return Err(crate::Error::Usage(format!(
                    "kiln diff compares two environments (`kiln diff dev prod`), or the working tree with a revision (`kiln diff --against main`); got {} environment(s)",
                    args.environments.len()
                )));
            };
            if !g.envs.is_empty() {
                return Err(crate::Error::Usage(
                    "--env does not apply to `kiln diff A B`: the two environments are the arguments".to_owned(),
                ));
            }
            let Some(compiled) = working_tree(g, out)? else {
                return Ok(Outcome::Error);
            };
            environments(&compiled, a, b, args.unified)?
        }
        Some(rev) => {
            let rev = Revision::resolve(&g.root, rev)?;
            let Some(before) = at_revision(&rev, out)? else {
                return Ok(Outcome::Error);
            };
            let Some(now) = working_tree(g, out)? else {
                return Ok(Outcome::Error);
            };
            let mut only: Vec<String> = args.environments.clone();
            only.extend(g.envs.iter().cloned());
            revision(&before, &now, &rev, &only, args.unified)?
        }
    };
    let text = match out.format() {
        Format::Human => report::human(&report, out.stdout_color()),
        Format::Markdown => report::markdown(&report),
        Format::Json => report::json(&report),
        Format::Mermaid | Format::Dot => {
            return Err(crate::Error::Usage(
                "--format mermaid and dot are for `kiln graph`; diff prints human, markdown or json".to_owned(),
            ));
        }
    };
    out.stdout(&text);
    Ok(if report.has_differences() {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// The working tree's model, or `None` (diagnostics printed) when it has errors.
fn working_tree(g: &GlobalArgs, out: &Printer) -> crate::Result<Option<Compiled>> {
    let compiled = compile(&Files::read(&g.root), state::read(&g.root.join("out"))?);
    Ok(usable(
        compiled,
        out,
        "the model has errors; fix them to compare its output",
    ))
}

/// The model at `rev`, read from git, or `None` (diagnostics printed) when it has errors.
fn at_revision(rev: &Revision, out: &Printer) -> crate::Result<Option<Compiled>> {
    let files = Files::from_git(rev)?;
    // The image tags automation had recorded at that revision.
    let mut wanted = Vec::new();
    for dir in crate::layout::STATE_DIRS {
        wanted.extend(
            rev.list(&format!("out/{dir}"), true)?
                .into_iter()
                .flatten()
                .filter(|e| {
                    e.path
                        .strip_prefix("out/")
                        .is_some_and(|p| crate::layout::state_file(p).is_some())
                }),
        );
    }
    let recorded = rev.read(&wanted)?.into_iter().map(|(e, bytes)| {
        (
            e.path.strip_prefix("out/").unwrap_or(&e.path).to_owned(),
            bytes,
        )
    });
    let compiled = compile(&files, state::from_files(recorded));
    Ok(usable(
        compiled,
        out,
        &format!(
            "the model at {} has errors; kiln cannot render it to compare",
            rev.name()
        ),
    ))
}

fn usable(compiled: Compiled, out: &Printer, why: &str) -> Option<Compiled> {
    if !compiled.has_input_errors() {
        return Some(compiled);
    }
    let errors: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    out.diagnostics(&errors, &compiled.project.sources);
    out.error(&format!("kiln diff: {why}"));
    None
}

fn environment<'a>(compiled: &'a Compiled, name: &str) -> crate::Result<&'a Environment> {
    compiled.project.environment(name).ok_or_else(|| {
        let known: Vec<&str> = compiled
            .project
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        crate::Error::Usage(format!(
            "no environment `{name}`{} (environments: {})",
            crate::suggest::hint(name, known.iter().copied()),
            known.join(", ")
        ))
    })
}

fn resources(compiled: &Compiled, env: &Environment) -> Vec<Resource> {
    render::resources(&compiled.context(), env, &compiled.tree)
}

fn environments(compiled: &Compiled, a: &str, b: &str, unified: bool) -> crate::Result<Report> {
    let (ea, eb) = (environment(compiled, a)?, environment(compiled, b)?);
    let norm = Normalizer::between(ea, eb);
    let comparison = diff::compare(
        &resources(compiled, ea),
        &resources(compiled, eb),
        &Options {
            norm: &norm,
            unified: unified.then_some((a, b)),
        },
    );
    Ok(Report {
        kind: Kind::Environments {
            a: a.to_owned(),
            b: b.to_owned(),
        },
        normalized: norm.rules().to_vec(),
        sections: vec![Section {
            env: None,
            shared: false,
            presence: Presence::Both,
            comparison,
        }],
    })
}

fn revision(
    before: &Compiled,
    now: &Compiled,
    rev: &Revision,
    only: &[String],
    unified: bool,
) -> crate::Result<Report> {
    let names = |c: &Compiled| -> BTreeSet<String> {
        c.project
            .environments
            .iter()
            .map(|e| e.name.to_string())
            .collect()
    };
    let all: BTreeSet<String> = names(before).union(&names(now)).cloned().collect();
    for name in only {
        if !all.contains(name) {
            return Err(crate::Error::Usage(format!(
                "no environment `{name}` at {} or in the working tree{} (environments: {})",
                rev.name(),
                crate::suggest::hint(name, all.iter().map(String::as_str)),
                all.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let label_a = format!("{}:{{}}", rev.name());
    let norm = Normalizer::none();
    let mut sections = Vec::new();
    let mut shared_a: BTreeMap<ResourceId, Resource> = BTreeMap::new();
    let mut shared_b: BTreeMap<ResourceId, Resource> = BTreeMap::new();
    for name in all.iter().filter(|n| only.is_empty() || only.contains(n)) {
        let split = |c: &Compiled, shared: &mut BTreeMap<ResourceId, Resource>| {
            let env = c.project.environment(name)?;
            let mut own = Vec::new();
            for r in resources(c, env) {
                if r.shared {
                    shared.entry(ResourceId::of(&r, &norm)).or_insert(r);
                } else {
                    own.push(r);
                }
            }
            Some(own)
        };
        let (a, b) = (split(before, &mut shared_a), split(now, &mut shared_b));
        let presence = match (&a, &b) {
            (Some(_), None) => Presence::OnlyA,
            (None, Some(_)) => Presence::OnlyB,
            _ => Presence::Both,
        };
        let label = (
            label_a.replace("{}", name),
            format!("{name} (working tree)"),
        );
        let comparison = diff::compare(
            &a.unwrap_or_default(),
            &b.unwrap_or_default(),
            &Options {
                norm: &norm,
                unified: unified.then_some((label.0.as_str(), label.1.as_str())),
            },
        );
        sections.push(Section {
            env: Some(name.clone()),
            shared: false,
            presence,
            comparison,
        });
    }
    if !shared_a.is_empty() || !shared_b.is_empty() {
        let label = (
            format!("{}:out", rev.name()),
            "out (working tree)".to_owned(),
        );
        let comparison = diff::compare(
            &shared_a.into_values().collect::<Vec<_>>(),
            &shared_b.into_values().collect::<Vec<_>>(),
            &Options {
                norm: &norm,
                unified: unified.then_some((label.0.as_str(), label.1.as_str())),
            },
        );
        sections.push(Section {
            env: None,
            shared: true,
            presence: Presence::Both,
            comparison,
        });
    }
    Ok(Report {
        kind: Kind::Revision {
            rev: rev.name().to_owned(),
            commit: rev.commit().to_owned(),
        },
        normalized: Vec::new(),
        sections,
    })
}
