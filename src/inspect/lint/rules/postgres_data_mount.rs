use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};
use crate::model::EngineName;

/// A PostgreSQL 18+ data volume mounted where the image does not keep its data.
pub(crate) struct PostgresDataMount;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K010",
    name: "postgres-data-mount",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "A PostgreSQL 18+ database whose data volume is mounted at the old path.",
    fix: "mount the volume at /var/lib/postgresql (or drop `mountPath`)",
    doc: r#"## What it does
Flags a PostgreSQL database of version 18 or later whose `mountPath` is not
`/var/lib/postgresql`.

## Why is this bad?
From version 18 the official image keeps its data in a versioned directory under
`/var/lib/postgresql` and creates the `data` subdirectory itself. A volume mounted at the
old `/var/lib/postgresql/data` makes the pod crash-loop, or leaves the data outside the
volume where a restart loses it (seed 004's lesson).

## Example
```yaml
database:
  version: 18
  mountPath: /var/lib/postgresql/data
```
Use instead: leave `mountPath` out (kiln mounts the parent for 18+), or
```yaml
database:
  version: 18
  mountPath: /var/lib/postgresql
```

## How to fix
Remove `mountPath` (kiln mounts `/var/lib/postgresql` for version 18 and later) or set
it to `/var/lib/postgresql`. Move existing data into the versioned directory first.
"#,
};

impl Rule for PostgresDataMount {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            for (name, app) in env.model.enabled_apps() {
                let Some(db) = app
                    .database
                    .as_ref()
                    .filter(|d| d.engine == EngineName::Postgres)
                else {
                    continue;
                };
                let Some(mount) = &db.mount_path else {
                    continue;
                };
                let want = db.engine().data_path(&db.version);
                if db.version.major >= 18 && mount.trim_end_matches('/') != want {
                    let d = sink
                        .diagnostic(format!(
                            "PostgreSQL {} keeps its data under {want}, but `{name}` mounts its volume at {mount}",
                            db.version
                        ))
                        .at(env.span(&format!("/apps/{name}/database/mountPath")))
                        .help(format!("mount at {want} (or drop `mountPath`)"));
                    sink.report(env, Subject::App(name.as_str()), d);
                }
            }
        }
    }
}
