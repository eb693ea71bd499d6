//! Interpolation: `${name}` in every string replaced by the environment's variables
//! (`env`, `domain`, and everything under `vars`).

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::Name;
use crate::yaml::{Key, Node, Value};
use std::collections::BTreeMap;

/// Replaces `${name}` in every string with the environment's variables; `$${` is a
/// literal `${`.
///
/// A variable whose definition is itself wrong (a `domain` that is not a string, an
/// `environment` or `vars` that is not a mapping, a variable that is a list) is
/// reported once, where it is defined, and not again at every use.
pub(super) fn interpolate(root: &mut Node, env: &Name, diags: &mut Diagnostics) {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    // Names whose definition was reported as wrong; `None` in the set: all of `vars`.
    let mut broken: std::collections::BTreeSet<Option<String>> = Default::default();
    vars.insert("env".to_owned(), env.to_string());
    let mut not_a = |node: &Node, expected: &str, pointer: &str| {
        diags.push(
            Diagnostic::error(
                checks::SCHEMA,
                format!(
                    "expected {expected}, found a {} (at {pointer})",
                    node.type_name()
                ),
            )
            .at(Some(node.span)),
        );
    };
    match root.get("environment") {
        Some(
            e @ Node {
                value: Value::Map(_),
                ..
            },
        ) => match e.get("domain") {
            Some(Node {
                value: Value::String(domain),
                ..
            }) => {
                vars.insert("domain".to_owned(), domain.clone());
            }
            Some(d) => {
                not_a(d, "a string", "/environment/domain");
                broken.insert(Some("domain".to_owned()));
            }
            None => {}
        },
        Some(e) => {
            not_a(e, "a mapping", "/environment");
            broken.insert(Some("domain".to_owned()));
        }
        None => {}
    }
    match root.get("vars") {
        Some(Node {
            value: Value::Map(entries),
            ..
        }) => {
            for (Key { name, span }, value) in entries {
                match value.as_str() {
                    Some(v) if !v.contains("${") => {
                        if name == "env" || name == "domain" {
                            diags.push(
                                Diagnostic::error(
                                    checks::INTERPOLATION,
                                    format!(
                                        "`{name}` is a built-in variable and cannot be set under `vars`"
                                    ),
                                )
                                .at(Some(*span)),
                            );
                        } else {
                            vars.insert(name.clone(), v.to_owned());
                        }
                    }
                    Some(_) => {
                        broken.insert(Some(name.clone()));
                        diags.push(
                            Diagnostic::error(
                                checks::INTERPOLATION,
                                "variables cannot refer to other variables",
                            )
                            .at(Some(value.span)),
                        );
                    }
                    None => {
                        broken.insert(Some(name.clone()));
                        diags.push(
                            Diagnostic::error(
                                checks::INTERPOLATION,
                                format!(
                                    "variable `{name}` must be a string, found a {}",
                                    value.type_name()
                                ),
                            )
                            .at(Some(value.span)),
                        );
                    }
                }
            }
        }
        Some(v) => {
            not_a(v, "a mapping", "/vars");
            broken.insert(None);
        }
        None => {}
    }
    walk_strings(root, &mut Vec::new(), &mut |node| {
        let Value::String(s) = &node.value else {
            return;
        };
        if !s.contains("${") {
            return;
        }
        match substitute(s, &vars) {
            Ok(out) => node.value = Value::String(out),
            Err(None) => diags.push(
                Diagnostic::error(checks::INTERPOLATION, "`${` is not closed with `}`")
                    .at(Some(node.span))
                    .help("write `${name}`, or `$${` for a literal `${`"),
            ),
            Err(Some(unknown))
                if broken.contains(&Some(unknown.clone())) || broken.contains(&None) => {}
            Err(Some(unknown)) => {
                let known: Vec<_> = vars.keys().map(String::as_str).collect();
                diags.push(
                    Diagnostic::error(checks::INTERPOLATION, format!("`${{{unknown}}}` is not defined"))
                        .at(Some(node.span))
                        .help(format!(
                            "defined variables: {}; add `{unknown}` under `vars`, or write `$${{` for a literal `${{`",
                            known.join(", ")
                        )),
                );
            }
        }
    });
}

fn walk_strings(node: &mut Node, path: &mut Vec<String>, f: &mut impl FnMut(&mut Node)) {
    // An app file's `content` keeps every `$` unless the file asks for `interpolate`.
    let literal_content = is_app_file(path)
        && !matches!(
            node.get("interpolate"),
            Some(Node {
                value: Value::Bool(true),
                ..
            })
        );
    match &mut node.value {
        Value::Map(entries) => {
            for (key, value) in entries.iter_mut() {
                if key.name == "vars" || (literal_content && key.name == "content") {
                    continue;
                }
                path.push(key.name.clone());
                walk_strings(value, path, f);
                path.pop();
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|n| walk_strings(n, path, f)),
        Value::String(_) => f(node),
        _ => {}
    }
}

/// Whether `path` is that of one app file (`apps/<app>/files/<path>`).
fn is_app_file(path: &[String]) -> bool {
    matches!(path, [apps, _, files, _] if apps == "apps" && files == "files")
}

/// Replaces `${name}` in `text` with the environment's variables (`env`, `domain`,
/// `vars`), as in the model; the error names the first unknown variable, or is `None`
/// for a `${` that is never closed.
pub(crate) fn substitute_vars(
    text: &str,
    env: &str,
    model: &crate::model::Model,
) -> Result<String, Option<String>> {
    let mut vars = model.vars.clone();
    vars.insert("env".to_owned(), env.to_owned());
    if let Some(d) = &model.environment.domain {
        vars.insert("domain".to_owned(), d.clone());
    }
    substitute(text, &vars)
}

/// Substitutes `${name}`; on failure returns the first unknown name, or `None` for a
/// `${` that is never closed.
fn substitute(s: &str, vars: &BTreeMap<String, String>) -> Result<String, Option<String>> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(lit) = after.strip_prefix("${") {
            out.push_str("${");
            rest = lit;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                return Err(None);
            };
            let name = &body[..end];
            out.push_str(vars.get(name).ok_or_else(|| Some(name.to_owned()))?);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [("env", "dev"), ("domain", "example.com")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn substitutes_variables_and_keeps_escaped_dollars() {
        assert_eq!(
            substitute("app.${domain}", &vars()).unwrap(),
            "app.example.com"
        );
        assert_eq!(
            substitute("$${HOME} and $5", &vars()).unwrap(),
            "${HOME} and $5"
        );
        assert_eq!(
            substitute("${nope}", &vars()).unwrap_err().as_deref(),
            Some("nope")
        );
        assert_eq!(substitute("a.${domain", &vars()).unwrap_err(), None);
    }
}
