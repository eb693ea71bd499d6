//! Data services: an app without an `image` runs only its `database`, so it needs one
//! and may set nothing that configures a container of its own (each such field is a
//! located error, not silently dropped).

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{App, Environment};

/// The fields a data service may set besides `database`.
const ALLOWED: [&str; 6] = [
    "description",
    "enabled",
    "group",
    "runsOn",
    "waive",
    "database",
];

/// Checks every app of `env` without an image.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    for (name, app) in env.model.apps.iter().filter(|(_, a)| a.is_data_service()) {
        let Some(db) = &app.database else {
            // Most often the settings of another app under a misspelt name.
            let others = env
                .model
                .apps
                .iter()
                .filter(|(n, a)| *n != name && !a.is_data_service())
                .map(|(n, _)| n.as_str());
            let help = match crate::suggest::closest(name.as_str(), others) {
                Some(app) => format!(
                    "did you mean app `{app}`? Settings of an app (its `patches`, `env`...) go under the app's own name; a new name is a new app, which needs `image`"
                ),
                None => "add `image: {registry: ..., repository: ..., tag: ...}`, or a `database` to make it a data service".to_owned(),
            };
            diags.push(
                Diagnostic::error(
                    checks::NOT_A_DATA_SERVICE,
                    format!("app `{name}` has neither an `image` nor a `database`: nothing of it would run"),
                )
                .at(env.key_span(&format!("/apps/{name}")))
                .help(help),
            );
            continue;
        };
        for field in container_fields(app, db) {
            diags.push(
                Diagnostic::error(
                    checks::NOT_A_DATA_SERVICE,
                    format!(
                        "`{name}` has no `image`, so it is a data service (only its database runs), but `{field}` configures a container"
                    ),
                )
                .at(env.key_span(&format!("/apps/{name}/{field}")))
                .help(format!(
                    "remove `{field}`, or give `{name}` an `image` if it runs something of its own"
                )),
            );
        }
    }
}

/// The fields of `app` (as the model spells them) that differ from those of an app
/// with only `db`: what a data service may not set.
fn container_fields(app: &App, db: &crate::model::Database) -> Vec<String> {
    let minimal: App = match serde_json::to_value(db)
        .and_then(|db| serde_json::from_value(serde_json::json!({ "database": db })))
    {
        Ok(a) => a,
        Err(_) => return Vec::new(),
    };
    let (Ok(serde_json::Value::Object(set)), Ok(serde_json::Value::Object(bare))) =
        (serde_json::to_value(app), serde_json::to_value(&minimal))
    else {
        return Vec::new();
    };
    set.into_iter()
        .filter(|(k, v)| !ALLOWED.contains(&k.as_str()) && bare.get(k) != Some(v))
        .map(|(k, _)| k)
        .collect()
}
