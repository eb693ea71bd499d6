//! Flux's kinds kiln writes: the sync (`GitRepository`, `Kustomization`), the Sealed
//! Secrets controller's chart (`HelmRepository`, `HelmRelease`) and image automation
//! (`ImageRepository`, `ImagePolicy`, `ImageUpdateAutomation`).

use super::{Crd, NameRef, Spec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The annotation by which one object asks Flux to recreate it when an immutable field
/// changed (a Job's pod template). kiln never sets `spec.force` on a whole unit: a
/// StatefulSet under it would be deleted and recreated, and its pods with it.
pub const FORCE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/force";

/// A Flux Kustomization (`kustomize.toolkit.fluxcd.io/v1`).
pub type Kustomization = Crd<KustomizationSpec>;
/// A Flux GitRepository (`source.toolkit.fluxcd.io/v1`).
pub type GitRepository = Crd<GitRepositorySpec>;
/// A Flux HelmRepository (`source.toolkit.fluxcd.io/v1`).
pub type HelmRepository = Crd<HelmRepositorySpec>;
/// A Flux HelmRelease (`helm.toolkit.fluxcd.io/v2`).
pub type HelmRelease = Crd<HelmReleaseSpec>;
/// A Flux ImageRepository (`image.toolkit.fluxcd.io/v1`).
pub type ImageRepository = Crd<ImageRepositorySpec>;
/// A Flux ImagePolicy (`image.toolkit.fluxcd.io/v1`).
pub type ImagePolicy = Crd<ImagePolicySpec>;
/// A Flux ImageUpdateAutomation (`image.toolkit.fluxcd.io/v1`).
pub type ImageUpdateAutomation = Crd<ImageUpdateAutomationSpec>;

/// The kinds a Flux object reads its source from.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceKind {
    /// A `GitRepository`.
    #[default]
    GitRepository,
    /// A `HelmRepository`.
    HelmRepository,
    /// An `OCIRepository`.
    #[serde(rename = "OCIRepository")]
    OciRepository,
    /// A `Bucket`.
    Bucket,
}

/// A reference to a source object (`sourceRef`).
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceRef {
    /// `kind`.
    pub kind: SourceKind,
    /// `name`.
    pub name: String,
}

impl SourceRef {
    /// The GitRepository `name`.
    pub fn git(name: &str) -> Self {
        SourceRef {
            kind: SourceKind::GitRepository,
            name: name.to_owned(),
        }
    }
}

/// `spec` of a Flux Kustomization.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct KustomizationSpec {
    /// Kustomizations that must be ready first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<NameRef>,
    /// How often it reconciles, e.g. `10m`.
    pub interval: String,
    /// The directory it applies, relative to the source's root (`./out/...`).
    pub path: String,
    /// Delete what it applied and no longer does.
    pub prune: bool,
    /// The source holding `path`.
    pub source_ref: SourceRef,
    /// How long it may take to become ready.
    pub timeout: String,
    /// Wait for every applied object to become ready.
    pub wait: bool,
}

impl KustomizationSpec {
    /// The folder under `out/` that `path` names (`./out/flux/pi` → `flux/pi`), when
    /// it names one.
    pub fn out_dir(&self) -> Option<&str> {
        self.path
            .split_once("out/")
            .map(|(_, dir)| dir.trim_end_matches('/'))
    }
}

impl Spec for KustomizationSpec {
    const API_VERSION: &'static str = "kustomize.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "Kustomization";
}

/// `spec.ref` of a GitRepository: the branch to follow.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GitRef {
    /// `branch`.
    pub branch: String,
}

/// `spec` of a GitRepository.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GitRepositorySpec {
    /// How often it fetches.
    pub interval: String,
    /// The branch.
    #[serde(rename = "ref")]
    pub git_ref: GitRef,
    /// The Secret with the credentials.
    pub secret_ref: NameRef,
    /// The repository's URL.
    pub url: String,
}

impl Spec for GitRepositorySpec {
    const API_VERSION: &'static str = "source.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "GitRepository";
}

/// `spec` of a HelmRepository.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HelmRepositorySpec {
    /// How often it fetches the index.
    pub interval: String,
    /// The chart repository's URL.
    pub url: String,
}

impl Spec for HelmRepositorySpec {
    const API_VERSION: &'static str = "source.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "HelmRepository";
}

/// What Helm does with a chart's CRDs (`install.crds`, `upgrade.crds`).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CrdPolicy {
    /// Neither install nor replace them.
    Skip,
    /// Create new ones, leave existing ones.
    #[default]
    Create,
    /// Create new ones, replace existing ones.
    CreateReplace,
}

/// `spec.install` and `spec.upgrade` of a HelmRelease.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HelmAction {
    /// `crds`.
    pub crds: CrdPolicy,
}

/// `spec.chart.spec` of a HelmRelease.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ChartSpec {
    /// The chart's name.
    pub chart: String,
    /// Where the chart is.
    pub source_ref: SourceRef,
    /// The chart's version.
    pub version: String,
}

/// `spec.chart` of a HelmRelease.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChartTemplate {
    /// `spec`.
    pub spec: ChartSpec,
}

/// `spec` of a HelmRelease.
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HelmReleaseSpec {
    /// The chart.
    pub chart: ChartTemplate,
    /// Install settings.
    pub install: HelmAction,
    /// How often it reconciles.
    pub interval: String,
    /// The Helm release's name.
    pub release_name: String,
    /// The namespace the chart's objects go to.
    pub target_namespace: String,
    /// Upgrade settings.
    pub upgrade: HelmAction,
    /// The chart's values (free-form, as the chart defines them).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, serde_json::Value>,
}

impl Spec for HelmReleaseSpec {
    const API_VERSION: &'static str = "helm.toolkit.fluxcd.io/v2";
    const KIND: &'static str = "HelmRelease";
}

/// `spec` of an ImageRepository.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ImageRepositorySpec {
    /// The image to scan, without a tag.
    pub image: String,
    /// Plain HTTP registry; written only when set.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// How often it scans.
    pub interval: String,
    /// The registry's pull secret, for a private registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<NameRef>,
}

impl Spec for ImageRepositorySpec {
    const API_VERSION: &'static str = "image.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "ImageRepository";
}

/// `spec.filterTags` of an ImagePolicy.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FilterTags {
    /// The capture group the policy orders by, e.g. `$ts`.
    pub extract: String,
    /// The RE2 pattern a tag must match.
    pub pattern: String,
}

/// Sort order.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Ascending: the greatest is newest.
    #[default]
    Asc,
    /// Descending: the least is newest.
    Desc,
}

/// `spec.policy` of an ImagePolicy: how tags are ordered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagOrder {
    /// By the extracted number.
    Numerical {
        /// `order`.
        order: Order,
    },
    /// By the extracted text.
    Alphabetical {
        /// `order`.
        order: Order,
    },
    /// The highest semantic version in a range.
    Semver {
        /// `range`.
        range: String,
    },
}

/// Numerical, ascending: what kiln writes.
impl Default for TagOrder {
    fn default() -> Self {
        TagOrder::Numerical { order: Order::Asc }
    }
}

/// `spec` of an ImagePolicy.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ImagePolicySpec {
    /// Which tags count and what orders them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_tags: Option<FilterTags>,
    /// The ImageRepository whose tags it reads.
    pub image_repository_ref: NameRef,
    /// How tags are ordered.
    pub policy: TagOrder,
}

impl Spec for ImagePolicySpec {
    const API_VERSION: &'static str = "image.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "ImagePolicy";
}

/// `spec.git.checkout` of an ImageUpdateAutomation.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GitCheckout {
    /// The branch it checks out.
    #[serde(rename = "ref")]
    pub git_ref: GitRef,
}

/// The author of automation's commits.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommitAuthor {
    /// `email`.
    pub email: String,
    /// `name`.
    pub name: String,
}

/// `spec.git.commit` of an ImageUpdateAutomation.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GitCommit {
    /// The commits' author.
    pub author: CommitAuthor,
    /// The commit message, a Go template.
    pub message_template: String,
}

/// `spec.git.push` of an ImageUpdateAutomation.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GitPush {
    /// The branch it pushes to.
    pub branch: String,
}

/// `spec.git` of an ImageUpdateAutomation.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GitUpdate {
    /// What it checks out.
    pub checkout: GitCheckout,
    /// How it commits.
    pub commit: GitCommit,
    /// Where it pushes.
    pub push: GitPush,
}

/// How an ImageUpdateAutomation finds what to update.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpdateStrategy {
    /// The `$imagepolicy` setter markers.
    #[default]
    Setters,
}

/// `spec.update` of an ImageUpdateAutomation.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Update {
    /// The directory it updates, relative to the repository's root.
    pub path: String,
    /// `strategy`.
    pub strategy: UpdateStrategy,
}

/// `spec` of an ImageUpdateAutomation.
#[derive(Clone, Default, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ImageUpdateAutomationSpec {
    /// How it commits and pushes.
    pub git: GitUpdate,
    /// How often it runs.
    pub interval: String,
    /// The repository it updates.
    pub source_ref: SourceRef,
    /// What it updates.
    pub update: Update,
}

impl Spec for ImageUpdateAutomationSpec {
    const API_VERSION: &'static str = "image.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "ImageUpdateAutomation";
}
