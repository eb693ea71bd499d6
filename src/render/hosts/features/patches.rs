//! Hand patches on a host (`patches.compose`): a compose override fragment merged
//! into the app's compose service by compose's merge rules, so the committed compose
//! file is the merged result (what `docker compose -f kiln.yaml -f override.yaml
//! config` would give) and `docker compose config` validates it.
//!
//! [`apply`] hands the fragment to the service; it is merged when the compose file is
//! written ([`super::super::compose`]), after everything kiln adds to the service
//! (its database dependency among them). [`merge`] is the merge, the subset of the
//! Compose Specification's merge rules kiln implements exactly (`validate::patches`
//! refuses the forms outside it):
//!
//! - mappings merge key by key, a scalar replaces; `null` changes nothing, as in
//!   compose (which removes only with its `!reset` tag; the model's own merge has
//!   already taken `null`s out of the fragment);
//! - `command`, `entrypoint`, `healthcheck.test` and `profiles` are replaced;
//! - `ports` merge by `{host_ip, target, published, protocol}`, `volumes` by `target`,
//!   `secrets` and `configs` by `source`: an entry of the same key is merged into the
//!   existing one, others are appended;
//! - any other sequence gets the values it lacks appended (compose keeps each value
//!   once: `cap_add`, `dns`, `tmpfs`...).

use super::{HostAppCx, HostWorkload};
use serde_json::{Map, Value};

/// Gives the app's compose fragment, if any, to its service.
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    w.service.hand.clone_from(&cx.app.patches.compose);
}

/// Merges compose override fragment `over` into service `service` (both as data).
pub fn merge(service: &mut Map<String, Value>, over: &Map<String, Value>) {
    merge_map(service, over, "");
}

fn merge_map(base: &mut Map<String, Value>, over: &Map<String, Value>, at: &str) {
    for (key, value) in over {
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        match (base.get_mut(key), value) {
            (_, Value::Null) => {}
            (Some(Value::Object(b)), Value::Object(o)) => merge_map(b, o, &path),
            (Some(Value::Array(b)), Value::Array(o)) => merge_seq(b, o, &path),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

fn merge_seq(base: &mut Vec<Value>, over: &[Value], path: &str) {
    if matches!(
        path,
        "command" | "entrypoint" | "healthcheck.test" | "profiles"
    ) {
        *base = over.to_vec();
        return;
    }
    let key: Option<fn(&Value) -> Value> = match path {
        "ports" => Some(port_key),
        "volumes" => Some(|v: &Value| v["target"].clone()),
        "secrets" | "configs" => Some(|v: &Value| match v {
            Value::String(_) => v.clone(),
            _ => v["source"].clone(),
        }),
        _ => None,
    };
    for item in over {
        match key {
            Some(key) => match (base.iter_mut().find(|b| key(b) == key(item)), item) {
                (Some(Value::Object(b)), Value::Object(o)) => merge_map(b, o, &format!("{path}[]")),
                (Some(b), _) => *b = item.clone(),
                (None, _) => base.push(item.clone()),
            },
            None => {
                if !base.contains(item) {
                    base.push(item.clone());
                }
            }
        }
    }
}

/// A port's identity: host address, container port, published port, protocol, with
/// compose's defaults (any address, `tcp`) and the published port as text.
fn port_key(port: &Value) -> Value {
    let text = |v: &Value| match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    let protocol = match &port["protocol"] {
        Value::String(p) => p.clone(),
        _ => "tcp".to_owned(),
    };
    serde_json::json!([
        text(&port["host_ip"]),
        text(&port["target"]),
        text(&port["published"]),
        protocol
    ])
}
