//! Secret checks: the keys each secret type needs,
//! template references, every secret reference available where it is used, no two
//! environments placing the same secret in one namespace, and unused secrets.

use crate::diagnostic::checks::{SECRET_NOT_AVAILABLE, UNUSED_SECRET};
use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::secret_placement::{SecretPlacement, placements};
use crate::model::{
    EnvValue, Environment, KeySource, Name, Placement, Project, SecretType, TemplatePart,
};
use std::collections::{BTreeMap, BTreeSet};

/// Runs the per-environment secret checks.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    let m = &env.model;
    let placed = placements(env);
    for (name, secret) in &m.secrets {
        let at = format!("/secrets/{name}");
        let required = secret.kind.required_keys();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|k| !secret.keys.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!(
                        "secret `{name}` of type `{}` needs the key(s) {}",
                        type_name(secret.kind),
                        quoted(&missing)
                    ),
                )
                .at(env.key_span(&format!("{at}/keys"))),
            );
        }
        if secret.kind == SecretType::DockerRegistry {
            for key in secret
                .keys
                .keys()
                .filter(|k| !required.contains(&k.as_str()))
            {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("a `docker-registry` secret has only `username` and `password`, not `{key}`"),
                    )
                    .at(env.key_span(&format!("{at}/keys/{key}")))
                    .help("kiln composes `.dockerconfigjson` from them and the registry's host"),
                );
            }
            if crate::model::secret_placement::registry_of(env, name).is_none() {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!(
                            "no registry names `{name}` as its `pullSecret`, so its host is unknown"
                        ),
                    )
                    .at(env.key_span(&at))
                    .help(format!(
                        "add `pullSecret: {name}` to the registry these credentials are for"
                    )),
                );
            }
        }
        for (key, source) in &secret.keys {
            if let KeySource::Template(t) = source {
                check_template(env, name, key, t, diags);
            }
        }
    }
    for (registry_name, registry) in &m.registries {
        if let Some(secret) = registry
            .pull_secret
            .as_ref()
            .and_then(|s| m.secrets.get_key_value(s))
            && secret.1.kind != SecretType::DockerRegistry
        {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!(
                        "the pull secret of registry `{registry_name}` is `{}`, which is not of type `docker-registry`",
                        secret.0
                    ),
                )
                .at(env.span(&format!("/registries/{registry_name}/pullSecret")))
                .label(env.key_span(&format!("/secrets/{}", secret.0)), "defined here")
                .help("set `type: docker-registry` on it, with keys `username` and `password`"),
            );
        }
    }
    check_available(env, &placed, diags);
}

fn type_name(kind: SecretType) -> &'static str {
    match kind {
        SecretType::Opaque => "opaque",
        SecretType::DockerRegistry => "docker-registry",
        SecretType::SshKey => "ssh-key",
        SecretType::Tls => "tls",
    }
}

fn quoted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_template(
    env: &Environment,
    secret: &Name,
    key: &str,
    t: &crate::model::TemplateSource,
    diags: &mut Diagnostics,
) {
    let pointer = format!("/secrets/{secret}/keys/{key}/template");
    let parts = match t.parts() {
        Ok(parts) => parts,
        Err(offset) => {
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!("the template of `{secret}.{key}` has a `{{` without `}}` (at character {offset})"),
                )
                .at(env.span(&pointer))
                .help("write `{{` for a literal brace"),
            );
            return;
        }
    };
    let mut cycle_reported = false;
    for part in parts {
        let TemplatePart::Key { secret: s, key: k } = part else {
            continue;
        };
        let target = s.as_deref().unwrap_or(secret.as_str());
        match env.model.secrets.get(target) {
            None => diags.push(
                Diagnostic::error(
                    checks::SECRET_REFERENCE,
                    format!("the template of `{secret}.{key}` uses `{{{target}.{k}}}`, but no secret is named `{target}`"),
                )
                .at(env.span(&pointer))
                .did_you_mean(target, env.model.secrets.keys().map(|n| n.as_str())),
            ),
            Some(other) if !other.keys.contains_key(&k) => diags.push(
                Diagnostic::error(
                    checks::SECRET_REFERENCE,
                    format!("the template of `{secret}.{key}` uses `{target}.{k}`, but secret `{target}` has no key `{k}`"),
                )
                .at(env.span(&pointer))
                .label(env.key_span(&format!("/secrets/{target}")), "secret defined here")
                .did_you_mean(&k, other.keys.keys().map(String::as_str))
                .help(format!(
                    "its keys: {}",
                    other.keys.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            ),
            Some(_) if cycle_reported => {}
            Some(_) => {
                if let Some(cycle) = template_cycle(env, (target, &k), (secret.as_str(), key)) {
                    cycle_reported = true;
                    diags.push(
                        Diagnostic::error(
                            checks::CYCLE,
                            format!("templates use each other in a cycle: {}", cycle.join(" → ")),
                        )
                        .at(env.span(&pointer))
                        .help("a template can use generated, 1Password or manual keys, or templates that do not lead back"),
                    );
                }
            }
        }
    }
}

/// A path of template references from `from` back to `to`, if there is one.
fn template_cycle(env: &Environment, from: (&str, &str), to: (&str, &str)) -> Option<Vec<String>> {
    let mut stack = vec![(
        from.0.to_owned(),
        from.1.to_owned(),
        vec![format!("{}.{}", to.0, to.1)],
    )];
    let mut seen = BTreeSet::new();
    while let Some((s, k, mut path)) = stack.pop() {
        path.push(format!("{s}.{k}"));
        if (s.as_str(), k.as_str()) == to {
            return Some(path);
        }
        if !seen.insert((s.clone(), k.clone())) {
            continue;
        }
        if let Some(KeySource::Template(t)) = env
            .model
            .secrets
            .get(s.as_str())
            .and_then(|x| x.keys.get(&k))
        {
            for part in t.parts().unwrap_or_default() {
                if let TemplatePart::Key {
                    secret: s2,
                    key: k2,
                } = part
                {
                    stack.push((s2.unwrap_or_else(|| s.clone()), k2, path.clone()));
                }
            }
        }
    }
    None
}

/// Every secret an enabled app references, with the JSON pointer of the reference.
fn references(env: &Environment) -> Vec<(Name, Name, String)> {
    let mut refs = Vec::new();
    for (app, a) in env.model.enabled_apps() {
        for (pointer, value) in a.all_env() {
            if let Some(r) = env.model.env_secret(value) {
                let field = if matches!(value, EnvValue::Secret(_)) {
                    "secret"
                } else {
                    "database"
                };
                refs.push((
                    app.clone(),
                    r.secret,
                    format!("/apps/{app}{pointer}/{field}"),
                ));
            }
        }
        if let Some(db) = &a.database {
            refs.push((
                app.clone(),
                db.password.secret.clone(),
                format!("/apps/{app}/database/password/secret"),
            ));
        }
        for (path, file) in &a.files {
            if let Some(r) = &file.secret {
                refs.push((
                    app.clone(),
                    r.secret.clone(),
                    format!(
                        "/apps/{app}/files/{}/secret/secret",
                        crate::pointer::escape(path)
                    ),
                ));
            }
        }
        for (i, secret) in a.env_from.iter().enumerate() {
            refs.push((
                app.clone(),
                secret.clone(),
                format!("/apps/{app}/envFrom/{i}"),
            ));
        }
    }
    refs
}

fn check_available(env: &Environment, placed: &[SecretPlacement], diags: &mut Diagnostics) {
    let m = &env.model;
    for (app, secret, pointer) in references(env) {
        let (Some(a), Some(s)) = (m.apps.get(&app), m.secrets.get(&secret)) else {
            continue;
        };
        let (available, place) = match m.placement(a) {
            Some(Placement::Cluster(cluster, _)) => {
                let ns = m.namespace(&env.name, &app, a);
                let ok = placed
                    .iter()
                    .any(|p| &p.cluster == cluster && p.namespace == ns && p.secret == secret);
                (ok, format!("namespace `{ns}` on cluster `{cluster}`"))
            }
            Some(Placement::Host(host, _)) => (s.used_by.contains(&app), format!("host `{host}`")),
            None => continue,
        };
        if !available {
            diags.push(
                Diagnostic::error(
                    SECRET_NOT_AVAILABLE,
                    format!("secret `{secret}` is not available in {place}, where `{app}` uses it"),
                )
                .at(env.span(&pointer))
                .label(
                    env.key_span(&format!("/secrets/{secret}")),
                    "secret defined here",
                )
                .help(format!("add `{app}` to `usedBy` of secret `{secret}`")),
            );
        }
    }
}

/// The secrets an environment uses: placed on a cluster, listed by an enabled app, or
/// feeding a used secret's templates.
fn used_secrets(env: &Environment) -> BTreeSet<&str> {
    let m = &env.model;
    let placed = placements(env);
    let mut used: BTreeSet<&str> = placed
        .iter()
        .filter_map(|p| {
            m.secrets
                .get_key_value(p.secret.as_str())
                .map(|(k, _)| k.as_str())
        })
        .collect();
    for (name, s) in &m.secrets {
        if s.used_by.iter().any(|user| {
            m.apps.get(user).is_some_and(|a| a.enabled)
                || m.stacks.get(user).is_some_and(|s| s.enabled)
        }) {
            used.insert(name.as_str());
        }
    }
    // A stack reads its secrets through its env file, without `usedBy`.
    for (_, stack) in m.enabled_stacks() {
        let values = stack
            .env
            .values()
            .chain(stack.services.values().flat_map(|s| s.env.values()));
        for value in values {
            if let EnvValue::Secret(r) = value
                && let Some((k, _)) = m.secrets.get_key_value(r.secret.as_str())
            {
                used.insert(k.as_str());
            }
        }
    }
    // A secret whose keys feed a used secret's templates is used too.
    loop {
        let before = used.len();
        for (name, s) in &m.secrets {
            if !used.contains(name.as_str()) {
                continue;
            }
            for source in s.keys.values() {
                if let KeySource::Template(t) = source {
                    for part in t.parts().unwrap_or_default() {
                        if let TemplatePart::Key {
                            secret: Some(other),
                            ..
                        } = part
                            && let Some((k, _)) = m.secrets.get_key_value(other.as_str())
                        {
                            used.insert(k.as_str());
                        }
                    }
                }
            }
        }
        if used.len() == before {
            break;
        }
    }
    used
}

/// Warns about secrets no environment uses (a secret of the shared base that only
/// prod uses is used).
fn check_unused(project: &Project, diags: &mut Diagnostics) {
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for env in &project.environments {
        used.extend(used_secrets(env));
    }
    let mut reported = BTreeSet::new();
    for env in &project.environments {
        for name in env
            .model
            .secrets
            .keys()
            .filter(|n| !used.contains(n.as_str()))
        {
            let at = env.key_span(&format!("/secrets/{name}"));
            if !reported.insert((name.clone(), at)) {
                continue;
            }
            diags.push(
                Diagnostic::warning(UNUSED_SECRET, format!("secret `{name}` is used by no app in any environment"))
                    .at(at)
                    .help("list the apps (or stacks) that need it in `usedBy`, make it a registry's `pullSecret`, or delete it"),
            );
        }
    }
}

/// No two environments may place the same secret in the same namespace of a cluster:
/// both would write it, with different values.
pub fn check_project(project: &Project, diags: &mut Diagnostics) {
    check_unused(project, diags);
    let mut owners: BTreeMap<(Name, String, Name), &Environment> = BTreeMap::new();
    for env in &project.environments {
        for p in placements(env) {
            let key = (p.cluster.clone(), p.namespace.clone(), p.secret.clone());
            match owners.get(&key) {
                // A namespace every environment shares (flux-system) holds one copy.
                Some(first)
                    if p.namespace == crate::model::placement::FLUX_NAMESPACE
                        && first.model.secrets.get(&p.secret) == env.model.secrets.get(&p.secret) => {}
                Some(first) => diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!(
                            "secret `{}` in namespace `{}` on cluster `{}` comes from both `{}` and `{}`",
                            p.secret, p.namespace, p.cluster, first.name, env.name
                        ),
                    )
                    .at(env.key_span(&format!("/secrets/{}", p.secret)))
                    .help("environments that share a cluster need their own namespaces (see `environment.namespaces`)"),
                ),
                None => {
                    owners.insert(key, env);
                }
            }
        }
    }
}
