//! An app's named volumes: where its data lives, and where each is mounted in the
//! container. One description for a cluster and a host alike:
//!
//! | source | cluster | host |
//! |---|---|---|
//! | `persistent` | a PersistentVolumeClaim | a bind mount of `<dataDir>/<project>/<app>-<volume>` |
//! | `claim` | an existing PersistentVolumeClaim | (a located error: a claim is a cluster's) |
//! | `hostPath` | a `hostPath` volume (Pod Security `privileged` only) | a bind mount of the path |
//! | `nfs` | an `nfs` volume | a compose volume of the local driver, type `nfs` |
//! | `scratch` | an `emptyDir` | a `tmpfs` |

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

/// A named volume of an app: exactly one source (`persistent`, `claim`, `hostPath`,
/// `nfs` or `scratch`) and where it is mounted (`path`, or several `mounts`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Volume {
    /// Where the volume is mounted in the container, e.g. `/app/data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/\S*$"))]
    pub path: Option<String>,
    /// With `path`: the folder of the volume mounted there instead of its root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[^/\s]\S*$"))]
    pub sub_path: Option<String>,
    /// With `path`: mount it read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Several places the volume is mounted (instead of `path`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<VolumeMount>,
    /// Data that outlives the container: a PersistentVolumeClaim on a cluster, a folder
    /// under the host's `dataDir` on a host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent: Option<Persistent>,
    /// An existing PersistentVolumeClaim in the app's namespace (clusters only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim>,
    /// A folder of the node or host, e.g. `/srv/media` (on a cluster only where the
    /// environment's `podSecurity` is `privileged`: the other levels refuse such pods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/\S*$"))]
    pub host_path: Option<String>,
    /// An NFS export, e.g. a media library on a NAS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfs: Option<Nfs>,
    /// An empty folder for the container's lifetime (`emptyDir` on a cluster, `tmpfs`
    /// on a host): caches and temporary files, never data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scratch: Option<Scratch>,
    /// Archive the volume on a schedule (persistent volumes only): a CronJob on a
    /// cluster, a scheduler service on a host, each writing a dated `.tar.gz`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<VolumeBackup>,
}

/// Scheduled archives of a persistent volume.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeBackup {
    /// When, in cron syntax (five fields), e.g. `0 3 * * *`.
    #[schemars(regex(pattern = r"^\S+ \S+ \S+ \S+ \S+$"))]
    pub schedule: String,
    /// Days an archive is kept before it is deleted.
    #[schemars(range(min = 1))]
    pub retention_days: u32,
    /// The size of the claim archives are written to on a cluster, e.g. `5Gi` (the
    /// volume's own size when unset; on a host, archives go to a folder under the
    /// host's `dataDir`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+(Mi|Gi|Ti)$"))]
    pub storage: Option<String>,
}
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VolumeMount {
    /// The path in the container.
    #[schemars(regex(pattern = r"^/\S*$"))]
    pub path: String,
    /// The folder of the volume mounted there instead of its root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[^/\s]\S*$"))]
    pub sub_path: Option<String>,
    /// Mount it read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// How a persistent volume is provisioned.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Persistent {
    /// The size, e.g. `1Gi`.
    #[schemars(regex(pattern = r"^[0-9]+(Mi|Gi|Ti)$"))]
    pub size: String,
    /// The StorageClass; the cluster's `storageClass` (or its default) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<super::Name>,
    /// Who may mount it at once. `ReadWriteOnce` (the default) and `ReadWriteOncePod`
    /// allow one node or pod: the app then has one replica and is replaced, not rolled.
    #[serde(default)]
    pub access_mode: AccessMode,
    /// Keep the volume (and its data) when the app is removed from the model: Flux
    /// does not prune it (`false` lets Flux delete it with the app).
    #[serde(default = "yes")]
    pub keep: bool,
}

/// An existing PersistentVolumeClaim.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Claim {
    /// Its name in the app's namespace.
    pub name: super::Name,
    /// Its access mode (see `persistent.accessMode`).
    #[serde(default)]
    pub access_mode: AccessMode,
}

/// A PersistentVolume access mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum AccessMode {
    /// One node mounts it read-write.
    #[default]
    ReadWriteOnce,
    /// One pod mounts it read-write.
    ReadWriteOncePod,
    /// Many nodes mount it read-write (NFS, CephFS, Longhorn RWX).
    ReadWriteMany,
    /// Many nodes mount it read-only.
    ReadOnlyMany,
}

impl AccessMode {
    /// The name Kubernetes uses.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
            AccessMode::ReadWriteMany => "ReadWriteMany",
            AccessMode::ReadOnlyMany => "ReadOnlyMany",
        }
    }

    /// Whether only one node or pod may mount it read-write.
    pub fn single_writer(self) -> bool {
        matches!(
            self,
            AccessMode::ReadWriteOnce | AccessMode::ReadWriteOncePod
        )
    }
}

/// An NFS export.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Nfs {
    /// The server's name or address, e.g. `nas.lan` or `192.168.1.20`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$"))]
    pub server: String,
    /// The exported path, e.g. `/volume1/media`.
    #[schemars(regex(pattern = r"^/\S*$"))]
    pub path: String,
}

/// An empty folder for the container's lifetime.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scratch {
    /// The most it may hold, e.g. `512Mi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+(Ki|Mi|Gi)$"))]
    pub size_limit: Option<String>,
    /// Keep it in memory (`tmpfs` on a cluster too).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub memory: bool,
}

/// Which source a volume has.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Source<'a> {
    /// `persistent`.
    Persistent(&'a Persistent),
    /// `claim`.
    Claim(&'a Claim),
    /// `hostPath`.
    HostPath(&'a str),
    /// `nfs`.
    Nfs(&'a Nfs),
    /// `scratch`.
    Scratch(&'a Scratch),
}

impl Source<'_> {
    /// The model field that gives this source.
    pub fn field(&self) -> &'static str {
        match self {
            Source::Persistent(_) => "persistent",
            Source::Claim(_) => "claim",
            Source::HostPath(_) => "hostPath",
            Source::Nfs(_) => "nfs",
            Source::Scratch(_) => "scratch",
        }
    }
}

impl Volume {
    /// Every source the volume names (a valid volume names exactly one).
    pub fn sources(&self) -> Vec<Source<'_>> {
        let mut out = Vec::new();
        out.extend(self.persistent.as_ref().map(Source::Persistent));
        out.extend(self.claim.as_ref().map(Source::Claim));
        out.extend(self.host_path.as_deref().map(Source::HostPath));
        out.extend(self.nfs.as_ref().map(Source::Nfs));
        out.extend(self.scratch.as_ref().map(Source::Scratch));
        out
    }

    /// The volume's source (the first, when a model error names several).
    pub fn source(&self) -> Option<Source<'_>> {
        self.sources().into_iter().next()
    }

    /// Every place it is mounted: `path` (with `subPath`, `readOnly`) and `mounts`.
    pub fn all_mounts(&self) -> Vec<VolumeMount> {
        let mut out = Vec::new();
        if let Some(path) = &self.path {
            out.push(VolumeMount {
                path: path.clone(),
                sub_path: self.sub_path.clone(),
                read_only: self.read_only,
            });
        }
        out.extend(self.mounts.iter().cloned());
        out
    }

    /// The access mode of a claim or persistent volume.
    pub fn access_mode(&self) -> Option<AccessMode> {
        match self.source()? {
            Source::Persistent(p) => Some(p.access_mode),
            Source::Claim(c) => Some(c.access_mode),
            _ => None,
        }
    }
}

/// The file-name prefix of a volume's archives: `<app>-<volume>` (archives are
/// `<app>-<volume>_<UTC date and time>.tar.gz`).
pub fn archive_prefix(app: &str, volume: &str) -> String {
    format!("{app}-{volume}")
}

/// The pod volume name of a model volume: `vol-<name>` (checked against the names of
/// `writablePaths` volumes, [`path_volume_name`], by `validate::volumes`).
pub fn pod_volume_name(volume: &str) -> String {
    format!("vol-{volume}")
}

/// The pod volume name of a path (a `writablePaths` entry): `/app/.next/cache` → `app-next-cache`.
pub fn path_volume_name(path: &str) -> String {
    let mut name = String::new();
    for c in path.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_end_matches('-');
    let name = if name.is_empty() { "root" } else { name };
    name.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}
