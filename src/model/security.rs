//! What an image needs from the kernel beyond kiln's restricted default: starting as
//! root (`security.root`), added Linux capabilities, and the Pod Security level a pod
//! with those needs must be admitted at.

use super::PodSecurityLevel;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The image must start as root (s6-overlay images such as linuxserver.io's,
/// Paperless-ngx): the container runs as user 0 and its namespace needs Pod Security
/// `baseline`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Root {
    /// Why the image cannot run as another user (the runbook and reviews read it).
    pub reason: String,
}

/// Linux capabilities added to the container (every other one is dropped).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CapabilitySet {
    /// Capability names, uppercase without `CAP_` (`NET_ADMIN`, `CHOWN`...). Beyond
    /// `NET_BIND_SERVICE` a pod needs Pod Security `baseline`; beyond baseline's list
    /// (`NET_ADMIN`, `SYS_ADMIN`...) `privileged`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<String>,
}

/// Every Linux capability (capabilities(7)), as named in a container's
/// `securityContext.capabilities` and compose's `cap_add`.
pub const CAPABILITIES: &[&str] = &[
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
];

/// The capabilities Pod Security `baseline` lets a container add.
pub const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The lowest Pod Security level that admits a container adding `cap`: `restricted`
/// admits only `NET_BIND_SERVICE`.
pub fn capability_level(cap: &str) -> PodSecurityLevel {
    if cap == "NET_BIND_SERVICE" {
        PodSecurityLevel::Restricted
    } else if BASELINE_CAPABILITIES.contains(&cap) {
        PodSecurityLevel::Baseline
    } else {
        PodSecurityLevel::Privileged
    }
}

/// How strict `level` is as a number, the strictest highest, to compare levels.
pub fn strictness(level: PodSecurityLevel) -> u8 {
    match level {
        PodSecurityLevel::Privileged => 0,
        PodSecurityLevel::Baseline => 1,
        PodSecurityLevel::Restricted => 2,
    }
}

/// Whether namespace level `level` admits a pod that needs `needed`.
pub fn admits(level: PodSecurityLevel, needed: PodSecurityLevel) -> bool {
    strictness(level) <= strictness(needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_levels_follow_pod_security() {
        assert_eq!(
            capability_level("NET_BIND_SERVICE"),
            PodSecurityLevel::Restricted
        );
        assert_eq!(capability_level("CHOWN"), PodSecurityLevel::Baseline);
        assert_eq!(capability_level("NET_ADMIN"), PodSecurityLevel::Privileged);
        assert!(
            BASELINE_CAPABILITIES
                .iter()
                .all(|c| CAPABILITIES.contains(c))
        );
    }

    #[test]
    fn a_level_admits_what_is_at_most_as_strict() {
        use PodSecurityLevel::*;
        assert!(admits(Baseline, Restricted));
        assert!(admits(Baseline, Baseline));
        assert!(!admits(Restricted, Baseline));
        assert!(!admits(Baseline, Privileged));
        assert!(admits(Privileged, Privileged));
    }
}
