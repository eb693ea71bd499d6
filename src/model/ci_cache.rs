//! A check job's dependency cache: what its package manager downloads, kept between
//! runs and keyed by the lockfile, so a check that installs packages does not fetch
//! them all again on every push.
//!
//! Both CI systems get the same cache: the package manager is pointed (by its own
//! environment variable) at a directory under the repository root, `.cache/<manager>`,
//! which GitLab's `cache:` and GitHub's `actions/cache` save and restore (GitLab caches
//! only paths inside the project directory). The key is the job and the lockfiles'
//! contents: a changed lockfile starts a new cache.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A package manager kiln knows the cache directory of.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum PackageManager {
    /// npm (`npm_config_cache`), keyed by `package-lock.json`.
    Npm,
    /// Yarn (`YARN_CACHE_FOLDER`), keyed by `yarn.lock`.
    Yarn,
    /// Bun (`BUN_INSTALL_CACHE_DIR`), keyed by `bun.lock` or `bun.lockb`.
    Bun,
    /// pip (`PIP_CACHE_DIR`), keyed by `requirements.txt`.
    Pip,
    /// uv (`UV_CACHE_DIR`), keyed by `uv.lock`.
    Uv,
    /// Cargo (`CARGO_HOME`: registry index, crates and git checkouts), keyed by
    /// `Cargo.lock`.
    Cargo,
    /// Go (`GOMODCACHE` and `GOCACHE`: modules and build cache), keyed by `go.sum`.
    Go,
}

impl PackageManager {
    /// Its name in the model, e.g. `npm`.
    pub fn name(self) -> &'static str {
        match self {
            PackageManager::Npm => "npm",
            PackageManager::Yarn => "yarn",
            PackageManager::Bun => "bun",
            PackageManager::Pip => "pip",
            PackageManager::Uv => "uv",
            PackageManager::Cargo => "cargo",
            PackageManager::Go => "go",
        }
    }

    /// The environment variables that point it at its cache, each with its directory
    /// relative to the repository root.
    pub fn variables(self) -> &'static [(&'static str, &'static str)] {
        match self {
            PackageManager::Npm => &[("npm_config_cache", ".cache/npm")],
            PackageManager::Yarn => &[("YARN_CACHE_FOLDER", ".cache/yarn")],
            PackageManager::Bun => &[("BUN_INSTALL_CACHE_DIR", ".cache/bun")],
            PackageManager::Pip => &[("PIP_CACHE_DIR", ".cache/pip")],
            PackageManager::Uv => &[("UV_CACHE_DIR", ".cache/uv")],
            PackageManager::Cargo => &[("CARGO_HOME", ".cache/cargo")],
            PackageManager::Go => &[
                ("GOMODCACHE", ".cache/go/mod"),
                ("GOCACHE", ".cache/go/build"),
            ],
        }
    }

    /// The lockfiles whose contents key the cache, at the repository root.
    pub fn lockfiles(self) -> &'static [&'static str] {
        match self {
            PackageManager::Npm => &["package-lock.json"],
            PackageManager::Yarn => &["yarn.lock"],
            PackageManager::Bun => &["bun.lock", "bun.lockb"],
            PackageManager::Pip => &["requirements.txt"],
            PackageManager::Uv => &["uv.lock"],
            PackageManager::Cargo => &["Cargo.lock"],
            PackageManager::Go => &["go.sum"],
        }
    }
}

/// A check's dependency cache: a package manager (`cache: npm`), or its cache
/// directories and lockfiles spelled out.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum DependencyCache {
    /// A package manager, its lockfile at the repository root.
    Manager(PackageManager),
    /// Where the cache is and what keys it.
    Spelled(CacheSpec),
}

/// A dependency cache spelled out.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CacheSpec {
    /// A package manager kiln points at its cache directory. Without one, `paths`
    /// names directories the job's commands fill themselves, e.g. `.pnpm-store` after
    /// `pnpm config set store-dir .pnpm-store`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<PackageManager>,
    /// More directories to keep, relative to the repository root, e.g. `.pnpm-store`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^[A-Za-z0-9._@+][A-Za-z0-9._@+/-]*$")))]
    pub paths: Vec<String>,
    /// The files whose contents key the cache, relative to the repository root, e.g.
    /// `web/package-lock.json` in a repository with more than one project (GitLab takes
    /// at most two). The package manager's own lockfile when not set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^[A-Za-z0-9._@+][A-Za-z0-9._@+/-]*$")))]
    pub lockfiles: Vec<String>,
}

/// What a cache comes to: variables to set, directories to keep, files to key by.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CachePlan {
    /// Environment variable → directory relative to the repository root.
    pub variables: Vec<(&'static str, &'static str)>,
    /// Directories kept, relative to the repository root.
    pub paths: Vec<String>,
    /// Files whose contents key the cache.
    pub lockfiles: Vec<String>,
}

impl DependencyCache {
    /// The variables, directories and lockfiles of this cache.
    pub fn plan(&self) -> CachePlan {
        let (manager, paths, lockfiles) = match self {
            DependencyCache::Manager(m) => (Some(*m), &[][..], &[][..]),
            DependencyCache::Spelled(s) => (s.manager, &s.paths[..], &s.lockfiles[..]),
        };
        let variables = manager.map_or(&[][..], PackageManager::variables).to_vec();
        let mut all: Vec<String> = variables.iter().map(|(_, d)| (*d).to_owned()).collect();
        all.extend(paths.iter().cloned());
        let lockfiles = if lockfiles.is_empty() {
            manager
                .map_or(&[][..], PackageManager::lockfiles)
                .iter()
                .map(|l| (*l).to_owned())
                .collect()
        } else {
            lockfiles.to_vec()
        };
        CachePlan {
            variables,
            paths: all,
            lockfiles,
        }
    }

    /// Why the cache cannot be written as it is, if it cannot: `(field, problem, what
    /// to do)`, the field relative to `cache`.
    pub fn problems(&self, max_lockfiles: Option<usize>) -> Vec<(&'static str, String, String)> {
        let mut out = Vec::new();
        let DependencyCache::Spelled(spec) = self else {
            return out;
        };
        if spec.manager.is_none() && spec.paths.is_empty() {
            out.push((
                "",
                "a cache without a `manager` keeps nothing: it names no `paths`".to_owned(),
                "name the package manager (`manager: npm`) or the directories the job fills (`paths: [.pnpm-store]`)".to_owned(),
            ));
        }
        if spec.manager.is_none() && spec.lockfiles.is_empty() {
            out.push((
                "",
                "a cache without a `manager` has no lockfile to key it".to_owned(),
                "list the files whose contents change when the dependencies do, e.g. `lockfiles: [pnpm-lock.yaml]`".to_owned(),
            ));
        }
        for (field, list) in [("paths", &spec.paths), ("lockfiles", &spec.lockfiles)] {
            for p in list {
                if p.split('/').any(|seg| seg == ".." || seg == ".") {
                    out.push((
                        field,
                        format!("`{p}` leaves or repeats the repository root"),
                        "write the path from the repository root, without `.` or `..` segments"
                            .to_owned(),
                    ));
                }
            }
        }
        if let Some(max) = max_lockfiles
            && spec.lockfiles.len() > max
        {
            out.push((
                "lockfiles",
                format!(
                    "GitLab keys a cache by at most {max} files; this one lists {}",
                    spec.lockfiles.len()
                ),
                "keep the lockfiles that change with the dependencies".to_owned(),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manager_brings_its_directory_and_lockfile() {
        let c: DependencyCache = serde_json::from_str("\"npm\"").unwrap();
        let plan = c.plan();
        assert_eq!(plan.variables, vec![("npm_config_cache", ".cache/npm")]);
        assert_eq!(plan.paths, vec![".cache/npm"]);
        assert_eq!(plan.lockfiles, vec!["package-lock.json"]);
        assert!(c.problems(Some(2)).is_empty());
    }

    #[test]
    fn spelled_lockfiles_replace_the_managers_and_paths_add_to_its() {
        let c: DependencyCache = serde_json::from_value(serde_json::json!({
            "manager": "go", "paths": ["tools/bin"], "lockfiles": ["svc/go.sum"]
        }))
        .unwrap();
        let plan = c.plan();
        assert_eq!(
            plan.paths,
            vec![".cache/go/mod", ".cache/go/build", "tools/bin"]
        );
        assert_eq!(plan.lockfiles, vec!["svc/go.sum"]);
    }

    #[test]
    fn a_cache_without_manager_needs_paths_and_lockfiles_inside_the_repository() {
        let c: DependencyCache =
            serde_json::from_value(serde_json::json!({"paths": ["../up"]})).unwrap();
        let problems = c.problems(Some(2));
        let fields: Vec<&str> = problems.iter().map(|p| p.0).collect();
        assert_eq!(fields, vec!["", "paths"], "{problems:?}");
        let many: DependencyCache = serde_json::from_value(serde_json::json!({
            "paths": [".store"], "lockfiles": ["a", "b", "c"]
        }))
        .unwrap();
        assert_eq!(many.problems(Some(2)).len(), 1);
        assert!(many.problems(None).is_empty());
        assert!(serde_json::from_str::<DependencyCache>("\"pnpm\"").is_err());
    }
}
