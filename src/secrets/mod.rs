//! Secrets: how values are sealed for the Sealed Secrets controller, and the committed
//! file of sealed values that `kiln build` embeds. Where each secret is placed is the
//! model's ([`crate::model::secret_placement`]).
//!
//! - [`keys`]: how values are named and ordered (`KILN_*` variables, URL keys, scopes).
//! - [`cert`] and [`seal`]: the controller certificate and kubeseal-compatible sealing.
//! - [`sealed_file`]: `environments/sealed/<env>.yaml`, read at load time (I/O stays out
//!   of renderers) and written by `kiln seal`.
//! - [`values`]: where `kiln seal` gets plaintext from (1Password, a generator, a
//!   template of other keys, standard input or an environment variable).

pub mod cert;
pub mod keys;
pub mod seal;
pub mod sealed_file;

pub mod sealer;
pub mod values;
