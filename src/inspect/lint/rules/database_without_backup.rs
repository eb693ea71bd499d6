use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};

/// A production database with no backup schedule.
pub(crate) struct DatabaseWithoutBackup;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K007",
    name: "database-without-backup",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "A production database without a backup schedule.",
    fix: "add `backup: {schedule: ..., retentionDays: ..., storage: ...}` to the database",
    doc: r#"## What it does
Flags a database in an environment marked `environment.production: true` that has no
`backup` schedule.

## Why is this bad?
A volume is not a backup: a deleted namespace, a failed disk or a bad migration takes
the data with it. Both seeds schedule daily dumps with a retention period before going
live.

## Example
```yaml
environment: {production: true}
apps:
  shop:
    database: {version: 18, storage: 10Gi, password: {secret: shop-db, key: password}}
```
Use instead:
```yaml
apps:
  shop:
    database:
      backup: {schedule: "0 3 * * *", retentionDays: 7, storage: 2Gi}
```

## How to fix
Add `backup` to the database (`schedule` in cron syntax, `retentionDays`, `storage` for
the dumps), then restore one dump with the runbook's restore command to prove it works.
"#,
};

impl Rule for DatabaseWithoutBackup {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in cx
            .project
            .environments
            .iter()
            .filter(|e| e.model.environment.production)
        {
            for (name, app) in env.model.enabled_apps() {
                // A pure cache (`persistence: none`) holds nothing to back up.
                if app.database.as_ref().is_some_and(|db| {
                    db.backup.is_none() && db.persistence != Some(crate::model::Persistence::None)
                }) {
                    let d = sink
                        .diagnostic(format!("the database of `{name}` in production `{}` is never backed up", env.name))
                        .at(env.key_span(&format!("/apps/{name}/database")))
                        .help("add `backup: {schedule: \"0 3 * * *\", retentionDays: 7, storage: 2Gi}`");
                    sink.report(env, Subject::App(name.as_str()), d);
                }
            }
        }
    }
}
