//! `groups`: the settings of app groups. A group no enabled or disabled app belongs to
//! is a typo (located, with the group it likely meant), and two groups whose apps
//! share one namespace on one cluster (a `namespaces` pattern without `{group}`)
//! cannot ask for two Pod Security levels: a namespace has one.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{Environment, Placement, PodSecurityLevel};
use crate::suggest;

/// Checks the `groups` of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    let model = &env.model;
    let used: Vec<&str> = model
        .apps
        .iter()
        .map(|(name, app)| model.group(name, app).as_str())
        .collect();
    for group in model.groups.keys() {
        if !used.contains(&group.as_str()) {
            let mut known = used.clone();
            known.sort_unstable();
            known.dedup();
            diags.push(
                Diagnostic::error(
                    checks::UNKNOWN_REFERENCE,
                    format!("`groups` sets group `{group}`, which no app belongs to"),
                )
                .at(env.key_span(&format!("/groups/{group}")))
                .help(suggest::did_you_mean(group.as_str(), known.iter().copied()).unwrap_or_else(
                    || {
                        "an app's group is its `group`, or its own name when it has none; remove the entry or put an app in the group".to_owned()
                    },
                )),
            );
        }
    }

    // One namespace, one level: the level each (cluster, namespace) gets from the
    // first group placed in it, and the first conflicting group.
    let mut levels: BTreeMap<(String, String), (&str, PodSecurityLevel)> = BTreeMap::new();
    let mut reported = Vec::new();
    for (name, app) in model.enabled_apps() {
        let Some(Placement::Cluster(cluster, _)) = model.placement(app) else {
            continue;
        };
        let group = model.group(name, app).as_str();
        let level = model.pod_security_of(group);
        let namespace = model.namespace(&env.name, name, app);
        let key = (cluster.to_string(), namespace.clone());
        let (first, first_level) = *levels.entry(key.clone()).or_insert((group, level));
        if first != group && first_level != level && !reported.contains(&key) {
            reported.push(key);
            let set = if model
                .groups
                .get(group)
                .is_some_and(|g| g.pod_security.is_some())
            {
                group
            } else {
                first
            };
            diags.push(
                Diagnostic::error(
                    checks::INVALID_VALUE,
                    format!(
                        "groups `{first}` (Pod Security `{}`) and `{group}` (`{}`) share namespace `{namespace}` on cluster `{cluster}`, which can enforce one level",
                        first_level.as_str(),
                        level.as_str()
                    ),
                )
                .at(env.key_span(&format!("/groups/{set}/podSecurity")))
                .help("give the groups namespaces of their own (`{group}` in the environment's `namespaces` pattern), or one level"),
            );
        }
    }
}
