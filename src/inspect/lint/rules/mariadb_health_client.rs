use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};

/// A health check of a MariaDB 11 image that calls `mysql` or `mysqladmin`.
pub(crate) struct MariadbHealthClient;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K021",
    name: "mariadb-health-client",
    kind: crate::diagnostic::Kind::Finding(Severity::Error),
    summary: "A MariaDB 11 image whose health check calls `mysql` or `mysqladmin`, which it no longer ships.",
    fix: "call `healthcheck.sh --connect --innodb_initialized` (or `mariadb-admin ping`) instead",
    doc: r#"## What it does
Flags an app whose image is MariaDB 11 or later (`mariadb:11.4`, `lts`, `latest`) and
whose `health.command` runs `mysql` or `mysqladmin`.

## Why is this bad?
From 11.0 the official MariaDB images ship the clients only under their `mariadb*`
names. A health check written for 10.x (`mysqladmin ping`) fails with "not found" on
every run: the container is never healthy, compose never starts what depends on it, and
Kubernetes restarts it in a loop, although the server is fine.

## Example
```yaml
apps:
  db:
    image: {registry: hub, repository: library/mariadb, tag: "11.4"}
    health: {command: [mysqladmin, ping, -h, localhost]}
```
Use instead:
```yaml
    health: {command: [healthcheck.sh, --connect, --innodb_initialized]}
```

## How to fix
Use the image's own `healthcheck.sh --connect --innodb_initialized`, or
`mariadb-admin ping`. Better still, declare the server as an app's `database:
{engine: mariadb}`: kiln then writes a health check that fits the version.
"#,
};

/// The client names the MariaDB 11 images dropped.
const OLD_CLIENTS: [&str; 2] = ["mysql", "mysqladmin"];

/// Whether `repository:tag` is MariaDB 11 or later: a numeric tag from 11, or a tag
/// without a version (`latest`, `lts`, which are 11 or later today).
fn mariadb_11(repository: &str, tag: Option<&str>) -> bool {
    if repository.rsplit('/').next() != Some("mariadb") {
        return false;
    }
    let Some(tag) = tag else { return false };
    let major: String = tag.chars().take_while(char::is_ascii_digit).collect();
    major.parse::<u32>().map_or(true, |m| m >= 11)
}

/// The programs a command runs: each word of each argument (a `sh -c` script
/// included), by its file name.
fn calls_old_client(command: &[String]) -> Option<&'static str> {
    command
        .iter()
        .flat_map(|a| a.split(|c: char| c.is_whitespace() || ";|&()`".contains(c)))
        .filter_map(|w| w.rsplit('/').next())
        .find_map(|w| OLD_CLIENTS.into_iter().find(|c| *c == w))
}

impl Rule for MariadbHealthClient {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            for (name, app) in env.model.enabled_apps() {
                let Some(image) = &app.image else { continue };
                if !mariadb_11(&image.repository, image.tag.as_deref()) {
                    continue;
                }
                let Some(command) = app.health.as_ref().and_then(|h| h.command.as_ref()) else {
                    continue;
                };
                if let Some(client) = calls_old_client(command) {
                    let d = sink
                        .diagnostic(format!(
                            "the health check of `{name}` runs `{client}`, which the MariaDB {} image does not have",
                            image.tag.as_deref().unwrap_or_default()
                        ))
                        .at(env.span(&format!("/apps/{name}/health/command")))
                        .help("use `[healthcheck.sh, --connect, --innodb_initialized]` or `mariadb-admin ping`");
                    sink.report(env, Subject::App(name.as_str()), d);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_11_and_unversioned_tags_count() {
        assert!(mariadb_11("library/mariadb", Some("11.4")));
        assert!(mariadb_11("mariadb", Some("lts")));
        assert!(mariadb_11("mariadb", Some("12.0.2-noble")));
        assert!(!mariadb_11("mariadb", Some("10.11")));
        assert!(!mariadb_11("mariadb", None));
        assert!(!mariadb_11("bitnami/mysql", Some("11")));
    }

    #[test]
    fn finds_the_old_clients_in_scripts_and_paths() {
        let cmd = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            calls_old_client(&cmd(&["mysqladmin", "ping"])),
            Some("mysqladmin")
        );
        assert_eq!(
            calls_old_client(&cmd(&["sh", "-c", "exec /usr/bin/mysql -e 'select 1'"])),
            Some("mysql")
        );
        assert_eq!(calls_old_client(&cmd(&["mariadb-admin", "ping"])), None);
        assert_eq!(
            calls_old_client(&cmd(&["healthcheck.sh", "--connect"])),
            None
        );
    }
}
