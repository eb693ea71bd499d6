//! Bitnami Sealed Secrets' `SealedSecret` (`bitnami.com/v1alpha1`): values only the
//! cluster's controller can decrypt, and the Secret it makes of them.

use super::{Crd, ObjectMeta, Spec};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A SealedSecret.
pub type SealedSecret = Crd<SealedSecretSpec>;

/// `spec.template`: the Secret the controller creates, less its data.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SecretTemplate {
    /// Keys the Secret gets in the clear (kiln writes none: every value is sealed).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
    /// The Secret's metadata.
    pub metadata: ObjectMeta,
    /// The Secret's `type`, e.g. `Opaque`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

/// `spec` of a SealedSecret.
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SealedSecretSpec {
    /// Each key's sealed value (base64 of the kubeseal layout).
    pub encrypted_data: BTreeMap<String, String>,
    /// The Secret it makes.
    pub template: SecretTemplate,
}

impl SealedSecret {
    /// The keys of the Secret it makes: the sealed ones and those of the template.
    pub fn keys(&self) -> BTreeSet<&str> {
        self.spec
            .encrypted_data
            .keys()
            .chain(self.spec.template.data.keys())
            .map(String::as_str)
            .collect()
    }
}

impl Spec for SealedSecretSpec {
    const API_VERSION: &'static str = "bitnami.com/v1alpha1";
    const KIND: &'static str = "SealedSecret";
}
