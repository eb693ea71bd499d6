//! Generated YAML files as the renderers hand them to the output tree: the bytes
//! (written by [`crate::yaml::write`], the one serializer configuration) and, for
//! objects and patches, the document as data, which the checks over the output read.

pub use crate::yaml::write::{file, file_comments_above, header, to_string};

use super::output_tree::Contents;
use serde::Serialize;
use serde_json::Value;

/// A generated YAML file of `data` (a Kubernetes object, patch operations): the bytes
/// of [`file()`] and the data itself, which checks over the output read instead of
/// parsing the bytes back.
pub fn document(sources: &[String], data: Value) -> Contents {
    Contents {
        bytes: file(sources, &data),
        data: Some(data),
    }
}

/// A generated YAML file of a typed `value`, with its data for checks (see
/// [`document`]). `value` must not contain `serde_saphyr::Commented` (a comment is not
/// data, but it serializes into JSON as a pair); give such values to [`typed_with`].
pub fn typed<T: Serialize>(sources: &[String], value: &T) -> Contents {
    typed_with(sources, value, to_data(value))
}

/// A generated YAML file of a typed `value` whose data, as reading the file back gives
/// it, is `data`.
pub fn typed_with<T: Serialize>(sources: &[String], value: &T, data: Value) -> Contents {
    Contents {
        bytes: file(sources, value),
        data: Some(data),
    }
}

/// `value` as data.
pub fn to_data<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value)
        .unwrap_or_else(|e| panic!("kiln built a value JSON cannot hold: {e}"))
}
