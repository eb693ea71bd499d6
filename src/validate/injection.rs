//! Model values that other languages read: each is checked here, on the model, for
//! the form its field promises (an email address, a URL path, a git URL, a branch
//! name), so that nothing a model file says can become a Caddy directive, shell code
//! or a GitHub expression in the output. The renderers still escape every value by
//! its language's rules (`render::hosts::caddy_token`, `render::templates::shell_quote`,
//! `render::pipelines::github`); these checks turn what no escaping can save into a
//! located error that says what to write instead.
//!
//! The predicates are public to the crate so that renderers and tests state the same
//! rules.

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{CiProvider, Environment};
use std::net::IpAddr;

/// Runs every check on one environment.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    let m = &env.model;
    let mut bad = |pointer: String, message: String, help: &str| {
        diags.push(
            Diagnostic::error(checks::INVALID_VALUE, message)
                .at(env.span(&pointer))
                .help(help.to_owned()),
        );
    };
    for (name, host) in &m.hosts {
        let Some(caddy) = &host.caddy else { continue };
        if let Some(email) = &caddy.tls.email
            && let Err(why) = email_address(email)
        {
            bad(
                format!("/hosts/{name}/caddy/tls/email"),
                format!("{} is not an email address: {why}", shown(email)),
                "write the ACME account's address, e.g. `ops@example.com`",
            );
        }
        if let Some(bind) = &caddy.bind
            && !(is_ip(bind) || is_hostname(bind))
        {
            bad(
                format!("/hosts/{name}/caddy/bind"),
                format!("{} is not an address Caddy can listen on", shown(bind)),
                "write one IP address (`127.0.0.1`, `::1`) or host name",
            );
        }
    }
    for (name, app) in m.enabled_apps() {
        let at = |p: &str| format!("/apps/{name}/{p}");
        if let Some(publish) = &app.publish
            && !is_ip(&publish.address)
        {
            bad(
                at("publish/address"),
                format!("{} is not an IP address", shown(&publish.address)),
                "write the host address to publish on, e.g. `127.0.0.1` or `0.0.0.0`",
            );
        }
        for (port_name, p) in &app.ports {
            if let Some(publish) = &p.publish
                && !is_ip(&publish.address)
            {
                bad(
                    at(&format!(
                        "ports/{}/publish/address",
                        crate::pointer::escape(port_name)
                    )),
                    format!("{} is not an IP address", shown(&publish.address)),
                    "write the host address to publish on, e.g. `127.0.0.1` or `0.0.0.0`",
                );
            }
        }
        if let Some(path) = app.health.as_ref().and_then(|h| h.path.as_ref())
            && let Err(why) = url_path(path, true)
        {
            bad(at("health/path"), health_message(path, &why), PATH_HELP);
        }
        for (route, r) in &app.routes {
            if let Err(why) = url_path(&r.path, false) {
                bad(
                    at(&format!("routes/{route}/path")),
                    format!("{} is not a URL path prefix: {why}", shown(&r.path)),
                    PATH_HELP,
                );
            }
        }
        if let Some(build) = &app.build {
            if let Err(why) = git_url(&build.repository) {
                bad(
                    at("build/repository"),
                    format!(
                        "{} is not a repository URL kiln writes: {why}",
                        shown(&build.repository)
                    ),
                    GIT_URL_HELP,
                );
            }
            if let Err(why) = branch_name(&build.branch) {
                bad(
                    at("build/branch"),
                    format!(
                        "{} is not a branch name kiln writes: {why}",
                        shown(&build.branch)
                    ),
                    BRANCH_HELP,
                );
            }
            if build.ci == CiProvider::Github {
                for (test, job) in &build.tests {
                    for (i, command) in job.run.iter().enumerate() {
                        if command.contains("${{") {
                            bad(
                                at(&format!("build/tests/{test}/run/{i}")),
                                format!(
                                    "GitHub would evaluate the `${{{{ … }}}}` in this command of test `{test}` before the shell runs it (on pull requests too, where a title or branch name can carry code)"
                                ),
                                "read the value from the job's environment instead (`$GITHUB_SHA`, `$GITHUB_REF_NAME`): kiln writes no `${{ }}` into a `run:`",
                            );
                        }
                    }
                }
            }
        }
    }
    for (name, stack) in m.enabled_stacks() {
        if let Some(path) = stack.health.as_ref().and_then(|h| h.path.as_ref())
            && let Err(why) = url_path(path, true)
        {
            bad(
                format!("/stacks/{name}/health/path"),
                health_message(path, &why),
                PATH_HELP,
            );
        }
        for (route, r) in &stack.routes {
            if let Err(why) = url_path(&r.path, false) {
                bad(
                    format!("/stacks/{name}/routes/{route}/path"),
                    format!("{} is not a URL path prefix: {why}", shown(&r.path)),
                    PATH_HELP,
                );
            }
        }
    }
    if let Some(repo) = &m.repository {
        if let Err(why) = git_url(&repo.url) {
            bad(
                "/repository/url".to_owned(),
                format!(
                    "{} is not a repository URL kiln writes: {why}",
                    shown(&repo.url)
                ),
                GIT_URL_HELP,
            );
        }
        if let Err(why) = branch_name(&repo.branch) {
            bad(
                "/repository/branch".to_owned(),
                format!(
                    "{} is not a branch name kiln writes: {why}",
                    shown(&repo.branch)
                ),
                BRANCH_HELP,
            );
        }
        if let Some(ci) = &repo.ci
            && ci.push_token.starts_with("KILN_")
        {
            bad(
                "/repository/ci/pushToken".to_owned(),
                format!(
                    "`{}` would be shadowed in deploy jobs by the `KILN_*` variables kiln binds its values to",
                    ci.push_token
                ),
                "name the token's CI secret without the `KILN_` prefix, e.g. `CONFIG_REPO_TOKEN`",
            );
        }
        if let Err(why) = relative_dir(&repo.path) {
            bad(
                "/repository/path".to_owned(),
                format!(
                    "{} is not a directory inside the repository: {why}",
                    shown(&repo.path)
                ),
                "write the project's directory relative to the repository root, e.g. `.` or `infra/kiln`",
            );
        }
    }
}

const PATH_HELP: &str = "use letters, digits and `-._~!$&'()*+,;=:@/`, and `%` followed by two hex digits for anything else (e.g. `%20` for a space)";
const GIT_URL_HELP: &str = "use `https://host/path`, `ssh://git@host/path` or `git@host:path` (`http://` for a LAN server)";
const BRANCH_HELP: &str =
    "use letters, digits and `._/+-`, e.g. `main` or `release/1.2` (and git's own rules)";

fn health_message(path: &str, why: &str) -> String {
    format!("{} is not a URL path: {why}", shown(path))
}

/// A value as a message shows it: in backticks, with control characters escaped.
fn shown(value: &str) -> String {
    let mut out = String::from("`");
    for c in value.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('`');
    out
}

/// An email address in the form ACME servers accept: one `@`, a local part of
/// RFC 5322 `atext` in dot-separated atoms (no quoting, no whitespace or control
/// characters; `{` and `}` are left out because Caddy reads them as placeholders),
/// and a domain of at least two DNS labels.
pub(crate) fn email_address(value: &str) -> Result<(), String> {
    if let Some(c) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "it contains {}",
            crate::diagnostic::describe_char(c)
        ));
    }
    let (local, domain) = match value.split_once('@') {
        None => return Err("it has no `@`".to_owned()),
        Some((_, d)) if d.contains('@') => return Err("it has more than one `@`".to_owned()),
        Some(parts) => parts,
    };
    if local.is_empty() {
        return Err("nothing comes before the `@`".to_owned());
    }
    if domain.is_empty() {
        return Err("nothing comes after the `@`".to_owned());
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`|~".contains(c);
    if let Some(c) = local.chars().find(|&c| c != '.' && !atext(c)) {
        return Err(format!(
            "{} cannot appear before the `@`",
            crate::diagnostic::describe_char(c)
        ));
    }
    if local.split('.').any(str::is_empty) {
        return Err("a `.` before the `@` starts, ends or doubles a part".to_owned());
    }
    if !is_hostname(domain) || !domain.contains('.') {
        return Err(format!("`{domain}` is not a domain name"));
    }
    Ok(())
}

/// A DNS host name: dot-separated labels of letters, digits and `-` (not at either
/// end), each 1–63 characters, 253 in all.
pub(crate) fn is_hostname(value: &str) -> bool {
    value.len() <= 253
        && value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An IPv4 or IPv6 address, without brackets or port.
pub(crate) fn is_ip(value: &str) -> bool {
    value.parse::<IpAddr>().is_ok()
}

/// A URL path (RFC 3986 `path-absolute`: `/` then `pchar`s and `/`), with an optional
/// `?query` when `query` is allowed. Characters outside those sets must be
/// percent-encoded.
pub(crate) fn url_path(value: &str, query: bool) -> Result<(), String> {
    if !value.starts_with('/') {
        return Err("it does not start with `/`".to_owned());
    }
    let (path, rest) = match value.split_once('?') {
        Some((p, q)) if query => (p, Some(q)),
        _ => (value, None),
    };
    url_chars(path, b"")?;
    if let Some(q) = rest {
        url_chars(q, b"?")?;
    }
    Ok(())
}

/// `pchar`s and `/` (and `extra`), with `%` followed by two hex digits.
fn url_chars(part: &str, extra: &[u8]) -> Result<(), String> {
    let bytes = part.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return Err("a `%` is not followed by two hex digits".to_owned());
            }
            i += 3;
            continue;
        }
        if !(b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) || extra.contains(&b))
        {
            let c = part[i..].chars().next().unwrap_or_default();
            return Err(format!(
                "{} must be percent-encoded",
                crate::diagnostic::describe_char(c)
            ));
        }
        i += 1;
    }
    Ok(())
}

/// A git remote URL kiln may write into clone commands and Flux sources:
/// `https://`, `http://` or `ssh://` with a host name or IP address, or the scp-like
/// `user@host:path`. Anything else (`ext::` runs a command, `file://` and local paths
/// read the machine's disk, `-` starts an option) is refused.
pub(crate) fn git_url(value: &str) -> Result<(), String> {
    if value
        .split('/')
        .next()
        .is_some_and(|head| head.contains("::"))
    {
        return Err("git would run it as a command (its `ext::` transport)".to_owned());
    }
    if let Some(c) = value
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || "-._~:/@%+".contains(c)))
    {
        return Err(format!(
            "it contains {}",
            crate::diagnostic::describe_char(c)
        ));
    }
    let (authority, path) = if let Some((scheme, rest)) = value.split_once("://") {
        if !["https", "http", "ssh"].contains(&scheme) {
            return Err(format!("git would use its `{scheme}` transport"));
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match host_port.rsplit_once(':') {
            Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => host_port,
        };
        (host, path)
    } else if let Some((user_host, path)) = value.split_once(':')
        && let Some((user, host)) = user_host.split_once('@')
    {
        if user.is_empty() || user.starts_with('-') {
            return Err("the user before `@` is empty or starts with `-`".to_owned());
        }
        (host, path)
    } else {
        return Err("it is neither a URL with a scheme nor `user@host:path`".to_owned());
    };
    if !(is_hostname(authority) || is_ip(authority)) {
        return Err(format!("`{authority}` is not a host name"));
    }
    if path.trim_matches('/').is_empty() {
        return Err("it names no repository path".to_owned());
    }
    if path.starts_with('-') {
        return Err("the path starts with `-`".to_owned());
    }
    Ok(())
}

/// A branch name that is safe in every CI language kiln writes: letters, digits and
/// `._/+-`, within git's own rules (no `..`, `//`, leading `-`, `.` or `/`, trailing
/// `/`, `.` or `.lock`, no part starting with `.`).
pub(crate) fn branch_name(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("it is empty".to_owned());
    }
    if let Some(c) = value
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || "._/+-".contains(c)))
    {
        return Err(format!(
            "it contains {}",
            crate::diagnostic::describe_char(c)
        ));
    }
    if value.starts_with('-') {
        return Err("it starts with `-`".to_owned());
    }
    if value.contains("..") || value.ends_with('.') {
        return Err("git refuses `..` and a trailing `.`".to_owned());
    }
    if value
        .split('/')
        .any(|part| part.is_empty() || part.starts_with('.') || part.ends_with(".lock"))
    {
        return Err(
            "git refuses an empty part, a part starting with `.` or ending in `.lock`".to_owned(),
        );
    }
    Ok(())
}

/// A directory inside a repository: `.`, or relative parts of letters, digits and
/// `._-` separated by `/` (a leading `./` and trailing `/` are fine), no `..`.
pub(crate) fn relative_dir(value: &str) -> Result<(), String> {
    if let Some(c) = value
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || "._/-".contains(c)))
    {
        return Err(format!(
            "it contains {}",
            crate::diagnostic::describe_char(c)
        ));
    }
    if value.starts_with('/') {
        return Err("it is absolute".to_owned());
    }
    if value.starts_with('-') {
        return Err("it starts with `-`".to_owned());
    }
    if value.split('/').any(|part| part == "..") {
        return Err("it leaves the repository (`..`)".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Characters are named as every other check and the YAML errors name them.
    #[test]
    fn control_characters_are_named_by_code_point() {
        assert_eq!(
            branch_name("main\u{7}"),
            Err("it contains the control character U+0007".to_owned())
        );
    }

    #[test]
    fn email_addresses() {
        for ok in ["ops@example.com", "a.b+tag@mail.example.org", "o'neil@x.io"] {
            assert_eq!(email_address(ok), Ok(()), "{ok}");
        }
        for bad in [
            "ops",
            "ops@",
            "@example.com",
            "a@b@example.com",
            "ops@example.com\n}\n:80 {",
            "ops @example.com",
            "ops@localhost",
            "a..b@example.com",
            "{env.X}@example.com",
            "ops@-x.example.com",
            "\"ops\"@example.com",
        ] {
            assert!(email_address(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn url_paths() {
        for ok in [
            "/",
            "/healthz",
            "/api/v1/",
            "/a%20b",
            "/~user/x;y=1",
            "/a:b@c",
        ] {
            assert_eq!(url_path(ok, false), Ok(()), "{ok}");
        }
        assert_eq!(url_path("/health?ready=1&x=/y?", true), Ok(()));
        assert!(url_path("/health?ready=1", false).is_err());
        for bad in [
            "healthz", "/a b", "/a\"b", "/${{x}}", "/a#b", "/a%2", "/a%zz", "/a\\b", "/a`id`",
            "/a<b>", "/é",
        ] {
            assert!(url_path(bad, true).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn git_urls() {
        for ok in [
            "https://github.com/acme/app",
            "https://git.example.com:8443/ops/config.git",
            "http://10.0.0.5/ops/config.git",
            "ssh://git@github.com/me/homelab.git",
            "ssh://git@gitlab.lan:2222/ops/config.git",
            "git@github.com:acme/platform-config.git",
        ] {
            assert_eq!(git_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "ext::sh -c touch% /tmp/pwned",
            "ext::sh",
            "file:///etc",
            "/srv/git/config",
            "git://example.com/x",
            "ssh://-oProxyCommand=id/x",
            "https://github.com",
            "https://exa mple.com/x",
            "github.com:acme/x",
            "-u@host:x",
            "git@host:-x",
            "https://host/x'y",
        ] {
            assert!(git_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn branch_names() {
        for ok in ["main", "develop", "release/1.2", "feature/a_b-c+d"] {
            assert_eq!(branch_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "-x",
            "a..b",
            "a//b",
            "/a",
            "a/",
            "a.",
            "a.lock",
            ".hidden",
            "${{ github.event.pull_request.title }}",
            "a b",
            "a'b",
            "a$b",
        ] {
            assert!(branch_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn relative_dirs() {
        for ok in [".", "infra", "./infra/kiln", "infra/"] {
            assert_eq!(relative_dir(ok), Ok(()), "{ok}");
        }
        for bad in ["/abs", "../up", "a/../b", "a;id", "a b", "-x"] {
            assert!(relative_dir(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bind_addresses() {
        assert!(is_ip("127.0.0.1") && is_ip("::1") && !is_ip("127.0.0.1\n:80"));
        assert!(is_hostname("localhost") && is_hostname("lan.example.com"));
        assert!(!is_hostname("a b") && !is_hostname("-a") && !is_hostname("a..b"));
    }
}
