//! How a secret's values are named and ordered, for `kiln seal`, `seal.sh` and the
//! checks: the `KILN_*` variable of a hand-entered key, the order keys are obtained
//! in (inputs before the templates that use them), the keys a URL uses, and the
//! sealing scope of a model scope.

use super::seal::Scope;
use super::sealed_file::DOCKER_CONFIG_KEY;
use crate::model::{Environment, KeySource, Name, SecretScope, SecretType, TemplatePart};
use std::collections::BTreeSet;

/// The sealing scope of a model scope.
pub fn scope(s: SecretScope) -> Scope {
    match s {
        SecretScope::Strict => Scope::Strict,
        SecretScope::NamespaceWide => Scope::NamespaceWide,
        SecretScope::ClusterWide => Scope::ClusterWide,
    }
}

/// The environment variable `kiln seal` and `seal.sh` read a manual value from.
pub fn manual_var(secret: &str, key: &str) -> String {
    let mut var = String::from("KILN_");
    for c in format!("{secret}_{key}").chars() {
        var.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    var
}

/// The model keys (`secret.key`) a data key's value is made from, in the order they
/// must be obtained (inputs before the templates that use them).
pub fn value_order(env: &Environment, secret: &Name, data_key: &str) -> Vec<(String, String)> {
    let mut order = Vec::new();
    let s = env.model.secrets.get(secret);
    if s.is_some_and(|s| s.kind == SecretType::DockerRegistry) && data_key == DOCKER_CONFIG_KEY {
        for k in ["username", "password"] {
            visit(env, secret.as_str(), k, &mut order, 0);
        }
    } else {
        visit(env, secret.as_str(), data_key, &mut order, 0);
    }
    order
}

fn visit(
    env: &Environment,
    secret: &str,
    key: &str,
    order: &mut Vec<(String, String)>,
    depth: usize,
) {
    let id = (secret.to_owned(), key.to_owned());
    if order.contains(&id) || depth > 16 {
        return;
    }
    if let Some(KeySource::Template(t)) =
        env.model.secrets.get(secret).and_then(|s| s.keys.get(key))
    {
        for part in t.parts().unwrap_or_default() {
            if let TemplatePart::Key { secret: s, key: k } = part {
                let s = s.unwrap_or_else(|| secret.to_owned());
                visit(env, &s, &k, order, depth + 1);
            }
        }
    }
    if !order.contains(&id) {
        order.push(id);
    }
}

/// Whether `secret.key` is put into a URL template of any secret. Asking about many
/// keys, use [`UrlKeys`].
pub fn used_in_url(env: &Environment, secret: &str, key: &str) -> bool {
    UrlKeys::of(env).contains(secret, key)
}

/// The secret keys whose values some URL template of an environment uses.
#[derive(Debug, Default)]
pub struct UrlKeys(BTreeSet<(String, String)>);

impl UrlKeys {
    /// The keys of `env`.
    pub fn of(env: &Environment) -> UrlKeys {
        let mut keys = BTreeSet::new();
        for (name, s) in &env.model.secrets {
            for source in s.keys.values() {
                let KeySource::Template(t) = source else {
                    continue;
                };
                if !t.is_url() {
                    continue;
                }
                for part in t.parts().unwrap_or_default() {
                    if let TemplatePart::Key { secret, key } = part {
                        keys.insert((secret.unwrap_or_else(|| name.to_string()), key));
                    }
                }
            }
        }
        UrlKeys(keys)
    }

    /// Whether `secret.key` is one of them.
    pub fn contains(&self, secret: &str, key: &str) -> bool {
        // A BTreeSet of owned pairs cannot be asked with borrowed ones; the set is
        // small next to what builds it.
        self.0
            .range((secret.to_owned(), key.to_owned())..)
            .next()
            .is_some_and(|(s, k)| s == secret && k == key)
    }
}
