//! An app's files on a cluster (see [`crate::model::AppFile`]): the text files are one
//! ConfigMap `<app>-files-<hash>` ([`crate::model::content_hash`] of its keys and
//! texts, so a changed file is a new name and rolls the pods, as kustomize's
//! generators do), each file mounted read-only with `subPath` at its path; a secret
//! file is a `secret` volume of the Secret kiln seals for the model secret (the
//! app's SealedSecret), with the one key as an item (mode 0440 unless the model says
//! otherwise: the pod's `fsGroup` reads it), mounted read-only with `subPath`.

use super::{AppCx, Object, Workload};
use crate::model::{FileSource, SECRET_FILE_MODE, content_hash, file_key, text_files};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, KeyToPath, SecretVolumeSource, Volume, VolumeMount,
};
use std::collections::BTreeMap;

/// The pod volume of the app's text files.
pub const FILES_VOLUME: &str = "kiln-files";

/// The name of the app's ConfigMap of files whose keys and texts are `data`.
pub fn config_map_name(app: &str, data: &BTreeMap<String, String>) -> String {
    format!("{app}-files-{}", content_hash(data))
}

/// The pod volume of the secret files from model secret `secret`.
pub fn secret_volume_name(secret: &str) -> String {
    format!("kiln-secret-{secret}")
}

/// Adds the app's files: the ConfigMap, the pod volumes and the container's mounts.
pub fn apply(cx: &AppCx<'_>, w: &mut Workload) {
    let data = text_files(&cx.app.files);
    let mut modes = BTreeMap::new();
    let mut secrets: BTreeMap<String, Vec<KeyToPath>> = BTreeMap::new();
    let mut mounts = Vec::new();
    for (path, file) in &cx.app.files {
        let key = file_key(path);
        let volume = match file.source() {
            Some(FileSource::Text(_)) => {
                if let Some(m) = file.mode_bits() {
                    modes.insert(key.clone(), m);
                }
                FILES_VOLUME.to_owned()
            }
            Some(FileSource::Secret(r)) => {
                secrets
                    .entry(r.secret.to_string())
                    .or_default()
                    .push(KeyToPath {
                        key: r.key.clone(),
                        path: key.clone(),
                        mode: Some(file.mode_bits().unwrap_or(SECRET_FILE_MODE)),
                        ..Default::default()
                    });
                secret_volume_name(r.secret.as_str())
            }
            None => continue,
        };
        mounts.push(VolumeMount {
            name: volume,
            mount_path: path.clone(),
            sub_path: Some(key),
            read_only: Some(true),
            ..Default::default()
        });
    }
    if mounts.is_empty() {
        return;
    }
    let mut volumes = Vec::new();
    if !data.is_empty() {
        let name = config_map_name(cx.name.as_str(), &data);
        volumes.push(Volume {
            name: FILES_VOLUME.to_owned(),
            config_map: Some(ConfigMapVolumeSource {
                name: name.clone(),
                items: (!modes.is_empty()).then(|| {
                    data.keys()
                        .map(|k| KeyToPath {
                            key: k.clone(),
                            path: k.clone(),
                            mode: modes.get(k).copied(),
                            ..Default::default()
                        })
                        .collect()
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
        w.objects.push(Object::from(&ConfigMap {
            metadata: cx.meta(&name, "config"),
            data: Some(data),
            ..Default::default()
        }));
    }
    for (secret, items) in secrets {
        volumes.push(Volume {
            name: secret_volume_name(&secret),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret),
                items: Some(items),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    w.container()
        .volume_mounts
        .get_or_insert_with(Vec::new)
        .extend(mounts);
    w.pod.volumes.get_or_insert_with(Vec::new).extend(volumes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_map_name_changes_with_the_content() {
        let a = BTreeMap::from([("k".to_owned(), "one".to_owned())]);
        let b = BTreeMap::from([("k".to_owned(), "two".to_owned())]);
        let (na, nb) = (config_map_name("prom", &a), config_map_name("prom", &b));
        assert!(na.starts_with("prom-files-") && na.len() == "prom-files-".len() + 8);
        assert_ne!(na, nb);
        assert_eq!(na, config_map_name("prom", &a.clone()));
    }
}
