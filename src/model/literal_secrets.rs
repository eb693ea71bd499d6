//! Literal secret values in the model, found while loading it (before the schema
//! check, which would otherwise report them as a wrong type): a value where a source
//! belongs, or an environment variable that plainly holds a credential.

use crate::diagnostic::{Diagnostic, checks};
use crate::model::SpanIndex;
use serde_json::{Value, json};

/// Finds literal values where the model wants a source (`keys: {password: hunter2}`)
/// or where an environment variable plainly holds a credential; reports each at its
/// location and replaces it in `json` with an empty `manual` source, so the remaining
/// checks still run without repeating the problem as a schema error.
pub(super) fn literal_values(json: &mut Value, index: &SpanIndex) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(Value::Object(secrets)) = json.get_mut("secrets") {
        for (name, secret) in secrets.iter_mut() {
            let Some(Value::Object(keys)) = secret.get_mut("keys") else {
                continue;
            };
            for (key, source) in keys.iter_mut() {
                if source.is_object() || source.is_null() {
                    continue;
                }
                let pointer = format!(
                    "/secrets/{}/keys/{}",
                    crate::pointer::escape(name),
                    crate::pointer::escape(key)
                );
                out.push(
                    Diagnostic::error(
                        checks::LITERAL_SECRET,
                        format!("`{name}.{key}` is written as a value; the model holds only where a secret comes from"),
                    )
                    .at(index.value(&pointer))
                    .help("use `op: op://vault/item/field`, `generate: {length: 40}`, `template: \"...{other-key}...\"` or `manual: \"where to find it\"`")
                    .help("if this value was ever committed, rotate it: it is in git history"),
                );
                *source = json!({"manual": ""});
            }
        }
    }
    if let Some(Value::Object(apps)) = json.get("apps") {
        for (app, a) in apps {
            let Some(Value::Object(env)) = a.get("env") else {
                continue;
            };
            for (var, value) in env {
                let Some(text) = value.as_str() else { continue };
                if let Some(why) = credential_like(var, text) {
                    let pointer = format!(
                        "/apps/{}/env/{}",
                        crate::pointer::escape(app),
                        crate::pointer::escape(var)
                    );
                    out.push(
                        Diagnostic::error(
                            checks::LITERAL_SECRET,
                            format!("`{var}` of `{app}` {why}"),
                        )
                        .at(index.value(&pointer))
                        .help("define the value under `secrets` and write `{secret: NAME, key: KEY}` here"),
                    );
                }
            }
        }
    }
    out
}

/// Why a plain environment value looks like a credential, if it does.
fn credential_like(var: &str, value: &str) -> Option<&'static str> {
    if value.is_empty() || value.contains("${") {
        return None;
    }
    // `scheme://user:password@host` // pragma: allowlist secret
    if let Some((_, rest)) = value.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && userinfo.split_once(':').is_some_and(|(_, p)| !p.is_empty())
        {
            return Some("holds a URL with a password in it");
        }
    }
    let upper = var.to_ascii_uppercase();
    let last = upper.rsplit('_').next().unwrap_or_default();
    let secret_word = matches!(last, "PASSWORD" | "PASSWD" | "SECRET" | "TOKEN")
        || upper.ends_with("API_KEY")
        || upper.ends_with("PRIVATE_KEY");
    secret_word.then_some("is named like a credential but holds a plain value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_plain_values_are_recognised() {
        assert!(credential_like("DATABASE_URL", "postgresql://app:hunter2@db:5432/app").is_some()); // pragma: allowlist secret
        assert!(credential_like("DATABASE_URL", "postgresql://app@db:5432/app").is_none());
        assert!(credential_like("API_TOKEN", "abc").is_some());
        assert!(credential_like("STRIPE_API_KEY", "sk_live_x").is_some());
        assert!(credential_like("TOKEN_TTL", "3600").is_none());
        assert!(credential_like("ORIGIN", "https://user@example.com").is_none());
        assert!(credential_like("NODE_ENV", "production").is_none());
    }
}
