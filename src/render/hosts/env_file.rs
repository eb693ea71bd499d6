//! `.env` templates: every variable a service (or an upstream stack) reads from its
//! env file, each with a comment saying what it is and where its value comes from.
//! Secret values are never written: the template leaves them empty, and `deploy.sh`
//! refuses to deploy until the real file on the host has them.
//!
//! Compose reads env files with its own dotenv parser (compose-go `dotenv/parser.go`):
//! an unquoted value is cut at ` #`, trimmed and has its `$` expanded; a `"..."`
//! value has escapes and `$` expanded; a `'...'` value is taken as written, except
//! that `\'` is a quote. So the template tells people to single-quote values, kiln
//! writes its own values with [`dotenv_quote`], and `deploy.sh` refuses any line
//! compose would read differently from how it is written (`check_env_file` in
//! `templates/hosts/common.sh`).

use super::HostPlan;
use crate::diagnostic::Diagnostic;
use crate::model::{Alphabet, EnvValue, Environment, KeySource, ResolvedEnv, SecretRef};
use crate::render::Context;
use crate::render::templates::shell_quote;
use serde::Serialize;

/// The template that renders env files.
pub const TEMPLATE: &str = "hosts/env";

/// One env file of a project.
#[derive(Clone, Debug, Serialize)]
pub struct EnvFileSpec {
    /// The service that reads it; `None` for an upstream stack's `.env`, which the
    /// upstream compose file interpolates.
    pub service: Option<String>,
    /// Where the real file lives on the host.
    pub target: String,
    /// Its variables, sorted.
    pub vars: Vec<EnvVarSpec>,
}

/// One variable.
#[derive(Clone, Debug, Serialize)]
pub struct EnvVarSpec {
    /// The variable's name.
    pub name: String,
    /// The value, for plain (non-secret) values only.
    pub value: Option<String>,
    /// Comment lines: what it is, where the value comes from.
    pub comments: Vec<String>,
}

impl EnvFileSpec {
    /// The template's file name beside the compose file.
    pub fn template_name(&self) -> String {
        match &self.service {
            Some(s) => format!("{s}.env.template"),
            None => ".env.template".to_owned(),
        }
    }

    /// Variables whose value is secret and must be non-empty on the host.
    pub fn secret_vars(&self) -> Vec<String> {
        self.vars
            .iter()
            .filter(|v| v.value.is_none())
            .map(|v| v.name.clone())
            .collect()
    }

    /// Variables with a plain value, which must at least be present on the host.
    pub fn plain_vars(&self) -> Vec<String> {
        self.vars
            .iter()
            .filter(|v| v.value.is_some())
            .map(|v| v.name.clone())
            .collect()
    }
}

/// The variable for a secret key, with where its value comes from.
pub fn secret_var(env: &Environment, name: &str, r: &SecretRef) -> EnvVarSpec {
    let mut comments = vec![format!("secret `{}`, key `{}`.", r.secret, r.key)];
    let secret = env.model.secrets.get(&r.secret);
    if let Some(d) = secret.and_then(|s| s.description.as_ref()) {
        comments.push(d.clone());
    }
    match secret.and_then(|s| s.keys.get(&r.key)) {
        Some(KeySource::OnePassword(op)) => {
            comments.push(format!("From 1Password: {}", op.op));
            comments.push(format!("  op read {}", shell_quote(&op.op)));
        }
        Some(KeySource::Generate(g)) => {
            let n = g.generate.length;
            let how = match g.generate.alphabet {
                Alphabet::Hex => format!("openssl rand -hex {}", n.div_ceil(2)),
                Alphabet::Alphanumeric => {
                    format!("LC_ALL=C tr -dc A-Za-z0-9 </dev/urandom | head -c {n}")
                }
                Alphabet::Base64 => format!("openssl rand -base64 {} | head -c {n}", n),
            };
            comments.push(format!(
                "Generated: {n} characters ({}), e.g. `{how}`. Use the same value wherever `{}.{}` appears.",
                alphabet_name(g.generate.alphabet),
                r.secret,
                r.key
            ));
        }
        Some(KeySource::Template(t)) => {
            comments.push(format!(
                "Built from other keys ({{secret.key}} stands for their values): {}",
                t.template
            ));
        }
        Some(KeySource::Manual(m)) => comments.push(format!("Entered by hand: {}", m.manual)),
        None => {}
    }
    EnvVarSpec {
        name: name.to_owned(),
        value: None,
        comments,
    }
}

fn alphabet_name(a: Alphabet) -> &'static str {
    match a {
        Alphabet::Hex => "hex",
        Alphabet::Alphanumeric => "letters and digits",
        Alphabet::Base64 => "base64",
    }
}

/// An env value on a host: text the compose file may hold, or a secret variable of
/// the service's env file.
pub enum HostValue {
    /// The text, and the env file's comment for it.
    Text(String, String),
    /// A variable whose value is secret.
    Secret(EnvVarSpec),
}

/// What the variable `name` with `value` is on a host: plain values and route
/// origins as text, secret keys via [`secret_var`], a connection URL as a secret
/// variable whose comment spells the URL around the password.
pub fn host_value(env: &Environment, name: &str, value: &EnvValue) -> HostValue {
    let comment = match value {
        EnvValue::RouteOrigins(o) => format!(
            "The https:// origins of every route of `{}`, from the model.",
            o.route_origins
        ),
        EnvValue::Database(d) => format!(
            "The {} of the database of `{}`, from the model.",
            d.part.as_str(),
            d.database
        ),
        _ => "Set in the model.".to_owned(),
    };
    match env.model.resolve_env(&env.name, None, value) {
        ResolvedEnv::Text(t) => HostValue::Text(t, comment),
        ResolvedEnv::Secret(r) => HostValue::Secret(secret_var(env, name, &r)),
        ResolvedEnv::SecretUrl {
            before,
            password,
            after,
        } => {
            let mut var = secret_var(env, name, &password);
            var.comments.insert(
                0,
                format!("The connection URL {before}PASSWORD{after}, where PASSWORD is:"),
            );
            HostValue::Secret(var)
        }
    }
}

/// The variable for any env value ([`host_value`]) in an env file.
pub fn var(env: &Environment, name: &str, value: &EnvValue) -> EnvVarSpec {
    match host_value(env, name, value) {
        HostValue::Secret(spec) => spec,
        HostValue::Text(t, comment) => EnvVarSpec {
            name: name.to_owned(),
            value: Some(dotenv_quote(&t)),
            comments: vec![comment],
        },
    }
}

/// A value as compose's `.env` reader takes it literally, on one line: bare when
/// safe, else single-quoted (no interpolation, no escapes but `\'`, so not for a
/// value with `'`, a line break or a trailing `\`), else double-quoted with `\`,
/// `"`, `$` and line breaks escaped.
pub fn dotenv_quote(value: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:@,+-".contains(c);
    if !value.is_empty() && value.chars().all(safe) {
        value.to_owned()
    } else if !value.contains(['\'', '\n', '\r']) && !value.ends_with('\\') {
        format!("'{value}'")
    } else {
        let escaped = value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        format!("\"{escaped}\"")
    }
}

#[derive(Serialize)]
struct EnvContext<'a> {
    header: Vec<String>,
    intro: Vec<String>,
    vars: &'a [EnvVarSpec],
}

fn header(sources: &[String]) -> Vec<String> {
    crate::render::yaml::header(sources)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Renders the env template of a project's file.
pub fn render(
    cx: &Context<'_>,
    sources: &[String],
    plan: &HostPlan<'_>,
    project: &super::Project<'_>,
    file: &EnvFileSpec,
) -> Result<String, Box<Diagnostic>> {
    render_host(cx, sources, plan, &project.name, file)
}

/// Renders the env template of a file of project `project` on the host.
pub fn render_host(
    cx: &Context<'_>,
    sources: &[String],
    plan: &HostPlan<'_>,
    project: &str,
    file: &EnvFileSpec,
) -> Result<String, Box<Diagnostic>> {
    let what = match &file.service {
        Some(s) => format!("Variables of service `{s}` in compose project `{project}`"),
        None => format!("Variables the upstream compose file of project `{project}` interpolates"),
    };
    let intro = vec![
        format!("{what} on host `{}`.", plan.name),
        format!(
            "Fill in a copy at {} on the host, readable only by its owner (chmod 600).",
            file.target
        ),
        "Write each value in single quotes, NAME='value': compose then takes it byte for"
            .to_owned(),
        "byte ($, #, \", spaces and all). Inside, write ' as \\'. A value that ends in \\ or"
            .to_owned(),
        "holds \\' goes in double quotes instead, with \\ \" and $ written \\\\ \\\" \\$."
            .to_owned(),
        "deploy.sh refuses a line compose would read differently, and a secret below that"
            .to_owned(),
        "is missing or empty.".to_owned(),
        "Never commit the filled-in file.".to_owned(),
    ];
    // A comment is one line each: text from the model never ends one early.
    let vars: Vec<EnvVarSpec> = file
        .vars
        .iter()
        .map(|v| EnvVarSpec {
            comments: v
                .comments
                .iter()
                .flat_map(|c| c.lines().map(str::to_owned).collect::<Vec<_>>())
                .collect(),
            ..v.clone()
        })
        .collect();
    cx.templates.render(
        TEMPLATE,
        EnvContext {
            header: header(sources),
            intro,
            vars: &vars,
        },
        &cx.project.sources,
    )
}

#[cfg(test)]
mod tests {
    use super::dotenv_quote;

    #[test]
    fn dotenv_values_are_taken_literally() {
        assert_eq!(
            dotenv_quote("https://a.example.com"),
            "https://a.example.com"
        );
        assert_eq!(dotenv_quote(""), "''");
        assert_eq!(dotenv_quote("a b $HOME"), "'a b $HOME'");
        assert_eq!(dotenv_quote("it's $x"), "\"it's \\$x\"");
        assert_eq!(dotenv_quote("ends\\"), "\"ends\\\\\"");
        assert_eq!(dotenv_quote("two\nlines"), "\"two\\nlines\"");
    }

    /// Text from the model (a 1Password reference, a description) never ends a
    /// comment early: every line of the template is a comment, blank or `NAME=`.
    #[test]
    fn model_text_stays_in_comments() {
        use crate::render::hosts::Hosts;
        use crate::render::unchecked::{render, text};
        let yaml = r#"registries:
  lan: {host: registry.lan}
hosts:
  box: {address: 10.0.0.5}
apps:
  shop:
    runsOn: box
    image: {registry: lan, repository: shop/web, tag: "1"}
    port: 8080
    env:
      KEY: {secret: shop, key: k}
secrets:
  shop:
    description: "line one\nEVIL=1"
    usedBy: [shop]
    keys:
      k: {op: "op://Vault/Shop\nEVIL=2/k'ey"}
"#;
        let (out, diags) = render(&Hosts, &[("environments/test.yaml", yaml)]);
        assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
        let template = text(&out, "hosts/box/shop-test/shop.env.template");
        for line in template.lines() {
            assert!(
                line.is_empty() || line.starts_with('#') || line == "KEY=",
                "{line:?} in\n{template}"
            );
        }
        assert!(template.contains("# EVIL=2/k'ey"), "{template}");
    }
}
