//! CI: how an app's image is built, tested and deployed, and the pipeline of the
//! repository that holds this model.
//!
//! An app's `build` is split by how it varies: the source repository, its CI system,
//! tests, runner and path filters belong to the app (every environment must agree: one
//! repository has one pipeline); the branch, build arguments and promotion belong to
//! each environment, set in its file like any other value.

use super::Name;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn dot() -> String {
    ".".to_owned()
}

/// How CI builds the app's image (and, for `image.automation: push`, deploys it).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Build {
    /// The app's source repository, e.g. `https://gitlab.example.com/team/app`. Its
    /// pipeline file is written under `out/pipelines/<app>/`, to be copied there.
    pub repository: String,
    /// The CI system of that repository.
    pub ci: CiProvider,
    /// The directory the image is built from, relative to the repository root.
    #[serde(default = "dot")]
    #[schemars(regex(pattern = r"^[^\s]+$"))]
    pub context: String,
    /// The Dockerfile, relative to the repository root. Defaults to
    /// `<context>/Dockerfile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[^\s]+$"))]
    pub dockerfile: Option<String>,
    /// Build arguments (`--build-arg NAME=value`), e.g. `NEXT_PUBLIC_APP_URL:
    /// https://app.${domain}`. Set per environment in its file; values are written into
    /// the CI file, so never put a secret here (use `secrets`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    /// Build secrets (`RUN --mount=type=secret,id=<id>` in the Dockerfile): secret id →
    /// the name of the CI secret (GitHub) or variable (GitLab) holding the value. kiln
    /// writes only the name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, CiVariable>,
    /// Checks that must pass before an image is built, by job name. They run on every
    /// push to a branch that builds, and on merge requests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tests: BTreeMap<Name, TestJob>,
    /// The branch whose pushes build (and deploy) this environment, e.g. `develop` in
    /// dev and `main` in prod. One branch builds at most one environment of an app.
    pub branch: String,
    /// Build only when a change touches one of these paths (glob patterns, e.g.
    /// `frontend/**`). Both GitHub (`paths`) and GitLab (`rules:changes`) support it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Changes that alone do not trigger a build (glob patterns, e.g. `docs/**`).
    /// GitHub only (`paths-ignore`): GitLab's `rules:changes` cannot exclude paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths_ignore: Vec<String>,
    /// Where the jobs run: the provider's hosted runners, or a self-hosted runner
    /// picked by its labels (GitHub) or tags (GitLab).
    #[serde(default)]
    pub runner: Runner,
    /// Do not build for this environment: deploy the image that environment
    /// `promoteFrom` built from the same commit (tagged again in this environment's
    /// format). Both environments must have the same build arguments and secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promote_from: Option<Name>,
}

impl Build {
    /// The Dockerfile path, relative to the repository root.
    pub fn dockerfile_path(&self) -> String {
        self.dockerfile.clone().unwrap_or_else(|| {
            let context = self.context.trim_end_matches('/');
            if context == "." || context.is_empty() {
                "Dockerfile".to_owned()
            } else {
                format!("{context}/Dockerfile")
            }
        })
    }
}

/// A CI system.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum CiProvider {
    /// GitHub Actions: a workflow under `.github/workflows/`.
    Github,
    /// GitLab CI: `.gitlab-ci.yml`.
    Gitlab,
}

impl CiProvider {
    /// The provider's name for people.
    pub fn title(self) -> &'static str {
        match self {
            CiProvider::Github => "GitHub Actions",
            CiProvider::Gitlab => "GitLab CI",
        }
    }
}

/// The name of a CI secret or variable, e.g. `HARBOR_PASSWORD`.
pub type CiVariable = String;

/// A check job: commands run in a container image.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TestJob {
    /// `validate` (fast checks: types, lint, audit) runs first, then `test`.
    #[serde(default)]
    pub stage: TestStage,
    /// The container image with the toolchain, e.g. `node:22-slim`.
    #[schemars(regex(pattern = r"^[^\s]+$"))]
    pub image: String,
    /// Shell commands, run in order from the repository root.
    #[schemars(length(min = 1))]
    pub run: Vec<String>,
    /// Keep what the commands download between runs, keyed by the lockfile: a package
    /// manager (`npm`, `yarn`, `bun`, `pip`, `uv`, `cargo`, `go`), or
    /// `{manager, paths, lockfiles}` for a lockfile elsewhere or directories the
    /// commands fill themselves (e.g. pnpm's store after `pnpm config set store-dir
    /// .pnpm-store`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<super::DependencyCache>,
}

/// When a check job runs.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TestStage {
    /// Fast checks (type-check, lint, audit).
    Validate,
    /// Tests.
    #[default]
    Test,
}

/// Where CI jobs run: `hosted`, or `{selfHosted: [labels]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Runner {
    /// The provider's hosted runners (`hosted`). They reach only public registries
    /// and clusters.
    #[default]
    #[serde(with = "hosted")]
    #[schemars(with = "HostedRunner")]
    Hosted,
    /// A self-hosted runner.
    SelfHosted(SelfHosted),
}

/// A self-hosted runner, by its labels.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SelfHosted {
    /// The labels (GitHub; `self-hosted` is added) or tags (GitLab) that pick the
    /// runner, e.g. `[linux, x64, lan]`. An `arm64` or `x64` label says the runner's
    /// architecture (x64 when none does).
    pub self_hosted: Vec<String>,
}

/// The word `hosted`.
#[derive(JsonSchema)]
#[expect(dead_code, reason = "only its schema is used")]
enum HostedRunner {
    /// The provider's hosted runners.
    #[serde(rename = "hosted")]
    Hosted,
}

mod hosted {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("hosted")
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        let s = String::deserialize(d)?;
        if s == "hosted" {
            Ok(())
        } else {
            Err(D::Error::custom("expected `hosted`"))
        }
    }
}

impl Runner {
    /// The self-hosted runner's labels, or `None` for hosted runners.
    pub fn labels(&self) -> Option<&[String]> {
        match self {
            Runner::Hosted => None,
            Runner::SelfHosted(s) => Some(&s.self_hosted),
        }
    }
}

/// The pipeline of the repository that holds `environments/` and `out/`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RepositoryCi {
    /// The repository's CI system.
    pub provider: CiProvider,
    /// A container image with `kiln`, `git`, `kubectl` and a POSIX shell. This
    /// repository's pipeline runs `kiln check` and `kiln diff` in it; push-deploy jobs
    /// run the migration, `kiln set-image` and `kubectl set image` in it.
    #[schemars(regex(pattern = r"^[^\s]+$"))]
    pub image: String,
    /// Where this repository's jobs run.
    #[serde(default)]
    pub runner: Runner,
    /// The CI secret (GitHub) or variable (GitLab), in each app repository that deploys
    /// with `kiln set-image`, holding a token that may push to this repository.
    #[serde(default = "default_token")]
    #[schemars(regex(pattern = r"^[A-Z_][A-Z0-9_]*$"))]
    pub push_token: CiVariable,
}

fn default_token() -> String {
    "CONFIG_REPO_TOKEN".to_owned()
}

/// The names of the CI secrets (GitHub) or variables (GitLab) holding a registry's
/// push credentials.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CiCredentials {
    /// The user name's variable, e.g. `HARBOR_USERNAME` or GitLab's `CI_REGISTRY_USER`.
    #[schemars(regex(pattern = r"^[A-Z_][A-Z0-9_]*$"))]
    pub username: CiVariable,
    /// The password's (or token's) variable, e.g. `HARBOR_PASSWORD` or
    /// `CI_REGISTRY_PASSWORD`.
    #[schemars(regex(pattern = r"^[A-Z_][A-Z0-9_]*$"))]
    pub password: CiVariable,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_is_the_word_hosted_or_a_label_list() {
        let hosted: Runner = serde_json::from_str("\"hosted\"").unwrap();
        assert_eq!(hosted, Runner::Hosted);
        let own: Runner = serde_json::from_str(r#"{"selfHosted": ["lan"]}"#).unwrap();
        assert_eq!(own.labels(), Some(&["lan".to_owned()][..]));
        assert!(serde_json::from_str::<Runner>("\"cloud\"").is_err());
        assert_eq!(
            serde_json::to_string(&Runner::Hosted).unwrap(),
            "\"hosted\""
        );
    }

    #[test]
    fn dockerfile_defaults_to_the_context() {
        let mut b: Build = serde_json::from_value(serde_json::json!({
            "repository": "https://example.com/a", "ci": "github", "branch": "main"
        }))
        .unwrap();
        assert_eq!(b.dockerfile_path(), "Dockerfile");
        b.context = "frontend/".into();
        assert_eq!(b.dockerfile_path(), "frontend/Dockerfile");
    }
}
