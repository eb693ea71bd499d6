//! The rule registry. Adding a rule: a new file here, one line in [`RULES`], a
//! fixture pair in `tests/lint/`.

use super::Rule;

mod broker_without_persistence;
mod dangling_reference;
mod database_without_backup;
mod env_from_secret;
mod external_name_ip;
mod hand_patch;
mod insecure_registry;
mod lan_registry_hosted_runner;
mod latest_image_tag;
mod mariadb_health_client;
mod missing_probes;
mod missing_pull_secret;
mod missing_resources;
mod orphan_object;
mod postgres_data_mount;
mod postgres_password_change;
mod promoted_build_args;
mod publish_on_cluster;
mod runs_as_root;
mod unsortable_image_tag;
mod url_unsafe_secret;
mod writable_root_fs;

/// Every lint rule.
pub static RULES: &[&dyn Rule] = &[
    &latest_image_tag::LatestImageTag,
    &missing_probes::MissingProbes,
    &missing_resources::MissingResources,
    &writable_root_fs::WritableRootFs,
    &missing_pull_secret::MissingPullSecret,
    &runs_as_root::RunsAsRoot,
    &database_without_backup::DatabaseWithoutBackup,
    &insecure_registry::InsecureRegistry,
    &orphan_object::OrphanObject,
    &postgres_data_mount::PostgresDataMount,
    &env_from_secret::EnvFromSecret,
    &external_name_ip::ExternalNameIp,
    &unsortable_image_tag::UnsortableImageTag,
    &dangling_reference::DanglingReference,
    &url_unsafe_secret::UrlUnsafeSecret,
    &promoted_build_args::PromotedBuildArgs,
    &lan_registry_hosted_runner::LanRegistryHostedRunner,
    &postgres_password_change::PostgresPasswordChange,
    &hand_patch::HandPatch,
    &publish_on_cluster::PublishOnCluster,
    &mariadb_health_client::MariadbHealthClient,
    &broker_without_persistence::BrokerWithoutPersistence,
];
