//! Where apps are placed: which apps have objects on a cluster in an environment
//! (apps running there, and host apps a cluster routes to or deploys), and which
//! environments use each host; derived from the model alone, for every target and check
//! that asks.

use crate::model::{
    App, Cluster, Environment, Host, Name, Placement, Project, Route, TagAutomation,
};
use std::collections::BTreeMap;

/// The namespace of Flux's own objects (image automation, the Sealed Secrets
/// controller's HelmRelease).
pub const FLUX_NAMESPACE: &str = "flux-system";

/// The name `deploy.sh caddy` uses for the host's Caddy project (so no app or stack on a
/// host may take it).
pub const CADDY_PROJECT: &str = "caddy";

/// An app that has objects on a cluster in one environment.
pub struct ClusterApp<'a> {
    /// The environment.
    pub env: &'a Environment,
    /// The app's name.
    pub name: &'a Name,
    /// The app.
    pub app: &'a App,
    /// The cluster's name.
    pub cluster_name: &'a Name,
    /// The cluster.
    pub cluster: &'a Cluster,
    /// The app's namespace on the cluster.
    pub namespace: String,
    /// The host the app runs on, when it does not run on the cluster.
    pub host: Option<(&'a Name, &'a Host)>,
}

impl<'a> ClusterApp<'a> {
    /// Whether the app's objects include a Job (which Flux recreates on a change: each
    /// Job carries the force annotation, `AppCx::job_meta`).
    pub fn has_job(&self) -> bool {
        match self.host {
            None => self.app.migrations.is_some(),
            Some((_, host)) => self.deploys(host),
        }
    }

    /// Whether the cluster runs the deploy Job of this host app.
    pub fn deploys(&self, host: &Host) -> bool {
        host.deploy_from
            .as_ref()
            .is_some_and(|d| &d.cluster == self.cluster_name)
            && self.app.automation() == TagAutomation::Flux
    }

    /// The routes this cluster serves for the app.
    pub fn routes(&self) -> Vec<(&'a Name, &'a Route)> {
        self.app
            .routes
            .iter()
            .filter(|(_, r)| match (&r.via, self.host) {
                (Some(via), _) => via == self.cluster_name,
                (None, host) => host.is_none(),
            })
            .collect()
    }
}

/// Every app with objects on a cluster in `env`: apps running on a cluster, and apps
/// on hosts that a cluster routes to (`via`) or deploys (`deployFrom`).
pub fn cluster_apps(env: &Environment) -> Vec<ClusterApp<'_>> {
    env.model
        .enabled_apps()
        .filter_map(|(name, app)| cluster_app_of(env, name, app))
        .collect()
}

/// App `name` of `env`, if it is enabled and has objects on a cluster (see
/// [`cluster_apps`]).
pub fn cluster_app<'a>(env: &'a Environment, name: &Name) -> Option<ClusterApp<'a>> {
    let (name, app) = env.model.apps.get_key_value(name)?;
    if !app.enabled {
        return None;
    }
    cluster_app_of(env, name, app)
}

fn cluster_app_of<'a>(
    env: &'a Environment,
    name: &'a Name,
    app: &'a App,
) -> Option<ClusterApp<'a>> {
    let m = &env.model;
    let (cluster_name, cluster, host) = match m.placement(app)? {
        Placement::Cluster(cluster_name, cluster) => (cluster_name, cluster, None),
        Placement::Host(host_name, host) => {
            let via = app.routes.values().filter_map(|r| r.via.as_ref());
            let deploy = host
                .deploy_from
                .as_ref()
                .map(|d| &d.cluster)
                .filter(|_| app.automation() == TagAutomation::Flux);
            let mut clusters: Vec<&Name> = via.chain(deploy).collect();
            clusters.sort();
            clusters.dedup();
            // One cluster per app and environment; `validate::references` reports more.
            let (cluster_name, cluster) = clusters
                .first()
                .and_then(|c| m.clusters.get_key_value(*c))?;
            (cluster_name, cluster, Some((host_name, host)))
        }
    };
    Some(ClusterApp {
        env,
        name,
        app,
        cluster_name,
        cluster,
        namespace: m.namespace(&env.name, name, app),
        host,
    })
}

/// The environments that place an enabled app or stack on each host.
pub fn host_users(project: &Project) -> BTreeMap<Name, Vec<&Environment>> {
    let mut users: BTreeMap<Name, Vec<&Environment>> = BTreeMap::new();
    for env in &project.environments {
        let m = &env.model;
        let mut hosts: Vec<&Name> = m
            .enabled_apps()
            .filter_map(|(_, a)| match m.placement(a) {
                Some(Placement::Host(n, _)) => Some(n),
                _ => None,
            })
            .chain(
                m.enabled_stacks()
                    .filter_map(|(_, s)| m.stack_host(s).map(|(n, _)| n)),
            )
            .collect();
        hosts.sort();
        hosts.dedup();
        for h in hosts {
            users.entry(h.clone()).or_default().push(env);
        }
    }
    users
}
