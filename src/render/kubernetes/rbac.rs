//! The push-deploy pipeline's identity: ServiceAccount, Role, RoleBinding and the
//! token Secret the pipeline authenticates with.
//!
//! The deploy job is a list of [`DeployStep`]s. Each step says which commands it runs
//! ([`DeployStep::commands`], what the `pipelines` target writes into the job) and
//! which permissions those commands need ([`DeployStep::permissions`], what the Role
//! grants), side by side, so the Role grants no verb the pipeline does not use and
//! lacks none it needs. `tests/pipelines.rs` checks the generated jobs' `kubectl`
//! commands against the generated Role.

use super::{AppCx, Object, labels};
use crate::model::WorkloadKind;
use crate::render::templates::shell_quote;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::{BTreeMap, BTreeSet};

/// One thing a deploy job does on the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeployStep {
    /// Deletes the previous migration run, then creates the migration Job with the new
    /// image.
    RunMigration,
    /// Waits for the migration Job to complete and prints its logs.
    WaitMigration,
    /// `kubectl set image deployment/...` (or `statefulset/`, `daemonset/`: the app's
    /// `kind`).
    SetImage,
    /// `kubectl rollout status deployment/...` (or the app's `kind`); on failure, lists
    /// the Pods (and a Deployment's ReplicaSets) so the job log shows what is stuck.
    WaitRollout,
}

/// What a deploy job's commands act on.
#[derive(Clone, Debug)]
pub struct DeployTarget {
    /// The app's workload (and its container).
    pub deployment: String,
    /// The kind of that workload.
    pub kind: WorkloadKind,
    /// The label selector of the app's pods.
    pub selector: String,
    /// A shell word for the new image reference, e.g. `"$IMAGE:$TAG"`.
    pub image: String,
    /// The migration Job the pipeline runs.
    pub migration_job: String,
    /// The migration Job's container.
    pub migration_container: String,
    /// Where the job finds the generated migration Job manifest (a model value: the
    /// commands name it through their `word`).
    pub migration_file: String,
    /// Seconds to wait for the migration (its `activeDeadlineSeconds` plus a margin).
    pub migration_timeout: u32,
}

/// The file a deploy job writes the migration Job with its new image to.
const MIGRATION_MANIFEST: &str = "migration-job.yaml";

impl DeployStep {
    /// The shell commands this step runs (POSIX sh, each item one command or compound
    /// command; the job stops at the first failure). `word(var, value)` is the shell
    /// word for a model value (quoted in place, or a variable the CI binds).
    pub fn commands(
        self,
        t: &DeployTarget,
        word: &mut dyn FnMut(&str, &str) -> String,
    ) -> Vec<String> {
        let job = format!("job/{}", t.migration_job);
        let deployment = format!("{}/{}", t.kind.as_str(), t.deployment);
        let listed = if t.kind == WorkloadKind::Deployment {
            "replicasets,pods"
        } else {
            "pods"
        };
        match self {
            DeployStep::RunMigration => vec![
                format!("kubectl delete {job} --ignore-not-found --wait=true --timeout=120s"),
                format!(
                    "kubectl set image --local -f {} {}={} -o yaml > {MIGRATION_MANIFEST}",
                    word("KILN_MIGRATION_FILE", &t.migration_file),
                    t.migration_container,
                    t.image
                ),
                format!("kubectl create -f {MIGRATION_MANIFEST}"),
            ],
            DeployStep::WaitMigration => vec![format!(
                "if kubectl wait --for=condition=complete --timeout={}s {job}; then\n  kubectl logs {job} --all-containers=true\nelse\n  kubectl logs {job} --all-containers=true || true\n  echo \"the migration did not complete; the app was not changed\" >&2\n  exit 1\nfi",
                t.migration_timeout
            )],
            DeployStep::SetImage => vec![format!(
                "kubectl set image {deployment} {}={}",
                t.deployment, t.image
            )],
            DeployStep::WaitRollout => vec![format!(
                "if ! kubectl rollout status {deployment} --timeout=300s; then\n  kubectl get {listed} --selector={}\n  exit 1\nfi",
                shell_quote(&t.selector)
            )],
        }
    }

    /// The (API group, resource) → verbs the step's commands need:
    /// - `delete --wait` deletes, then gets, lists and watches until the Job is gone;
    ///   `set image --local` works on the file; `create -f` creates;
    /// - `wait` gets, lists and watches the Job; `logs job/...` gets the Job, lists
    ///   (and, while none exists, watches) its pods and reads `pods/log`;
    /// - `set image` gets and patches the workload (of `kind`);
    /// - `rollout status` gets, lists and watches it; the failure listing lists Pods
    ///   (and a Deployment's ReplicaSets).
    pub fn permissions(
        self,
        kind: WorkloadKind,
    ) -> &'static [(&'static str, &'static str, &'static [&'static str])] {
        match self {
            DeployStep::RunMigration => &[(
                "batch",
                "jobs",
                &["create", "delete", "get", "list", "watch"],
            )],
            DeployStep::WaitMigration => &[
                ("batch", "jobs", &["get", "list", "watch"]),
                ("", "pods", &["list", "watch"]),
                ("", "pods/log", &["get"]),
            ],
            DeployStep::SetImage => match kind {
                WorkloadKind::Deployment => &[("apps", "deployments", &["get", "patch"])],
                WorkloadKind::StatefulSet => &[("apps", "statefulsets", &["get", "patch"])],
                WorkloadKind::DaemonSet => &[("apps", "daemonsets", &["get", "patch"])],
                // No deploy job deploys a jobs-only app (the model checks say so).
                WorkloadKind::Jobs => &[],
            },
            DeployStep::WaitRollout => match kind {
                WorkloadKind::Deployment => &[
                    ("apps", "deployments", &["get", "list", "watch"]),
                    ("apps", "replicasets", &["list"]),
                    ("", "pods", &["list"]),
                ],
                WorkloadKind::StatefulSet => &[
                    ("apps", "statefulsets", &["get", "list", "watch"]),
                    ("", "pods", &["list"]),
                ],
                WorkloadKind::DaemonSet => &[
                    ("apps", "daemonsets", &["get", "list", "watch"]),
                    ("", "pods", &["list"]),
                ],
                WorkloadKind::Jobs => &[],
            },
        }
    }
}

/// The steps an app's deploy job runs.
pub fn steps(cx: &AppCx<'_>) -> Vec<DeployStep> {
    steps_for(cx.app)
}

/// The steps the deploy job of `app` runs.
pub fn steps_for(app: &crate::model::App) -> Vec<DeployStep> {
    let mut steps = Vec::new();
    if app.migrations.is_some() {
        steps.extend([DeployStep::RunMigration, DeployStep::WaitMigration]);
    }
    steps.extend([DeployStep::SetImage, DeployStep::WaitRollout]);
    steps
}

/// Policy rules granting exactly what `steps` need on a workload of `kind`, merged
/// per resource.
pub fn rules(steps: &[DeployStep], kind: WorkloadKind) -> Vec<PolicyRule> {
    let mut by_resource: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for step in steps {
        for (group, resource, verbs) in step.permissions(kind) {
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
        rules: Some(rules(&steps(cx), cx.app.kind)),
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
        let steps = [DeployStep::SetImage, DeployStep::WaitRollout];
        let r = rules(&steps, WorkloadKind::Deployment);
        assert_eq!(verbs(&r, "deployments"), ["get", "list", "patch", "watch"]);
        assert_eq!(verbs(&r, "replicasets"), ["list"]);
        assert!(verbs(&r, "jobs").is_empty());
        assert!(!verbs(&r, "deployments").contains(&"update".to_owned()));
    }

    #[test]
    fn a_stateful_set_is_rolled_out_as_one() {
        let steps = [DeployStep::SetImage, DeployStep::WaitRollout];
        let r = rules(&steps, WorkloadKind::StatefulSet);
        assert_eq!(verbs(&r, "statefulsets"), ["get", "list", "patch", "watch"]);
        assert!(verbs(&r, "deployments").is_empty());
        assert!(verbs(&r, "replicasets").is_empty());
        let t = DeployTarget {
            deployment: "db".into(),
            kind: WorkloadKind::DaemonSet,
            selector: "app.kubernetes.io/name=db".into(),
            image: "\"$IMAGE:$TAG\"".into(),
            migration_job: "db-migrate-ci".into(),
            migration_container: "migrate".into(),
            migration_file: "x.yaml".into(),
            migration_timeout: 660,
        };
        let wait = DeployStep::WaitRollout.commands(&t, &mut |_, v| shell_quote(v));
        assert!(
            wait[0].contains("kubectl rollout status daemonset/db "),
            "{wait:?}"
        );
        assert!(wait[0].contains("kubectl get pods "), "{wait:?}");
    }

    #[test]
    fn every_step_runs_kubectl() {
        let t = DeployTarget {
            deployment: "web".into(),
            kind: WorkloadKind::Deployment,
            selector: "app.kubernetes.io/name=web".into(),
            image: "\"$IMAGE:$TAG\"".into(),
            migration_job: "web-migrate-ci".into(),
            migration_container: "migrate".into(),
            migration_file: "config/out/pipelines/web/deploy/prod/job-web-migrate-ci.yaml".into(),
            migration_timeout: 660,
        };
        for step in [
            DeployStep::RunMigration,
            DeployStep::WaitMigration,
            DeployStep::SetImage,
            DeployStep::WaitRollout,
        ] {
            let commands = step.commands(&t, &mut |_, v| shell_quote(v));
            assert!(
                commands.iter().all(|c| c.contains("kubectl ")),
                "{commands:?}"
            );
            assert!(!step.permissions(WorkloadKind::Deployment).is_empty());
        }
    }
}
