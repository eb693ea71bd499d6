//! kiln's only integration test binary. Modules by feature:

/// Shared helpers: run kiln, copy and compare trees, update expectations.
mod support;

/// The bad-input corpus `tests/bad_inputs/`: every case exits 2, located, without
/// touching `out/` or panicking; the alias bomb is refused in under a second.
mod bad_inputs;
/// The check registry: every check the corpora show is registered and explained,
/// `kiln rules` lists the registry, `docs/rules.md` is generated from it.
mod checks;
/// GitLab jobs run by gitlab-ci-local's shell executor with stand-in tools: deploys
/// record and roll out, verifies ask the URL, dependency caches hit and miss.
mod ci_jobs;
/// The command line: exit codes, `check` findings, `--env`, `--format json`, help
/// and completions.
mod cli;
/// Crash safety: `kiln build` SIGKILLed at random points leaves every file old or
/// new; `check` and the next `build` recover without manual steps.
mod crash_safety;
/// `kiln diff` between environments and against git revisions.
mod diff;
/// Runbooks: diagrams parse, commands name generated objects.
mod docs;
/// The freshness record: an unchanged build or check answers from it, with the same
/// words; any change means a full run.
mod fresh;
/// Flux trees, tag ownership, `kiln set-image`.
mod gitops;
/// Golden cases: `tests/golden/<case>/` inputs → whole expected `out/` tree or
/// expected diagnostics; the repository's own `environments/` → its committed `out/`.
mod golden;
/// Hostile projects: lock paths outside out/, links, FIFOs, unreadable folders and
/// builds at once never touch anything outside the project or print it.
mod hostile;
/// Hosts: Flux tags in compose files, the live Caddy routing test, TLS modes, the
/// upstream stack's override stacked on its upstream file.
mod hosts;
/// The one-way stack of modules: no module uses a layer above it.
mod layers;
/// Lint rules: one triggering and one passing fixture each.
mod lint;
/// Database dumps restore, with a real MariaDB: every dump the CronJob, the backup
/// service, backup.sh and the runbook write for a MariaDB or MySQL database,
/// restore.sh or the runbook's restore puts back into the live database; a broken one
/// changes nothing.
mod mysql_restore;
/// Database dumps restore, with a real PostgreSQL: every dump the CronJob, the
/// db-backup service, backup.sh and the runbook write, restore.sh or the runbook's
/// restore puts back into the live database; a broken one changes nothing.
mod pg_restore;
/// Pipelines: tags match the ImagePolicy and sort in build order; deploy jobs need
/// exactly what their Role grants.
mod pipelines;
/// Portability: every example builds with every app moved between a cluster and a
/// host, or fails only with the located errors its `portability.expected` lists.
mod portability;
/// kiln's `.pre-commit-hooks.yaml` run by the real pre-commit.
mod precommit;
/// Database dumps restore, with a real Redis (Valkey's commands through wrappers):
/// every dump the CronJob, the backup service, backup.sh and the runbook write,
/// restore.sh or the runbook's restore puts back into the live server, which is a
/// master with its password again; a broken one changes nothing.
mod redis_restore;
/// `schema/` equals what the model types generate.
mod schema;
/// Secrets end to end: `kiln seal` with a fake `op`, round-trip decryption of the
/// SealedSecrets `build` writes, incremental sealing, certificates, no plaintext in out/.
mod secrets;
/// Pod Security "restricted" on every workload; secret scanning of out/ and the repository.
mod security;
/// The real validators (kubectl kustomize, kubernetes-validate, CRD schemas, ...)
/// over the committed `out/` and every golden tree.
mod validators;
/// Volume backups restore: what backup.sh archives, restore.sh's function puts back
/// as it was; a broken archive leaves the volume untouched.
mod volume_restore;
/// Wiring points: all verified in the reference; any one broken is located.
mod wiring;
/// Values that survive YAML 1.1: strings a 1.1 reader would retype come back the same
/// through `kubectl kustomize`, `docker compose config` and PyYAML.
mod yaml11;
