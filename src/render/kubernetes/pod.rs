//! Pieces shared by every pod kiln writes: security contexts, environment
//! variables, resources, writable paths and the wait-for-database init container.

use super::AppCx;
use crate::model::{EnvValue, ResolvedEnv, Resources, SecretRef};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, EnvVarSource, LocalObjectReference,
    PodSecurityContext, ResourceRequirements, SeccompProfile, SecretKeySelector, SecurityContext,
    Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

/// The `nobody` user and group.
const NOBODY: i64 = 65534;

/// The image the wait-for-database init container uses.
pub const WAIT_IMAGE: &str = "busybox:1.37";

/// A pod security context that meets Pod Security "restricted".
pub fn pod_security(uid: u32, gid: u32) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(uid != 0),
        run_as_user: Some(i64::from(uid)),
        run_as_group: Some(i64::from(gid)),
        fs_group: Some(i64::from(gid)),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".to_owned(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A container security context that meets Pod Security "restricted".
pub fn container_security(read_only_root: bool) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(read_only_root),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            add: None,
        }),
        ..Default::default()
    }
}

/// Requests and limits from the model.
pub fn resources(r: Option<&Resources>) -> Option<ResourceRequirements> {
    let r = r?;
    let list = |l: &Option<crate::model::ResourceList>| {
        l.as_ref().map(|l| {
            let mut m = BTreeMap::new();
            if let Some(cpu) = &l.cpu {
                m.insert("cpu".to_owned(), Quantity(cpu.clone()));
            }
            if let Some(mem) = &l.memory {
                m.insert("memory".to_owned(), Quantity(mem.clone()));
            }
            m
        })
    };
    Some(ResourceRequirements {
        requests: list(&r.requests),
        limits: list(&r.limits),
        ..Default::default()
    })
}

/// Small fixed resources for helper containers (init containers, backups).
pub fn helper_resources() -> ResourceRequirements {
    let q = |cpu: &str, mem: &str| {
        BTreeMap::from([
            ("cpu".to_owned(), Quantity(cpu.to_owned())),
            ("memory".to_owned(), Quantity(mem.to_owned())),
        ])
    };
    ResourceRequirements {
        requests: Some(q("10m", "16Mi")),
        limits: Some(q("100m", "64Mi")),
        ..Default::default()
    }
}

/// The app's environment: every variable explicit, secrets as `secretKeyRef` (never
/// `envFrom`: secret keys like `database-url` are not variable names).
pub fn env(cx: &AppCx<'_>) -> Vec<EnvVar> {
    env_vars(cx, &cx.app.env)
}

/// The variables of `env` (the app's, or one of its other containers'). A connection
/// URL around a secret password reads the password into a helper variable first
/// (`KILN_PASSWORD_<VAR>`, listed before every other so that Kubernetes expands
/// `$(KILN_PASSWORD_<VAR>)` in the URL).
pub fn env_vars(cx: &AppCx<'_>, env: &BTreeMap<String, EnvValue>) -> Vec<EnvVar> {
    let from_secret = |name: String, r: &SecretRef| EnvVar {
        name,
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: r.secret.to_string(),
                key: r.key.clone(),
                optional: None,
            }),
            ..Default::default()
        }),
    };
    let text = |name: String, value: String| EnvVar {
        name,
        value: Some(value),
        value_from: None,
    };
    let mut helpers = Vec::new();
    let mut vars = Vec::new();
    for (name, value) in env {
        match cx
            .model
            .resolve_env(&cx.env.name, Some(&cx.namespace), value)
        {
            ResolvedEnv::Text(t) => vars.push(text(name.clone(), t)),
            ResolvedEnv::Secret(r) => vars.push(from_secret(name.clone(), &r)),
            ResolvedEnv::SecretUrl {
                before,
                password,
                after,
            } => {
                let helper = format!("KILN_PASSWORD_{name}");
                vars.push(text(name.clone(), format!("{before}$({helper}){after}")));
                helpers.push(from_secret(helper, &password));
            }
        }
    }
    helpers.extend(vars);
    helpers
}

/// `envFrom` for the secrets the model asks for whole.
pub fn env_from(cx: &AppCx<'_>) -> Option<Vec<k8s_openapi::api::core::v1::EnvFromSource>> {
    use k8s_openapi::api::core::v1::{EnvFromSource, SecretEnvSource};
    (!cx.app.env_from.is_empty()).then(|| {
        cx.app
            .env_from
            .iter()
            .map(|s| EnvFromSource {
                secret_ref: Some(SecretEnvSource {
                    name: s.to_string(),
                    optional: None,
                }),
                ..Default::default()
            })
            .collect()
    })
}

/// An `emptyDir` volume and mount for each writable path.
pub fn writable_paths(paths: &[String]) -> (Vec<Volume>, Vec<VolumeMount>) {
    paths
        .iter()
        .map(|path| {
            let name = volume_name(path);
            (
                Volume {
                    name: name.clone(),
                    empty_dir: Some(EmptyDirVolumeSource::default()),
                    ..Default::default()
                },
                VolumeMount {
                    name,
                    mount_path: path.clone(),
                    ..Default::default()
                },
            )
        })
        .unzip()
}

pub use crate::model::path_volume_name as volume_name;

/// The init container that waits until the app's database accepts connections.
pub fn wait_for_db(host: &str, port: u16, uid_ro: bool) -> Container {
    Container {
        name: "wait-for-db".to_owned(),
        image: Some(WAIT_IMAGE.to_owned()),
        image_pull_policy: Some("Always".to_owned()),
        command: Some(vec![
            "sh".to_owned(),
            "-c".to_owned(),
            format!("until nc -z {host} {port}; do echo waiting for {host}:{port}; sleep 2; done"),
        ]),
        resources: Some(helper_resources()),
        security_context: Some(SecurityContext {
            // Whatever the app runs as, the wait needs no privileges.
            run_as_user: Some(NOBODY),
            run_as_group: Some(NOBODY),
            ..container_security(uid_ro)
        }),
        ..Default::default()
    }
}

/// `imagePullSecrets` for the app's registry, when it is private.
pub fn pull_secrets(cx: &AppCx<'_>) -> Option<Vec<LocalObjectReference>> {
    let registry = cx.model.registries.get(&cx.app.image.as_ref()?.registry)?;
    if !registry.private {
        return None;
    }
    let secret = registry.pull_secret.as_ref()?;
    Some(vec![LocalObjectReference {
        name: secret.to_string(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names_are_dns_labels() {
        assert_eq!(volume_name("/tmp"), "tmp");
        assert_eq!(volume_name("/app/.next/cache"), "app-next-cache");
        assert_eq!(volume_name("/var/cache/nginx"), "var-cache-nginx");
        assert_eq!(volume_name("/"), "root");
    }
}
