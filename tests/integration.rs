//! kiln's only integration test binary. Modules by feature:

/// Shared helpers: run kiln, copy and compare trees, update expectations.
mod support;

/// The command line: exit codes, `check` findings, `--env`, `--format json`, help
/// and completions.
mod cli;
/// `kiln diff` between environments and against git revisions.
mod diff;
/// Flux trees, tag ownership, `kiln set-image`.
mod gitops;
/// Golden cases: `tests/golden/<case>/` inputs → whole expected `out/` tree or
/// expected diagnostics; the repository's own `environments/` → its committed `out/`.
mod golden;
/// kiln's `.pre-commit-hooks.yaml` run by the real pre-commit.
mod precommit;
/// `schema/` equals what the model types generate.
mod schema;
/// The real validators (kubectl kustomize, kubernetes-validate, CRD schemas, ...)
/// over the committed `out/` and every golden tree.
mod validators;
