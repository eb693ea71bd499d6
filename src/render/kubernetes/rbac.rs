//! The push-deploy pipeline's identity: ServiceAccount, Role, RoleBinding and the
//! token Secret the pipeline authenticates with.
//!
//! The Role is derived from the steps the generated deploy job runs, so it grants no
//! verb the pipeline does not use and lacks none it needs.

use super::{AppCx, Object, labels};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::{BTreeMap, BTreeSet};

/// One thing a deploy job does on the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeployStep {
    /// `kubectl apply` of the migration Job (after deleting the previous run).
    RunMigration,
    /// `kubectl wait --for=condition=complete job/...` and `kubectl logs job/...`.
    WaitMigration,
    /// `kubectl set image deployment/...`.
    SetImage,
    /// `kubectl rollout status deployment/...`.
    WaitRollout,
}

impl DeployStep {
    /// The (API group, resource) → verbs this step needs.
    pub fn permissions(self) -> &'static [(&'static str, &'static str, &'static [&'static str])] {
        match self {
            DeployStep::RunMigration => &[("batch", "jobs", &["create", "delete", "get"])],
            DeployStep::WaitMigration => &[
                ("batch", "jobs", &["get", "list", "watch"]),
                ("", "pods", &["get", "list"]),
                ("", "pods/log", &["get"]),
            ],
            DeployStep::SetImage => &[("apps", "deployments", &["get", "patch"])],
            DeployStep::WaitRollout => &[
                ("apps", "deployments", &["get", "list", "watch"]),
                ("apps", "replicasets", &["get", "list", "watch"]),
                ("", "pods", &["get", "list", "watch"]),
            ],
        }
    }
}

/// The steps an app's deploy job runs.
pub fn steps(cx: &AppCx<'_>) -> Vec<DeployStep> {
    let mut steps = Vec::new();
    if cx.app.migrations.is_some() {
        steps.extend([DeployStep::RunMigration, DeployStep::WaitMigration]);
    }
    steps.extend([DeployStep::SetImage, DeployStep::WaitRollout]);
    steps
}

/// Policy rules granting exactly what `steps` need, merged per resource.
pub fn rules(steps: &[DeployStep]) -> Vec<PolicyRule> {
    let mut by_resource: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for step in steps {
        for (group, resource, verbs) in step.permissions() {
            by_resource
                .entry((group, resource))
                .or_default()
                .extend(verbs.iter().copied());
        }
    }
    by_resource
        .into_iter()
        .map(|((group, resource), verbs)| PolicyRule {
            api_groups: Some(vec![group.to_owned()]),
            resources: Some(vec![resource.to_owned()]),
            verbs: verbs.into_iter().map(str::to_owned).collect(),
            ..Default::default()
        })
        .collect()
}

/// The name of the token Secret of a ServiceAccount.
pub fn token_secret_name(sa: &str) -> String {
    format!("{sa}-token")
}

/// The deploy identity objects, when the app has one.
pub fn objects(cx: &AppCx<'_>) -> Vec<Object> {
    let Some(deploy) = &cx.app.deploy else {
        return Vec::new();
    };
    let sa = deploy.service_account.as_str();
    let meta = |name: &str| ObjectMeta {
        name: Some(name.to_owned()),
        labels: Some(labels::standard(
            cx.name.as_str(),
            cx.group.as_str(),
            "deploy",
        )),
        ..Default::default()
    };
    let account = ServiceAccount {
        metadata: meta(sa),
        automount_service_account_token: Some(false),
        ..Default::default()
    };
    let role = Role {
        metadata: meta(sa),
        rules: Some(rules(&steps(cx))),
    };
    let binding = RoleBinding {
        metadata: meta(sa),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".to_owned()),
            kind: "Role".to_owned(),
            name: sa.to_owned(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_owned(),
            name: sa.to_owned(),
            namespace: Some(cx.namespace.clone()),
            ..Default::default()
        }]),
    };
    let mut token_meta = meta(&token_secret_name(sa));
    token_meta.annotations = Some(BTreeMap::from([(
        "kubernetes.io/service-account.name".to_owned(),
        sa.to_owned(),
    )]));
    let token = Secret {
        metadata: token_meta,
        type_: Some("kubernetes.io/service-account-token".to_owned()),
        ..Default::default()
    };
    vec![
        Object::from(&account),
        Object::from(&role),
        Object::from(&binding),
        Object::from(&token),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verbs(rules: &[PolicyRule], resource: &str) -> Vec<String> {
        rules
            .iter()
            .find(|r| r.resources.as_deref() == Some(&[resource.to_owned()][..]))
            .map(|r| r.verbs.clone())
            .unwrap_or_default()
    }

    #[test]
    fn rules_merge_verbs_per_resource_and_grant_nothing_extra() {
        let r = rules(&[DeployStep::SetImage, DeployStep::WaitRollout]);
        assert_eq!(verbs(&r, "deployments"), ["get", "list", "patch", "watch"]);
        assert!(verbs(&r, "jobs").is_empty());
        assert!(!verbs(&r, "deployments").contains(&"update".to_owned()));
    }
}
