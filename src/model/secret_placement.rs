//! Where each secret must exist: one function, [`placements`], that every consumer
//! (the `secrets` target, `kiln seal`, the availability checks, `seal.sh`) asks.
//!
//! Today a secret is placed
//! - in the namespace of every app on a cluster that lists it in `usedBy`;
//! - as a registry's `pullSecret`, in every namespace with an app that pulls from that
//!   registry when the registry is private.
//!
//! Adding a source (for example the registry credentials in `flux-system` of every
//! cluster whose apps use Flux image automation) is one function that pushes
//! `(cluster, namespace, secret, Reason)` entries, called from [`placements`], plus a
//! [`Reason`] variant saying why.

use crate::model::{Environment, Name, Placement as AppPlacement};
use std::collections::BTreeMap;

/// Why a secret is in a namespace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// The app (in this namespace) lists the secret in `usedBy`.
    UsedBy(Name),
    /// The app (in this namespace) pulls its image from a private registry whose
    /// `pullSecret` this is.
    PullSecret {
        /// The app.
        app: Name,
        /// The registry.
        registry: Name,
    },
    /// The app runs on a host, and its deploy Job (in this namespace) logs in to the
    /// host with this SSH key.
    DeployKey {
        /// The app.
        app: Name,
        /// The host.
        host: Name,
    },
    /// Flux image automation (in `flux-system`) scans the private registry the app's
    /// image comes from with this pull secret.
    ImageAutomation {
        /// The app.
        app: Name,
        /// The registry.
        registry: Name,
    },
}

impl Reason {
    /// The app that needs the secret there.
    pub fn app(&self) -> &Name {
        match self {
            Reason::UsedBy(app)
            | Reason::PullSecret { app, .. }
            | Reason::DeployKey { app, .. }
            | Reason::ImageAutomation { app, .. } => app,
        }
    }
}

/// One secret in one namespace of one cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretPlacement {
    /// The cluster.
    pub cluster: Name,
    /// The namespace.
    pub namespace: String,
    /// The secret (a name under `secrets`).
    pub secret: Name,
    /// Why it is there, sorted.
    pub reasons: Vec<Reason>,
}

type Key = (Name, String, Name);

/// Every placement of every secret of an environment, sorted by cluster, namespace
/// and secret name. Secrets the model does not define are left out (the reference
/// checks report them).
pub fn placements(env: &Environment) -> Vec<SecretPlacement> {
    let mut found: BTreeMap<Key, Vec<Reason>> = BTreeMap::new();
    used_by(env, &mut found);
    pull_secrets(env, &mut found);
    deploy_keys(env, &mut found);
    image_automation(env, &mut found);
    found
        .into_iter()
        .filter(|((_, _, secret), _)| env.model.secrets.contains_key(secret))
        .map(|((cluster, namespace, secret), mut reasons)| {
            reasons.sort();
            reasons.dedup();
            SecretPlacement {
                cluster,
                namespace,
                secret,
                reasons,
            }
        })
        .collect()
}

/// The cluster and namespace of an enabled app, if it runs on a cluster.
fn app_namespace(env: &Environment, app: &Name) -> Option<(Name, String)> {
    let m = &env.model;
    let a = m.apps.get(app).filter(|a| a.enabled)?;
    match m.placement(a)? {
        AppPlacement::Cluster(cluster, _) => {
            Some((cluster.clone(), m.namespace(&env.name, app, a)))
        }
        AppPlacement::Host(..) => None,
    }
}

fn used_by(env: &Environment, found: &mut BTreeMap<Key, Vec<Reason>>) {
    for (name, secret) in &env.model.secrets {
        for app in &secret.used_by {
            if let Some((cluster, namespace)) = app_namespace(env, app) {
                found
                    .entry((cluster, namespace, name.clone()))
                    .or_default()
                    .push(Reason::UsedBy(app.clone()));
            }
        }
    }
}

fn pull_secrets(env: &Environment, found: &mut BTreeMap<Key, Vec<Reason>>) {
    let m = &env.model;
    for (app, a) in m.enabled_apps() {
        let Some(image) = &a.image else { continue };
        let Some(registry) = m.registries.get(&image.registry) else {
            continue;
        };
        let Some(secret) = registry.pull_secret.as_ref().filter(|_| registry.private) else {
            continue;
        };
        if let Some((cluster, namespace)) = app_namespace(env, app) {
            found
                .entry((cluster, namespace, secret.clone()))
                .or_default()
                .push(Reason::PullSecret {
                    app: app.clone(),
                    registry: image.registry.clone(),
                });
        }
    }
}

fn deploy_keys(env: &Environment, found: &mut BTreeMap<Key, Vec<Reason>>) {
    for unit in crate::model::placement::cluster_apps(env) {
        let Some((host_name, host)) = unit.host else {
            continue;
        };
        let Some(from) = host.deploy_from.as_ref().filter(|_| unit.has_job()) else {
            continue;
        };
        found
            .entry((
                unit.cluster_name.clone(),
                unit.namespace.clone(),
                from.ssh_key.clone(),
            ))
            .or_default()
            .push(Reason::DeployKey {
                app: unit.name.clone(),
                host: host_name.clone(),
            });
    }
}

fn image_automation(env: &Environment, found: &mut BTreeMap<Key, Vec<Reason>>) {
    let m = &env.model;
    for unit in crate::model::placement::cluster_apps(env) {
        let Some(image) = unit
            .app
            .image
            .as_ref()
            .filter(|_| unit.app.flux_picks_tag())
        else {
            continue;
        };
        if unit.cluster.flux.is_none() {
            continue;
        }
        let Some(registry) = m.registries.get(&image.registry) else {
            continue;
        };
        let Some(secret) = registry.pull_secret.as_ref().filter(|_| registry.private) else {
            continue;
        };
        found
            .entry((
                unit.cluster_name.clone(),
                crate::model::placement::FLUX_NAMESPACE.to_owned(),
                secret.clone(),
            ))
            .or_default()
            .push(Reason::ImageAutomation {
                app: unit.name.clone(),
                registry: image.registry.clone(),
            });
    }
}

/// The registry whose `pullSecret` a secret is (for composing `.dockerconfigjson`).
pub fn registry_of<'a>(env: &'a Environment, secret: &Name) -> Option<(&'a Name, &'a str)> {
    env.model
        .registries
        .iter()
        .find(|(_, r)| r.pull_secret.as_ref() == Some(secret))
        .map(|(name, r)| (name, r.host.as_str()))
}
