//! The registry of every check kiln runs: each code is declared once, here or (for a
//! lint rule) in its rule file. [`crate::catalogue`] lists them all (it sits above the
//! lint registry, which this module, at the bottom of the stack, cannot see).
//!
//! # Codes
//!
//! A code's letter is its [`Kind`]:
//! - `E` and four digits: an error in the input (the model, a file kiln reads, the
//!   command line, a value `kiln seal` needs). Nothing is written; exit status 2.
//! - `K` and three digits: a finding on the output. `K0xx` are the lint rules (a waiver
//!   names them), `K1xx` compare what a build would write with itself (wiring) and with
//!   `out/` (`kiln check`). Exit status 1 when the finding is an error.
//! - `W` and four digits: a warning. The command goes on.
//!
//! The first two digits of an `E` or `W` code name its family: `00` reading the model
//! and its meaning, `01` images, `02` secrets, `05` hosts, `06` pipelines. No two codes
//! share their digits, so `W0203` has no `E0203`.
//!
//! Adding a check: a constant in its family's file (`files.rs`, `model.rs`,
//! `secrets.rs`, `hosts.rs`, `pipelines.rs`, `output.rs`) with its documentation; a lint
//! rule declares its entry in its own file instead. `docs/rules.md` is generated from
//! this registry ([`crate::catalogue::docs_markdown`]).

use super::{Check, Kind, Severity};

/// Declares a family's checks as constants, and `$list`, every one of them in order.
macro_rules! family {
    ($list:ident; $($(#[$attr:meta])* $id:ident = $check:expr;)*) => {
        $( $(#[$attr])* pub const $id: Check = $check; )*
        /// Every check of this family, in code order.
        pub const $list: &[Check] = &[$($id),*];
    };
}

mod files;
mod hosts;
mod model;
mod output;
mod pipelines;
mod secrets;

pub use files::*;
pub use hosts::*;
pub use model::*;
pub use output::*;
pub use pipelines::*;
pub use secrets::*;
