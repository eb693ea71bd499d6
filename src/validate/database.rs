//! An app's `database`: its `version` is one its engine runs (a PostgreSQL major as a
//! number, a release series as a string for the others), its name fits the engine's
//! limits, and `persistence` is given only to a key-value server.

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{EngineName, Environment};

/// MySQL's longest user name (MariaDB's is 80, PostgreSQL's 63, both above the
/// schema's 63).
const MYSQL_USER_MAX: usize = 32;

/// Checks the database of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    for (name, app) in env.model.enabled_apps() {
        let Some(db) = &app.database else { continue };
        let engine = db.engine();
        let at = format!("/apps/{name}/database");
        if !engine.supports(&db.version) {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!(
                        "{} {} is not a version kiln runs for the database of `{name}`",
                        engine.title(),
                        db.version
                    ),
                )
                .at(env.span(&format!("{at}/version")))
                .help(format!(
                    "give {}'s `version` as {}",
                    engine.title(),
                    engine.supported()
                )),
            );
        }
        if db.persistence.is_some() && !engine.has_persistence() {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!(
                        "`persistence` is for Redis and Valkey; {} always keeps the data of `{name}`",
                        engine.title()
                    ),
                )
                .at(env.key_span(&format!("{at}/persistence")))
                .help("remove `persistence`, or set `engine: redis` or `engine: valkey`"),
            );
        }
        let user = db.db_name(name);
        if db.engine == EngineName::Mysql && user.len() > MYSQL_USER_MAX {
            let field = if db.name.is_some() { "/name" } else { "" };
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!(
                        "the MySQL user `{user}` of `{name}` is {} characters long; MySQL allows {MYSQL_USER_MAX}",
                        user.len()
                    ),
                )
                .at(env.key_span(&format!("{at}{field}")))
                .help("set `database.name` to a name of at most 32 characters"),
            );
        }
    }
}
