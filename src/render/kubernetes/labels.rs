//! The labels every object kiln writes carries.

use std::collections::BTreeMap;

/// `app.kubernetes.io/name`.
pub const NAME: &str = "app.kubernetes.io/name";
/// `app.kubernetes.io/part-of`.
pub const PART_OF: &str = "app.kubernetes.io/part-of";
/// `app.kubernetes.io/component`.
pub const COMPONENT: &str = "app.kubernetes.io/component";
/// `app.kubernetes.io/managed-by`.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// Standard labels for an object of `name` in `group`, playing `component`.
pub fn standard(name: &str, group: &str, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME.to_owned(), name.to_owned()),
        (PART_OF.to_owned(), group.to_owned()),
        (COMPONENT.to_owned(), component.to_owned()),
        (MANAGED_BY.to_owned(), "kiln".to_owned()),
    ])
}

/// The selector labels for pods of `name`.
pub fn selector(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(NAME.to_owned(), name.to_owned())])
}

/// The app's own pods, not those of its Jobs (migration, scheduled jobs, which carry
/// the app's name too, for the database's NetworkPolicy): what its Service,
/// PodDisruptionBudget and spreading select. (A workload's own selector stays
/// [`selector`]: it cannot change once applied, and a ReplicaSet never adopts a pod
/// a Job owns.)
pub fn app_pods(name: &str) -> BTreeMap<String, String> {
    pods(name, "app")
}

/// The pods of `name` that are its `component` (e.g. a database's server, not its
/// backup runs).
pub fn pods(name: &str, component: &str) -> BTreeMap<String, String> {
    let mut labels = selector(name);
    labels.insert(COMPONENT.to_owned(), component.to_owned());
    labels
}
