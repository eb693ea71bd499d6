//! Connection values (`{database: APP, part: ...}`): the app they name exists, is
//! enabled and has a `database` with that part (Redis and Valkey have no database
//! names), and the consumer can reach it. On a cluster every
//! namespace can (kiln names a database of another namespace by its
//! `<service>.<namespace>.svc` and admits the consumer in its NetworkPolicy); on a
//! host only the apps of the same compose project (group) share its network; a
//! consumer on another cluster or host cannot reach it at all. A stack is a compose
//! project of its own, so it cannot take a connection value.

use super::references::unknown;
use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{DbPart, EnvValue, Environment, Name, Placement};

/// Checks every connection value of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    let m = &env.model;
    let with_database = || {
        m.apps
            .iter()
            .filter(|(_, a)| a.database.is_some())
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>()
    };
    for (name, app) in m.enabled_apps() {
        for (pointer, value) in app.all_env() {
            let EnvValue::Database(d) = value else {
                continue;
            };
            let at = format!("/apps/{name}{pointer}/database");
            let Some(owner) = m.apps.get(&d.database) else {
                diags.push(unknown(env, &at, "app", &d.database, with_database()));
                continue;
            };
            if owner.database.is_none() {
                let d = Diagnostic::error(
                    checks::UNKNOWN_REFERENCE,
                    format!(
                        "`{}` has no `database`, so `{name}` cannot take its {}",
                        d.database,
                        d.part.as_str()
                    ),
                )
                .at(env.span(&at))
                .label(env.key_span(&format!("/apps/{}", d.database)), "this app");
                let known = with_database();
                diags.push(if known.is_empty() {
                    d.help(format!("add `database:` to `{}`", value_owner(value)))
                } else {
                    d.help(format!(
                        "name an app with a database ({}), or add `database:` to `{}`",
                        known.join(", "),
                        value_owner(value)
                    ))
                });
                continue;
            }
            let engine = owner.database.as_ref().map(|db| db.engine());
            if let Some(engine) = engine
                && d.part == DbPart::Name
                && !engine.named_databases()
            {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!(
                            "the database of `{}` is {}, which has no database names: `{name}` cannot take its name",
                            d.database,
                            engine.title()
                        ),
                    )
                    .at(env.span(&format!("/apps/{name}{pointer}/part")))
                    .help("take its `url` (database 0 of the `default` user), or its `host`, `port` and `password`"),
                );
                continue;
            }
            if !owner.enabled {
                diags.push(
                    Diagnostic::error(
                        checks::UNKNOWN_REFERENCE,
                        format!(
                            "`{name}` takes the database of `{}`, which is disabled in `{}`",
                            d.database, env.name
                        ),
                    )
                    .at(env.span(&at))
                    .help(format!(
                        "enable `{}` in this environment, or remove the variable",
                        d.database
                    )),
                );
                continue;
            }
            if let Some(why) = unreachable(env, name, &d.database) {
                diags.push(
                    Diagnostic::error(
                        checks::UNREACHABLE_DATABASE,
                        format!("`{name}` cannot reach the database of `{}`: {why}", d.database),
                    )
                    .at(env.span(&at))
                    .label(
                        env.key_span(&format!("/apps/{}/database", d.database)),
                        "the database",
                    )
                    .help(
                        "run both apps on the same cluster, or on the same host in the same `group`",
                    ),
                );
            }
        }
    }
    for (name, stack) in m.enabled_stacks() {
        let values = stack
            .env
            .iter()
            .map(|(k, v)| (format!("/stacks/{name}/env/{k}"), v))
            .chain(stack.services.iter().flat_map(|(s, e)| {
                e.env
                    .iter()
                    .map(move |(k, v)| (format!("/stacks/{name}/services/{s}/env/{k}"), v))
            }));
        for (at, value) in values {
            if matches!(value, EnvValue::Database(_)) {
                diags.push(
                    Diagnostic::error(
                        checks::UNREACHABLE_DATABASE,
                        format!("stack `{name}` cannot take a connection value: it is a compose project of its own, without a route to kiln's databases"),
                    )
                    .at(env.span(&format!("{at}/database")))
                    .help("give the stack its own database service in its upstream compose file, and its password as a `secret` value"),
                );
            }
        }
    }
}

fn value_owner(value: &EnvValue) -> &str {
    match value {
        EnvValue::Database(d) => d.database.as_str(),
        _ => "",
    }
}

/// Why `consumer` cannot reach the database of `owner`, if it cannot.
fn unreachable(env: &Environment, consumer: &Name, owner: &Name) -> Option<String> {
    let m = &env.model;
    let (c, o) = (&m.apps[consumer], &m.apps[owner]);
    match (m.placement(c)?, m.placement(o)?) {
        (Placement::Cluster(a, _), Placement::Cluster(b, _)) if a == b => None,
        (Placement::Host(a, _), Placement::Host(b, _)) if a == b => {
            let (gc, go) = (m.group(consumer, c), m.group(owner, o));
            (gc != go).then(|| {
                format!(
                    "on host `{a}` it is in the compose project of group `{go}`, and `{consumer}` in group `{gc}`, with a network of its own"
                )
            })
        }
        (pc, po) => Some(format!(
            "`{consumer}` runs on {}, the database on {}",
            describe(&pc),
            describe(&po)
        )),
    }
}

fn describe(p: &Placement<'_>) -> String {
    match p {
        Placement::Cluster(n, _) => format!("cluster `{n}`"),
        Placement::Host(n, _) => format!("host `{n}`"),
    }
}
