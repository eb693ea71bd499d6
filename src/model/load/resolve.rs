//! Resolving one environment: its chain merged, variables substituted, literal secret
//! values taken out, the JSON Schema checked, and the result read into a typed
//! [`Model`].

use super::extends::Pending;
use super::interpolate::interpolate;
use super::span_index::SpanIndex;
use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{Environment, Model, literal_secrets, schema};

/// The environment `pending` describes, or `None` when it has errors (reported).
pub(super) fn resolve(pending: Pending<'_>, diags: &mut Diagnostics) -> Option<Environment> {
    let Pending {
        name,
        chain,
        file,
        sources,
    } = pending;
    let mut merged = super::merge::chain(&chain)?;
    let before = diags.error_count();
    interpolate(&mut merged, &name, diags);
    if diags.error_count() > before {
        return None;
    }
    let index = SpanIndex::of(&merged);
    let mut json = merged.to_json();
    diags.extend(literal_secrets::literal_values(&mut json, &index));
    let (errors, unknown) = schema::validate(&json, &index);
    if !errors.is_empty() {
        // Unknown fields alone do not stop the checks that follow: drop them and go
        // on, so one run reports every problem. The errors still fail the build.
        let only_unknown = errors.iter().all(|d| d.name == checks::UNKNOWN_FIELD.name);
        diags.extend(errors);
        if !only_unknown {
            return None;
        }
        for pointer in unknown {
            crate::pointer::remove(&mut json, &pointer);
        }
    }
    match serde_path_to_error::deserialize::<_, Model>(json) {
        Ok(model) => Some(Environment {
            name,
            file,
            sources,
            model,
            index,
        }),
        Err(e) => {
            let pointer = path_to_pointer(e.path());
            diags.push(
                Diagnostic::error(checks::SCHEMA, e.inner().to_string()).at(index.value(&pointer)),
            );
            None
        }
    }
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&crate::pointer::escape(key)),
            Segment::Enum { variant } => out.push_str(&crate::pointer::escape(variant)),
            Segment::Unknown => {}
        }
    }
    out
}
