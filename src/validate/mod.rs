//! Validation beyond the schema: references between parts of the model, and lint
//! rules over the model and its rendered output.
//!
//! [`model`] runs before rendering (a broken reference would make rendering
//! meaningless); [`lint::run`] runs after, so rules can look at generated objects.

pub mod hosts;
pub mod injection;
pub mod kubernetes_rules;
pub mod lint;
pub mod references;
pub mod secret_refs;
pub mod secrets;
pub mod wiring;

use crate::diagnostic::Diagnostics;
use crate::model::Project;

/// Checks every environment's references and names, and the values Kubernetes
/// would refuse ([`kubernetes_rules`]).
pub fn model(project: &Project, diags: &mut Diagnostics) {
    for env in &project.environments {
        references::check(env, diags);
        secrets::check(env, diags);
        injection::check(env, diags);
    }
    secrets::check_project(project, diags);
    hosts::check(project, diags);
    kubernetes_rules::check(project, diags);
}
