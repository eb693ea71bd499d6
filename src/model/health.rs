//! The parts of an app's [`crate::model::Health`] of their own: the startup probe of a
//! slow starter and the HTTP tool a host's health check uses.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

fn thirty() -> u32 {
    30
}

fn ten() -> u32 {
    10
}

/// A startup probe: the app may take up to `failureThreshold × periodSeconds` seconds
/// to start; liveness and readiness wait until it has passed once.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HealthStartup {
    /// Failed checks allowed while starting (default 30).
    #[serde(default = "thirty")]
    pub failure_threshold: u32,
    /// Seconds between checks while starting (default 10).
    #[serde(default = "ten")]
    pub period_seconds: u32,
}

/// The HTTP client an image has, which a host's compose health check runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthTool {
    /// `wget` (busybox in Alpine-based images has it).
    Wget,
    /// `curl`.
    Curl,
}

impl HealthTool {
    /// The command that asks `url` and fails unless it answers 2xx/3xx.
    pub fn command(self, url: &str) -> Vec<String> {
        let words: &[&str] = match self {
            HealthTool::Wget => &["wget", "-q", "-O", "/dev/null"],
            HealthTool::Curl => &["curl", "-fsS", "-o", "/dev/null"],
        };
        words
            .iter()
            .map(|w| (*w).to_owned())
            .chain([url.to_owned()])
            .collect()
    }
}
