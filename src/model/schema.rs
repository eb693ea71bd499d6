//! The JSON Schema of the model: generated from the Rust types (schemars), used to
//! check every environment (jsonschema), and committed under `schema/` for editors.
//!
//! Two schemas come out of the same types:
//! - `schema/kiln.schema.json`, the shape of one resolved environment, which kiln
//!   validates each merged environment against;
//! - `schema/environment-file.schema.json`, the shape of one file under
//!   `environments/`, which editors use: nothing is required (a file may only override
//!   a few values of its base), `extends` and `abstract` are allowed at the top, and
//!   any string may hold a `${var}`.
//!
//! Schema errors come back as diagnostics whose JSON pointer is mapped to the YAML
//! position through the environment's [`SpanIndex`].

use crate::diagnostic::{Diagnostic, checks};
use crate::model::{Model, SpanIndex, names};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::{Value, json};
use std::sync::OnceLock;

/// The schema of one resolved environment.
pub fn model_schema() -> Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Model>();
    let mut value = schema.to_value();
    map_keys_to_property_names(&mut value);
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$id".into(),
            json!("https://kiln.invalid/schema/kiln.schema.json"),
        );
    }
    value
}

/// The schema of one file under `environments/`, for editors.
pub fn file_schema() -> Value {
    let mut value = model_schema();
    loosen(&mut value);
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$id".into(),
            json!("https://kiln.invalid/schema/environment-file.schema.json"),
        );
        obj.insert("title".into(), json!("kiln environment file"));
        obj.insert(
            "description".into(),
            json!("One file under environments/: an environment (named after the file) or, with `abstract: true`, a base that environments extend."),
        );
        if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert(
                "extends".into(),
                json!({"description": "The file (without .yaml) this one is merged over.", "type": "string"}),
            );
            props.insert(
                "abstract".into(),
                json!({"description": "This file is only a base for others, not an environment.", "type": "boolean"}),
            );
        }
    }
    value
}

/// Map keys that are names: schemars writes `patternProperties` plus
/// `additionalProperties: false`, which reports a bad key as an "unexpected
/// property"; `propertyNames` reports it as a bad name.
fn map_keys_to_property_names(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            if let Some(Value::Object(pp)) = obj.get("patternProperties")
                && pp.len() == 1
                && pp.contains_key(names::NAME_PATTERN)
                && obj.get("additionalProperties") == Some(&Value::Bool(false))
            {
                let item = pp.values().next().cloned().unwrap_or(Value::Bool(true));
                obj.remove("patternProperties");
                obj.insert("additionalProperties".into(), item);
                obj.insert("propertyNames".into(), json!({"$ref": "#/$defs/Name"}));
            }
            obj.values_mut().for_each(map_keys_to_property_names);
        }
        Value::Array(items) => items.iter_mut().for_each(map_keys_to_property_names),
        _ => {}
    }
}

fn loosen(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            obj.remove("required");
            if let Some(Value::String(p)) = obj.get_mut("pattern") {
                *p = format!("(?:{p})|\\$\\{{");
            }
            obj.values_mut().for_each(loosen);
        }
        Value::Array(items) => items.iter_mut().for_each(loosen),
        _ => {}
    }
}

struct Compiled {
    schema: Value,
    validator: jsonschema::Validator,
}

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let schema = model_schema();
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&schema)
            .unwrap_or_else(|e| panic!("kiln's own model schema does not compile: {e}"));
        Compiled { schema, validator }
    })
}

/// Validates one resolved environment; every error becomes a located diagnostic.
/// Also returns the JSON pointers of unknown fields, which the loader can drop to
/// keep checking.
pub fn validate(instance: &Value, index: &SpanIndex) -> (Vec<Diagnostic>, Vec<String>) {
    let c = compiled();
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for error in c.validator.iter_errors(instance) {
        describe(&error, c, instance, index, &mut out, &mut unknown);
    }
    (out, unknown)
}

fn describe(
    error: &jsonschema::ValidationError<'_>,
    c: &Compiled,
    instance: &Value,
    index: &SpanIndex,
    out: &mut Vec<Diagnostic>,
    unknown: &mut Vec<String>,
) {
    let pointer = error.instance_path().as_str().to_owned();
    let at = index.value(&pointer);
    let found = instance.pointer(&pointer);
    let diag = match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_properties(&c.schema, error.schema_path().as_str());
            for field in unexpected {
                let field_ptr = format!("{pointer}/{}", crate::pointer::escape(field));
                unknown.push(field_ptr.clone());
                let mut d = Diagnostic::error(
                    checks::UNKNOWN_FIELD,
                    format!("unknown field `{field}`{}", place(&pointer)),
                )
                .at(index.key(&field_ptr));
                if let Some(guess) =
                    crate::suggest::did_you_mean(field, allowed.iter().map(String::as_str))
                {
                    d = d.help(guess);
                } else if !allowed.is_empty() {
                    d = d.help(format!("expected one of: {}", allowed.join(", ")));
                }
                out.push(d);
            }
            return;
        }
        ValidationErrorKind::Required { property } => {
            let field = property.as_str().unwrap_or_default();
            let d = Diagnostic::error(
                checks::SCHEMA,
                format!("missing field `{field}`{}", place(&pointer)),
            )
            .at(index.key(&pointer));
            match misspelt_app(instance, &pointer, field) {
                Some(app) => d.help(format!(
                    "did you mean app `{app}`? Settings of an app (its `patches`, `env`...) go under the app's own name; a new name is a new app, which needs `{field}`"
                )),
                None => d,
            }
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(ts) => ts
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            Diagnostic::error(
                checks::SCHEMA,
                format!(
                    "expected {expected}, found {}{}",
                    show(found),
                    place(&pointer)
                ),
            )
            .at(at)
        }
        ValidationErrorKind::Enum { options } => {
            let opts: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|o| o.as_str().map_or(o.to_string(), str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            Diagnostic::error(
                checks::SCHEMA,
                format!(
                    "{} is not one of: {}{}",
                    show(found),
                    opts.join(", "),
                    place(&pointer)
                ),
            )
            .at(at)
        }
        ValidationErrorKind::Constant { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            match one_of_strings(&c.schema, error.schema_path().as_str()) {
                Some(opts) => Diagnostic::error(
                    checks::SCHEMA,
                    format!(
                        "{} is not one of: {}{}",
                        show(found),
                        opts.join(", "),
                        place(&pointer)
                    ),
                )
                .at(at),
                None => generic(error, &pointer, at),
            }
        }
        ValidationErrorKind::AnyOf { context } => match intended_alternative(context, &pointer) {
            Some(errs) => {
                for e in errs {
                    describe(e, c, instance, index, out, unknown);
                }
                return;
            }
            None => match several_alternatives(&c.schema, error.schema_path().as_str(), found) {
                Some(keys) => Diagnostic::error(
                    checks::SCHEMA,
                    format!(
                        "{} are alternatives: write one of them{}",
                        keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and "),
                        place(&pointer)
                    ),
                )
                .at(at)
                .help(format!("a file that `extends` another merges into its mappings: to replace the base's choice, set it to null here, e.g. `{}: null`", keys[0])),
                None => Diagnostic::error(
                    checks::SCHEMA,
                    format!("{} is not a valid value{}", show(found), place(&pointer)),
                )
                .at(at)
                .help(describe_any_of(&c.schema, error.schema_path().as_str())),
            },
        },
        ValidationErrorKind::Pattern { .. } => pattern_error(&c.schema, error, found, &pointer, at),
        ValidationErrorKind::PropertyNames { error: inner } => {
            let name = inner
                .instance()
                .as_str()
                .map(str::to_owned)
                .unwrap_or_default();
            let why = names::validate(&name, 63)
                .err()
                .unwrap_or_else(|| inner.to_string());
            let key_ptr = format!("{pointer}/{}", crate::pointer::escape(&name));
            Diagnostic::error(checks::INVALID_NAME, format!("invalid name: {why}"))
                .at(index.key(&key_ptr))
        }
        _ => generic(error, &pointer, at),
    };
    out.push(diag);
}

/// The alternative of an `anyOf` the value was meant to be, when one stands out:
/// either every error of one alternative lies deeper than the value itself (it got
/// furthest), or exactly one alternative accepts the value's type and finds every
/// field it requires (a mapping with a typo in one field: report that field, not
/// "not a valid value").
fn intended_alternative<'a, 'e>(
    context: &'a [Vec<jsonschema::ValidationError<'e>>],
    pointer: &str,
) -> Option<&'a Vec<jsonschema::ValidationError<'e>>> {
    let at_value = |e: &jsonschema::ValidationError<'_>| e.instance_path().as_str() == pointer;
    let deepest = context
        .iter()
        .filter(|errs| !errs.is_empty())
        .max_by_key(|errs| {
            errs.iter()
                .map(|e| e.instance_path().as_str().len())
                .min()
                .unwrap_or(0)
        });
    if let Some(errs) = deepest
        && errs
            .iter()
            .all(|e| e.instance_path().as_str().len() > pointer.len())
    {
        return Some(errs);
    }
    let mut fitting = context.iter().filter(|errs| {
        !errs.is_empty()
            && errs.iter().all(|e| {
                !at_value(e) || matches!(e.kind(), ValidationErrorKind::AdditionalProperties { .. })
            })
    });
    match (fitting.next(), fitting.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

fn generic(
    error: &jsonschema::ValidationError<'_>,
    pointer: &str,
    at: Option<crate::diagnostic::Span>,
) -> Diagnostic {
    Diagnostic::error(checks::SCHEMA, format!("{error}{}", place(pointer))).at(at)
}

fn pattern_error(
    schema: &Value,
    error: &jsonschema::ValidationError<'_>,
    found: Option<&Value>,
    pointer: &str,
    at: Option<crate::diagnostic::Span>,
) -> Diagnostic {
    let s = found.and_then(Value::as_str).unwrap_or_default();
    let sub = schema_at(schema, parent_keyword(error.schema_path().as_str()));
    let is_name = sub
        .and_then(|s| s.get("pattern"))
        .and_then(Value::as_str)
        .is_some_and(|p| p == names::NAME_PATTERN);
    if is_name {
        let why = names::validate(s, 63).err().unwrap_or_default();
        return Diagnostic::error(checks::INVALID_NAME, format!("invalid name: {why}")).at(at);
    }
    let what = sub
        .and_then(|s| s.get("description"))
        .and_then(Value::as_str);
    let mut d = Diagnostic::error(
        checks::SCHEMA,
        format!("`{s}` is not in the expected format{}", place(pointer)),
    )
    .at(at);
    if let Some(what) = what {
        d = d.help(what.to_owned());
    }
    d
}

/// " in /apps/web" for messages, or nothing at the root.
/// For a field missing from `/apps/<name>`: the app of a close name that has it, when
/// `<name>` is likely a typo (settings for an app written under a wrong name).
fn misspelt_app<'a>(instance: &'a Value, pointer: &str, field: &str) -> Option<&'a str> {
    let name = pointer
        .strip_prefix("/apps/")
        .filter(|n| !n.contains('/'))?;
    let apps = instance.get("apps")?.as_object()?;
    let complete = apps
        .iter()
        .filter(|(n, a)| n.as_str() != name && a.get(field).is_some())
        .map(|(n, _)| n.as_str());
    crate::suggest::closest(name, complete)
}

fn place(pointer: &str) -> String {
    if pointer.is_empty() {
        String::new()
    } else {
        format!(" (at {pointer})")
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "nothing".to_owned(),
        Some(Value::String(s)) => format!("the string {s:?}"),
        Some(Value::Null) => "null".to_owned(),
        Some(Value::Bool(b)) => format!("the boolean {b}"),
        Some(Value::Number(n)) => format!("the number {n}"),
        Some(Value::Array(_)) => "a list".to_owned(),
        Some(Value::Object(_)) => "a mapping".to_owned(),
    }
}

/// Walks a schema by a keyword location, following `$ref`s into `$defs`.
fn schema_at<'a>(root: &'a Value, location: &str) -> Option<&'a Value> {
    let mut node = root;
    for seg in crate::pointer::segments(location) {
        if seg == "$ref" {
            let target = node.get("$ref")?.as_str()?;
            node = root.pointer(target.strip_prefix('#')?)?;
            continue;
        }
        node = match node {
            Value::Object(o) => o.get(&seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    // A location may end on a `$ref`'d schema.
    while let Some(target) = node.get("$ref").and_then(Value::as_str) {
        node = root.pointer(target.strip_prefix('#')?)?;
    }
    Some(node)
}

/// Drops the last segment (the keyword) of a keyword location.
fn parent_keyword(location: &str) -> &str {
    location.rfind('/').map_or("", |i| &location[..i])
}

fn allowed_properties(root: &Value, location: &str) -> Vec<String> {
    schema_at(root, parent_keyword(location))
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn one_of_strings(root: &Value, location: &str) -> Option<Vec<String>> {
    let mut loc = location;
    // For `const` failures the location ends in `/oneOf/N/const`: go up to the oneOf.
    while let Some(i) = loc.rfind("/oneOf") {
        let candidate = &loc[..i];
        if let Some(alts) = schema_at(root, candidate)
            .and_then(|s| s.get("oneOf"))
            .and_then(Value::as_array)
        {
            let mut out = Vec::new();
            for alt in alts {
                if let Some(c) = alt.get("const").and_then(Value::as_str) {
                    out.push(c.to_owned());
                } else if let Some(e) = alt.get("enum").and_then(Value::as_array) {
                    out.extend(e.iter().filter_map(Value::as_str).map(str::to_owned));
                } else {
                    return None;
                }
            }
            return Some(out);
        }
        loc = candidate;
    }
    None
}

/// For a mapping that holds the fields of two or more alternatives of an `anyOf` (a
/// secret key with `op` and `template`), the first field each of those requires.
fn several_alternatives(
    root: &Value,
    location: &str,
    found: Option<&Value>,
) -> Option<Vec<String>> {
    let fields = found?.as_object()?;
    let alts = schema_at(root, parent_keyword(location))?
        .get("anyOf")?
        .as_array()?;
    let matched: Vec<String> = alts
        .iter()
        .filter_map(|alt| {
            let required = resolve_refs(root, alt).get("required")?.as_array()?;
            let names: Vec<&str> = required.iter().filter_map(Value::as_str).collect();
            (!names.is_empty() && names.iter().all(|n| fields.contains_key(*n)))
                .then(|| names[0].to_owned())
        })
        .collect();
    (matched.len() > 1).then_some(matched)
}

fn describe_any_of(root: &Value, location: &str) -> String {
    let alts = schema_at(root, parent_keyword(location))
        .and_then(|s| s.get("anyOf"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let shapes: Vec<String> = alts
        .iter()
        .map(|alt| {
            let alt = resolve_refs(root, alt);
            if let Some(props) = alt.get("properties").and_then(Value::as_object) {
                let req: Vec<&str> = alt
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_else(|| props.keys().map(String::as_str).collect());
                format!(
                    "a mapping with {}",
                    req.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                )
            } else if let Some(t) = alt.get("type") {
                match t {
                    Value::String(s) => with_article(s),
                    other => format!("one of {other}"),
                }
            } else {
                describe_any_of_nested(root, alt)
            }
        })
        .collect();
    format!("expected {}", shapes.join(", or "))
}

fn describe_any_of_nested(root: &Value, alt: &Value) -> String {
    if alt.get("anyOf").is_some() {
        let inner = describe_any_of(root, "");
        let _ = inner;
        let types: Vec<String> = alt["anyOf"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("type").and_then(Value::as_str).map(with_article))
            .collect();
        types.join(", ")
    } else {
        "a value".to_owned()
    }
}

/// "a string", "an integer".
fn with_article(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

fn resolve_refs<'a>(root: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
            Some(t) => v = t,
            None => break,
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_schema_compiles_and_names_maps_by_property_names() {
        let schema = model_schema();
        let apps = &schema["properties"]["apps"];
        assert_eq!(apps["propertyNames"]["$ref"], "#/$defs/Name");
        assert!(apps.get("patternProperties").is_none());
        let _ = compiled();
    }

    #[test]
    fn file_schema_requires_nothing() {
        let s = file_schema().to_string();
        assert!(!s.contains("\"required\""));
        assert!(s.contains("\"extends\""));
    }
}
