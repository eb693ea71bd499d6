use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};
use crate::render::kubernetes::cluster_apps;

/// A database password that changed after the database was created.
pub(crate) struct PostgresPasswordChange;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K018",
    name: "postgres-password-change",
    kind: crate::diagnostic::Kind::Finding(Severity::Warning),
    summary: "An existing database's password changes in its secret.",
    fix: "change the password inside the database with `ALTER USER` before the app restarts",
    doc: r#"## What it does
Compares the sealed database password a build writes with the one in the committed
output, and warns when an existing database's password changes, with the command that
changes it inside the server: PostgreSQL, MySQL and MariaDB alike (the rule kept its
first name). Redis and Valkey read the password at every start and are not flagged.

## Why is this bad?
The PostgreSQL image reads `POSTGRES_PASSWORD` only when it creates its data directory,
and the MySQL and MariaDB images their `*_PASSWORD` the same way.
A new value in the secret changes nothing in the running database: the app, given the
new password, can no longer log in (seed 004: "Changing secret requires `ALTER USER`
inside the pod").

## Example
Rotating `invoicetron-db.postgres-password` with `kiln seal --rotate invoicetron-db`
changes its SealedSecret. Before the app restarts, run in the database pod:
```sh
kubectl -n invoicetron-prod exec invoicetron-db-0 -- \
  psql -U invoicetron -c "ALTER USER invoicetron PASSWORD '<new value>'"
```
Then waive nothing: the warning goes away once the build is committed.

## How to fix
Before the app restarts with the new secret, change the password inside the database
with the `ALTER USER` command the warning prints; then commit the build.
"#,
};

impl Rule for PostgresPasswordChange {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        let Some(state) = cx.state else { return };
        for env in &cx.project.environments {
            for unit in cluster_apps(env) {
                let Some(db) = unit.app.database.as_ref().filter(|_| unit.host.is_none()) else {
                    continue;
                };
                let path = crate::layout::sealed_secret(
                    unit.cluster_name.as_str(),
                    &unit.namespace,
                    db.password.secret.as_str(),
                );
                let Some(before) = state
                    .committed_sealed
                    .get(&path)
                    .and_then(|v| v.get(&db.password.key))
                else {
                    continue;
                };
                let Some(after) = cx
                    .output
                    .get(&path)
                    .and_then(|f| std::str::from_utf8(&f.bytes).ok())
                    .and_then(crate::output::state::sealed_values)
                    .and_then(|v| v.get(&db.password.key).cloned())
                else {
                    continue;
                };
                if *before == after {
                    continue;
                }
                let engine = db.engine();
                let Some((command, asks)) = engine.change_password(&db.db_name(unit.name)) else {
                    continue;
                };
                let d = sink
                    .diagnostic(format!(
                        "the password of database `{}-db` in `{}` changes, but {} keeps the old one",
                        unit.name,
                        unit.namespace,
                        engine.title()
                    ))
                    .at(env.span(&format!("/apps/{}/database/password", unit.name)))
                    .help(format!(
                        "before the app restarts with the new secret, run: kubectl -n {} exec {}{}-db-0 -- {}",
                        unit.namespace,
                        if asks { "-it " } else { "" },
                        unit.name,
                        command.replace("'...'", "'<new value>'")
                    ));
                sink.report(env, Subject::App(unit.name.as_str()), d);
            }
        }
    }
}
