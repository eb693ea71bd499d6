//! `kiln build`: check the model and write `out/`.

use super::{Outcome, Printer, check_envs};
use crate::cli::{BuildArgs, GlobalArgs};
use crate::model::Files;
use crate::output::{self, Durability, Scope, WriteOptions, fresh};
use crate::pipeline::compile;
use crate::timings::phase;

pub(super) fn run(g: &GlobalArgs, args: &BuildArgs, out: &Printer) -> crate::Result<Outcome> {
    let _lock = super::lock_project(g, true, out)?;
    run_locked(g, args, out)
}

/// [`run`], with the project's lock already held.
pub(super) fn run_locked(
    g: &GlobalArgs,
    args: &BuildArgs,
    out: &Printer,
) -> crate::Result<Outcome> {
    let out_dir = g.root.join("out");
    let files = phase("read model", || Files::read(&g.root));
    // With every environment in scope, the freshness record can tell that nothing
    // changed since the last clean build without compiling (see `output::fresh`).
    // `--no-cache` does not trust the record, but still writes a new one.
    let (key, found) = fresh::consult(&g.root, &files, g.envs.is_empty(), !args.no_cache, &out_dir);
    if let Some(s) = found {
        out.summary(&format!(
            "kiln build: 0 files written, {} unchanged, 0 deleted ({} environments)",
            s.files, s.environments
        ));
        return Ok(Outcome::Clean);
    }
    let state = phase("read state", || output::state::read(&out_dir))?;
    let compiled = compile(&files, state);
    out.diagnostics(&compiled.diagnostics, &compiled.project.sources);
    if compiled.has_input_errors() {
        out.summary("nothing was written: fix the errors above and run `kiln build` again");
        return Ok(Outcome::Error);
    }
    if compiled.has_errors() {
        out.summary("nothing was written: fix the lint errors above (or waive them with a reason)");
        return Ok(Outcome::Findings);
    }
    check_envs(g, &compiled.project)?;
    let options = WriteOptions {
        scope: Scope {
            envs: g.envs.clone(),
        },
        force: args.force,
        durability: if args.fsync {
            Durability::Flushed
        } else {
            Durability::Atomic
        },
    };
    let report = phase("write", || {
        output::write_with(&out_dir, &compiled.tree, &options)
    })?;
    if !report.foreign.is_empty() {
        return Err(crate::Error::Usage(format!(
            "these files under out/ were not written by kiln and would be overwritten: {}\n  move them away, or run `kiln build --force` to replace them",
            report.foreign.join(", ")
        )));
    }
    for path in &report.kept {
        out.summary(&format!(
            "kept out/{path}: kiln no longer generates it, but it changed since kiln wrote it (kiln deletes only what it wrote); delete it if it is not needed"
        ));
    }
    if let Some(key) = &key
        && compiled.diagnostics.is_empty()
    {
        phase("record", || {
            fresh::record(
                &g.root,
                key,
                &out_dir,
                &compiled.tree,
                fresh::Summary {
                    files: compiled.tree.len(),
                    environments: compiled.project.environments.len(),
                    wiring_verified: compiled.wiring.verified,
                    wiring_total: compiled.wiring.total,
                },
            );
        });
    }
    out.summary(&format!(
        "kiln build: {} files written, {} unchanged, {} deleted ({} environments)",
        report.written.len(),
        report.unchanged,
        report.deleted.len(),
        compiled.project.environments.len(),
    ));
    // What the compile built is freed when the process ends, at no cost.
    std::mem::forget(compiled);
    Ok(Outcome::Clean)
}
