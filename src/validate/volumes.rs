//! App volumes: each has exactly one source and at least one mount; no two mounts of
//! an app share a path; a volume one node or pod writes (`ReadWriteOnce`) means one
//! replica; a source the app's placement cannot provide is a located error naming the
//! field (a claim on a host, a host folder in a namespace whose Pod Security level
//! refuses it).

use crate::diagnostic::{Diagnostic, Diagnostics, checks};
use crate::model::{
    Environment, Placement, PodSecurityLevel, Source, path_volume_name, pod_volume_name,
};
use std::collections::BTreeMap;

/// Checks the volumes of every enabled app of `env`.
pub fn check(env: &Environment, diags: &mut Diagnostics) {
    for (name, app) in env.model.enabled_apps() {
        let at = |rest: &str| format!("/apps/{name}{rest}");
        let placement = env.model.placement(app);
        // Every mount path of the app, with where it was declared.
        let mut paths: BTreeMap<String, String> = BTreeMap::new();
        for path in &app.security.writable_paths {
            paths.insert(path.clone(), at("/security/writablePaths"));
        }
        for (vol_name, vol) in &app.volumes {
            let vol_at = at(&format!("/volumes/{vol_name}"));
            // On a cluster, each is a pod volume; a writable path's volume must not
            // take the same name.
            if let Some(path) = app
                .security
                .writable_paths
                .iter()
                .find(|p| path_volume_name(p) == pod_volume_name(vol_name.as_str()))
            {
                diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!("volume `{vol_name}` of `{name}` and its writable path `{path}` would be one pod volume"),
                    )
                    .at(env.key_span(&vol_at))
                    .label(env.span(&at("/security/writablePaths")), "the writable path")
                    .help("rename the volume, or make the path a `scratch` volume of its own"),
                );
            }
            let sources = vol.sources();
            match sources.as_slice() {
                [] => diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("volume `{vol_name}` of `{name}` has no source"),
                    )
                    .at(env.key_span(&vol_at))
                    .help("give it one of `persistent: {size: 1Gi}`, `claim: {name: ...}`, `hostPath: /srv/...`, `nfs: {server: ..., path: ...}` or `scratch: {}`"),
                ),
                [_] => {}
                [first, second, ..] => diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!(
                            "volume `{vol_name}` of `{name}` has two sources, `{}` and `{}`",
                            first.field(),
                            second.field()
                        ),
                    )
                    .at(env.key_span(&format!("{vol_at}/{}", second.field())))
                    .label(env.key_span(&format!("{vol_at}/{}", first.field())), "the first source")
                    .help("a volume is one thing: keep one source, or declare a second volume"),
                ),
            }
            if vol.path.is_some() && !vol.mounts.is_empty() {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("volume `{vol_name}` of `{name}` has both `path` and `mounts`"),
                    )
                    .at(env.key_span(&format!("{vol_at}/mounts")))
                    .help("move `path` into `mounts` as one more entry"),
                );
            }
            if vol.path.is_none() && (vol.sub_path.is_some() || vol.read_only) {
                let field = if vol.sub_path.is_some() {
                    "subPath"
                } else {
                    "readOnly"
                };
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("`{field}` of volume `{vol_name}` goes with `path`, which it does not have"),
                    )
                    .at(env.key_span(&format!("{vol_at}/{field}")))
                    .help("with `mounts`, give each mount its own `subPath` and `readOnly`"),
                );
            }
            let mounts = vol.all_mounts();
            if mounts.is_empty() {
                diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("volume `{vol_name}` of `{name}` is not mounted anywhere"),
                    )
                    .at(env.key_span(&vol_at))
                    .help("add `path: /where/the/app/reads/it`"),
                );
            }
            for (i, m) in mounts.iter().enumerate() {
                let mount_at = if vol.path.is_some() && i == 0 {
                    format!("{vol_at}/path")
                } else {
                    let offset = usize::from(vol.path.is_some());
                    format!("{vol_at}/mounts/{}/path", i - offset)
                };
                if let Some(sub) = &m.sub_path
                    && sub.split('/').any(|part| part == ".." || part.is_empty())
                {
                    diags.push(
                        Diagnostic::error(
                            checks::INVALID_VALUE,
                            format!("the `subPath` of volume `{vol_name}` must stay inside the volume"),
                        )
                        .at(env.span(&mount_at.replace("/path", "/subPath")))
                        .help("write a relative folder such as `config` or `app/data`, without `..` or empty parts"),
                    );
                }
                let path = m.path.trim_end_matches('/').to_owned();
                let path = if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                };
                if let Some(first) = paths.get(&path) {
                    diags.push(
                        Diagnostic::error(
                            checks::CONFLICT,
                            format!("two volumes of `{name}` are mounted at `{path}`"),
                        )
                        .at(env.span(&mount_at))
                        .label(env.span(first), "also mounted here")
                        .help("mount each volume at its own path (use `subPath` to mount parts of one volume)"),
                    );
                } else {
                    paths.insert(path, mount_at.clone());
                }
            }
            // A StatefulSet's pods each get their own claim of a persistent volume.
            let own_claim = app.kind == crate::model::WorkloadKind::StatefulSet
                && matches!(vol.source(), Some(Source::Persistent(_)));
            if vol.access_mode().is_some_and(|m| m.single_writer())
                && app.replicas > 1
                && !own_claim
            {
                diags.push(
                    Diagnostic::error(
                        checks::CONFLICT,
                        format!(
                            "`{name}` asks for {} replicas, but its volume `{vol_name}` can be written by one pod at a time",
                            app.replicas
                        ),
                    )
                    .at(env.span(&at("/replicas")).or_else(|| env.key_span(&at(""))))
                    .label(env.key_span(&vol_at), "a ReadWriteOnce volume")
                    .help("run one replica, or give the volume `accessMode: ReadWriteMany` on storage that offers it"),
                );
            }
            match (placement, vol.source()) {
                (Some(Placement::Host(host, _)), Some(Source::Claim(_))) => diags.push(
                    Diagnostic::error(
                        checks::INVALID_VALUE,
                        format!("volume `{vol_name}` of `{name}` is an existing claim, which host `{host}` cannot mount"),
                    )
                    .at(env.key_span(&format!("{vol_at}/claim")))
                    .help("on a host, use `persistent: {size: ...}` (a folder under the host's dataDir) or `hostPath`"),
                ),
                (Some(Placement::Cluster(cluster, _)), Some(source))
                    if !pod_security_allows(source, env.model.app_pod_security(name, app)) =>
                {
                    let what = match source {
                        Source::HostPath(_) => "a host folder",
                        _ => "an NFS export mounted by the pod",
                    };
                    diags.push(
                        Diagnostic::error(
                            checks::INVALID_VALUE,
                            format!(
                                "volume `{vol_name}` of `{name}` is {what}, which Pod Security `{}` refuses on cluster `{cluster}`",
                                env.model.app_pod_security(name, app).as_str()
                            ),
                        )
                        .at(env.key_span(&format!("{vol_at}/{}", source.field())))
                        .help(match source {
                            Source::HostPath(_) => format!("on a cluster, use `persistent` or a `claim`; or set {} to `privileged` if the node's folder is really wanted", env.model.pod_security_field(name, app)),
                            _ => format!("use a `claim` of a PersistentVolume that mounts the export (pods may use claims at every level), or set {} to `baseline`", env.model.pod_security_field(name, app)),
                        }),
                    )
                }
                _ => {}
            }
        }
    }
}

/// Whether Pod Security `level` admits a pod with a volume of `source`: `restricted`
/// allows only claims, `emptyDir` and projected kinds; `baseline` also NFS; only
/// `privileged` host folders.
fn pod_security_allows(source: Source<'_>, level: PodSecurityLevel) -> bool {
    match source {
        Source::HostPath(_) => level == PodSecurityLevel::Privileged,
        Source::Nfs(_) => level != PodSecurityLevel::Restricted,
        Source::Persistent(_) | Source::Claim(_) | Source::Scratch(_) => true,
    }
}
