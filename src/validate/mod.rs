//! Checks of the model, before anything is rendered (a broken reference would make
//! rendering meaningless): references between parts of the model, secrets, hosts,
//! values other languages read, and Kubernetes' own value rules. The checks of the
//! rendered output (lint rules, wiring points, among them every secret a pod reads)
//! are [`crate::inspect`].

pub mod backups;
pub mod connections;
pub mod containers;
pub mod data_services;
pub mod database;
pub mod devices;
pub mod files;
pub mod groups;
pub mod health;
pub mod hosts;
pub mod injection;
pub mod jobs;
pub mod kinds;
pub mod kubernetes_rules;
pub mod patches;
pub mod ports;
pub mod references;
pub mod scaling;
pub mod scheduling;
pub mod secrets;
pub mod security;
pub mod volumes;

use crate::diagnostic::Diagnostics;
use crate::model::Project;

/// Checks every environment's references and names, and the values Kubernetes
/// would refuse ([`kubernetes_rules`]).
pub fn model(project: &Project, diags: &mut Diagnostics) {
    for env in &project.environments {
        references::check(env, diags);
        secrets::check(env, diags);
        injection::check(env, diags);
        health::check(env, diags);
        volumes::check(env, diags);
        scaling::check(env, diags);
        containers::check(env, diags);
        kinds::check(env, diags);
        jobs::check(env, diags);
        ports::check(env, diags);
        security::check(env, diags);
        backups::check(env, diags);
        database::check(env, diags);
        connections::check(env, diags);
        data_services::check(env, diags);
        files::check(env, diags);
        groups::check(env, diags);
        scheduling::check(env, diags);
        devices::check(env, diags);
        patches::check(env, diags);
    }
    secrets::check_project(project, diags);
    hosts::check(project, diags);
    kubernetes_rules::check(project, diags);
}
