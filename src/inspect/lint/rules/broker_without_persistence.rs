use crate::diagnostic::Severity;
use crate::inspect::lint::{LintContext, Rule, Sink, Subject};
use crate::model::{EngineName, EnvValue, Persistence};

/// A Redis or Valkey kept as a pure cache that an app uses as a broker.
pub(crate) struct BrokerWithoutPersistence;

/// The rule's entry in the check registry (code, name, documentation).
const CHECK: crate::diagnostic::Check = crate::diagnostic::Check {
    code: "K022",
    name: "broker-without-persistence",
    kind: crate::diagnostic::Kind::Finding(Severity::Warning),
    summary: "A Redis or Valkey with `persistence: none` that an app uses as a task broker or queue.",
    fix: "drop `persistence: none` (AOF is the default) or use `rdb`",
    doc: r#"## What it does
Flags a connection value (`{database: APP, part: ...}`) of a Redis or Valkey database
declared `persistence: none` when the variable that takes it names a broker or a queue
(a word of it is `BROKER`, `CELERY`, `QUEUE`, `BULL`, `SIDEKIQ`, `RQ`, `JOBS` or
`TASKS`), or when the app is one known to keep its task queue in Redis (Paperless-ngx,
Immich, Authentik, Mastodon).

## Why is this bad?
`persistence: none` declares a pure cache: the server starts empty after every restart.
For a cache that costs a few slow requests; for a broker it loses every queued task: a
document that was being consumed, a thumbnail job, an email never sent, silently.

## Example
```yaml
apps:
  paperless:
    env:
      PAPERLESS_REDIS: {database: broker, part: url}
  broker:
    database: {engine: redis, version: "7.4", persistence: none}
```
Use instead:
```yaml
    database: {engine: redis, version: "7.4"}   # persistence: aof, the default
```

## How to fix
Remove `persistence: none` (the default, `aof`, logs every write and loses at most a
second), or set `rdb` if minutes of lost tasks are acceptable. If the server really is
only a cache for this app, waive the rule with that reason.
"#,
};

/// Words of a variable's name that say it holds a broker or a queue.
const BROKER_WORDS: [&str; 10] = [
    "BROKER", "CELERY", "QUEUE", "QUEUES", "BULL", "BULLMQ", "SIDEKIQ", "RQ", "JOBS", "TASKS",
];

/// Image repositories (how they end) known to keep a task queue in Redis.
const BROKER_USERS: [&str; 4] = [
    "paperless-ngx",
    "immich-server",
    "goauthentik/server",
    "mastodon",
];

/// Whether the variable `var` of an app of image `repository` uses Redis as a broker.
fn as_broker(var: &str, repository: &str) -> bool {
    BROKER_USERS.iter().any(|u| repository.ends_with(u))
        || var
            .to_ascii_uppercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| BROKER_WORDS.contains(&w))
}

impl Rule for BrokerWithoutPersistence {
    fn entry(&self) -> &'static crate::diagnostic::Check {
        &CHECK
    }

    fn check(&self, cx: &LintContext<'_>, sink: &mut Sink<'_>) {
        for env in &cx.project.environments {
            let m = &env.model;
            for (name, app) in m.enabled_apps() {
                for (pointer, value) in app.all_env() {
                    let EnvValue::Database(d) = value else {
                        continue;
                    };
                    let Some(db) = m.apps.get(&d.database).and_then(|o| o.database.as_ref()) else {
                        continue;
                    };
                    let var = pointer.rsplit('/').next().unwrap_or_default();
                    if !matches!(db.engine, EngineName::Redis | EngineName::Valkey)
                        || db.persistence != Some(Persistence::None)
                        || !as_broker(
                            var,
                            app.image.as_ref().map_or("", |i| i.repository.as_str()),
                        )
                    {
                        continue;
                    }
                    let owner = &d.database;
                    let diag = sink
                        .diagnostic(format!(
                            "`{name}` takes `{var}` from the {} of `{owner}` as a broker, but it keeps nothing across restarts (`persistence: none`): queued tasks are lost",
                            db.engine().title()
                        ))
                        .at(env.key_span(&format!("/apps/{name}{pointer}")))
                        .help(format!(
                            "remove `apps.{owner}.database.persistence` (AOF is the default) or set it to `rdb`"
                        ));
                    sink.report(env, Subject::App(name.as_str()), diag);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::as_broker;

    #[test]
    fn broker_words_and_known_images() {
        assert!(as_broker("CELERY_BROKER_URL", "team/web"));
        assert!(as_broker("queue_url", "team/web"));
        assert!(as_broker("PAPERLESS_REDIS", "paperless-ngx/paperless-ngx"));
        assert!(as_broker("REDIS_HOSTNAME", "immich-app/immich-server"));
        assert!(as_broker("AUTHENTIK_REDIS__HOST", "goauthentik/server"));
        assert!(!as_broker("REDIS_HOST", "team/server"));
        assert!(!as_broker("CACHE_URL", "team/web"));
        assert!(!as_broker("BROKERAGE", "team/web"));
    }
}
