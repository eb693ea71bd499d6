//! The shell commands pipeline jobs run, shared by the GitHub and GitLab emitters.
//! Every command is POSIX sh (GitLab runs job scripts with `sh` in most images;
//! GitHub container jobs run `sh`).
//!
//! A model value in a command is a [`Words::word`]: in GitLab scripts, shell-quoted in
//! place (GitLab does not expand `$` in `script:`; the shell sees one literal word);
//! in GitHub `run:` blocks, `"$VAR"` with the value bound in the step's `env:`, because
//! GitHub evaluates `${{ }}` in a `run:` before the shell starts and no quoting stops
//! it. Only kiln's own text and typed names (`[a-z0-9-]`) appear in a command as is.

use crate::model::tag_format::TagPart;
use crate::render::templates::shell_quote;
use std::collections::BTreeMap;

/// How the commands of one step name the model's values.
#[derive(Debug)]
pub(crate) struct Words {
    /// `None`: shell-quoted in place; else the step's `env:`, by variable.
    env: Option<BTreeMap<String, String>>,
}

impl Words {
    /// Values shell-quoted in place (GitLab).
    pub(crate) fn quoted() -> Self {
        Words { env: None }
    }

    /// Values bound as variables of the step's `env:` (GitHub).
    pub(crate) fn env() -> Self {
        Words {
            env: Some(BTreeMap::new()),
        }
    }

    /// The shell word for `value`, through the variable `var` when values go through
    /// the environment. One variable names one value in a step.
    pub(crate) fn word(&mut self, var: &str, value: &str) -> String {
        match &mut self.env {
            None => shell_quote(value),
            Some(env) => {
                let previous = env.insert(var.to_owned(), value.to_owned());
                debug_assert!(
                    previous.is_none_or(|p| p == value),
                    "{var} names two values"
                );
                format!("\"${var}\"")
            }
        }
    }

    /// The variables the commands use, for the step's `env:` (empty when quoted).
    pub(crate) fn into_env(self) -> BTreeMap<String, String> {
        self.env.unwrap_or_default()
    }
}

/// The variables a CI system provides to the tag command.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CiVars {
    /// The full commit SHA.
    pub sha: &'static str,
    /// The run (pipeline) number.
    pub run: &'static str,
}

/// GitHub Actions' variables.
pub(crate) const GITHUB: CiVars = CiVars {
    sha: "GITHUB_SHA",
    run: "GITHUB_RUN_NUMBER",
};

/// GitLab CI's variables.
pub(crate) const GITLAB: CiVars = CiVars {
    sha: "CI_COMMIT_SHA",
    run: "CI_PIPELINE_IID",
};

/// The command that sets `TAG` to this build's tag, from the same pieces the Flux
/// ImagePolicy pattern is derived from: `{sha}` is the commit's first 7 hex digits,
/// `{timestamp}` the UTC time the command runs, `{run}` the CI run number.
pub(crate) fn tag_command(parts: &[TagPart], vars: CiVars) -> String {
    let mut word = String::new();
    for part in parts {
        match part {
            // Literals are `[A-Za-z0-9_.-]` (checked by the target), safe in "...".
            TagPart::Literal(text) => word.push_str(text),
            TagPart::Sha => word.push_str(&format!("$(printf '%s' \"${}\" | cut -c1-7)", vars.sha)),
            TagPart::Timestamp => word.push_str("$(date -u +%Y%m%d%H%M%S)"),
            TagPart::Run => word.push_str(&format!("${}", vars.run)),
        }
    }
    format!("TAG=\"{word}\"")
}

/// Whether a literal piece of a tag format can go into a tag (and into the command).
pub(crate) fn literal_is_safe(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// The tag a build pushes so that a promotion can find the image of a commit.
pub(crate) fn commit_alias(env: &str, vars: CiVars) -> String {
    format!("{env}-git-${}", vars.sha)
}

/// `docker login` with credentials from CI variables.
pub(crate) fn docker_login(registry: &str, username: &str, password: &str) -> String {
    format!(
        "printf '%s' \"${password}\" | docker login {} --username \"${username}\" --password-stdin",
        shell_quote(registry)
    )
}

/// A BuildKit configuration file letting builders push to plain-HTTP registries.
pub(crate) fn buildkitd_config(insecure: &[&str]) -> String {
    insecure
        .iter()
        .map(|host| format!("[registry.\"{host}\"]\n  http = true\n  insecure = true\n"))
        .collect()
}

/// The git hosting of the repository that holds the model, as the deploy jobs reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConfigRepo {
    /// The HTTPS clone URL.
    pub https_url: String,
    /// The host, for the credential.
    pub host: String,
    /// The branch to record tags on.
    pub branch: String,
    /// The project directory inside the repository (`.` for the root).
    pub path: String,
    /// The CI variable with a token that may push.
    pub token: String,
    /// The kiln image deploy jobs run in.
    pub image: String,
}

/// The directory deploy jobs clone the config repository into.
pub(crate) const CONFIG_CHECKOUT: &str = ".kiln-config";

impl ConfigRepo {
    /// The HTTPS URL and host of a clone URL (`ssh://git@host[:port]/path`,
    /// `git@host:path` or `https://host/path`).
    pub(crate) fn https(url: &str) -> Option<(String, String)> {
        let (host, path) = if let Some(rest) = url.strip_prefix("https://") {
            rest.split_once('/')?
        } else if let Some(rest) = url.strip_prefix("ssh://") {
            let (authority, path) = rest.split_once('/')?;
            let host = authority.rsplit('@').next()?;
            (host.split(':').next()?, path)
        } else if let Some((user_host, path)) = url.split_once(':')
            && !url.contains("://")
        {
            (user_host.rsplit('@').next()?, path)
        } else {
            return None;
        };
        let host = host.rsplit('@').next()?;
        let ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~/:".contains(&b))
        };
        (ok(host) && ok(path)).then(|| (format!("https://{host}/{path}"), host.to_owned()))
    }

    /// The project directory inside the checkout.
    pub(crate) fn project_dir(&self) -> String {
        let path = self.path.trim_matches('/').trim_start_matches("./");
        if path == "." || path.is_empty() {
            CONFIG_CHECKOUT.to_owned()
        } else {
            format!("{CONFIG_CHECKOUT}/{path}")
        }
    }

    /// Clones the config repository with the push token, which is kept in a
    /// credential file rather than in a URL (so it never shows in a log).
    pub(crate) fn clone_commands(&self, w: &mut Words) -> Vec<String> {
        let user = if self.host == "github.com" {
            "x-access-token"
        } else {
            "oauth2"
        };
        vec![
            format!(
                "(umask 077 && printf 'https://{user}:%s@%s\\n' \"${}\" {} > \"$HOME/.git-credentials\")", // pragma: allowlist secret
                self.token,
                w.word("KILN_CONFIG_HOST", &self.host)
            ),
            "git config --global credential.helper store".to_owned(),
            format!(
                "git clone --quiet --depth 1 --branch {} {} {CONFIG_CHECKOUT}",
                w.word("KILN_CONFIG_BRANCH", &self.branch),
                w.word("KILN_CONFIG_URL", &self.https_url)
            ),
        ]
    }

    /// Records `$TAG` as what `app` runs in `env` with `kiln set-image`, commits and
    /// pushes; on a rejected push (someone pushed first) starts again from the new
    /// head, up to five times. `author` is two shell words (constants, or variables
    /// of the CI system).
    pub(crate) fn record_commands(
        &self,
        app: &str,
        env: &str,
        author: (&str, &str),
        w: &mut Words,
    ) -> String {
        let git = format!("git -C {CONFIG_CHECKOUT}");
        let branch = w.word("KILN_CONFIG_BRANCH", &self.branch);
        format!(
            "record() {{\n  kiln set-image {app} \"$TAG\" --env {env} --root {root} --quiet || return 1\n  {git} add --all\n  if {git} diff --cached --quiet; then return 0; fi\n  {git} -c user.name=\"{name}\" -c user.email=\"{email}\" commit --quiet --message \"{app}: deploy $TAG to {env}\" || return 1\n  {git} push --quiet origin HEAD:{branch}\n}}\nattempt=1\nuntil record; do\n  if [ \"$attempt\" -ge 5 ]; then\n    echo \"could not record {app} $TAG in the config repository\" >&2\n    exit 1\n  fi\n  attempt=$((attempt + 1))\n  sleep 5\n  {git} fetch --quiet --depth 1 origin {branch}\n  {git} reset --quiet --hard FETCH_HEAD\ndone",
            root = w.word("KILN_CONFIG_DIR", &self.project_dir()),
            name = author.0,
            email = author.1,
        )
    }
}

/// Points kubectl at the environment's cluster with the CI variables `KUBE_API_URL`,
/// `KUBE_CA_CERT` (PEM) and `KUBE_TOKEN`, in `namespace`. Local commands only.
pub(crate) fn kubeconfig(namespace: &str) -> Vec<String> {
    vec![
        "printf '%s\\n' \"$KUBE_CA_CERT\" > kube-ca.crt".to_owned(),
        "kubectl config set-cluster deploy --server=\"$KUBE_API_URL\" --certificate-authority=kube-ca.crt --embed-certs=true".to_owned(),
        "kubectl config set-credentials deploy --token=\"$KUBE_TOKEN\"".to_owned(),
        format!(
            "kubectl config set-context deploy --cluster=deploy --user=deploy --namespace={}",
            shell_quote(namespace)
        ),
        "kubectl config use-context deploy".to_owned(),
    ]
}

/// Checks the app's health endpoint, retrying while the new version starts.
pub(crate) fn verify_command(url: &str, w: &mut Words) -> String {
    format!(
        "curl --fail --silent --show-error --location --max-time 10 --retry 12 --retry-delay 5 --retry-all-errors {}",
        w.word("KILN_HEALTH_URL", url)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tag_format::tag_parts;

    #[test]
    fn tag_command_follows_the_format() {
        let parts = tag_parts("main-{sha}-{timestamp}").unwrap();
        assert_eq!(
            tag_command(&parts, GITHUB),
            "TAG=\"main-$(printf '%s' \"$GITHUB_SHA\" | cut -c1-7)-$(date -u +%Y%m%d%H%M%S)\""
        );
        let parts = tag_parts("v1.{run}").unwrap();
        assert_eq!(tag_command(&parts, GITLAB), "TAG=\"v1.$CI_PIPELINE_IID\"");
        assert!(literal_is_safe("main-"));
        assert!(!literal_is_safe("a}b"));
    }

    #[test]
    fn clone_urls_become_https() {
        assert_eq!(
            ConfigRepo::https("ssh://git@github.com/me/homelab.git"),
            Some((
                "https://github.com/me/homelab.git".into(),
                "github.com".into()
            ))
        );
        assert_eq!(
            ConfigRepo::https("ssh://git@gitlab.lan:2222/ops/config.git")
                .unwrap()
                .0,
            "https://gitlab.lan/ops/config.git"
        );
        assert_eq!(
            ConfigRepo::https("git@github.com:me/homelab.git")
                .unwrap()
                .0,
            "https://github.com/me/homelab.git"
        );
        assert_eq!(
            ConfigRepo::https("https://gitlab.com/me/x.git").unwrap().1,
            "gitlab.com"
        );
        assert_eq!(ConfigRepo::https("file:///tmp/x"), None);
        assert_eq!(ConfigRepo::https("ssh://git@host/a b"), None);
    }
}
