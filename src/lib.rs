//! kiln compiles a typed environment model into the files a small fleet needs:
//! Kubernetes manifests as Kustomize bases and overlays, Flux objects, compose stacks,
//! Caddy config, CI pipelines and runbooks.
//!
//! # Steps
//!
//! [`pipeline::compile`] runs them in order, each stage taking the one before it:
//!
//! 1. [`model`]: `environments/*.yaml` → YAML nodes with spans ([`yaml`]) → `extends`
//!    merged, `${vars}` substituted → checked against the JSON Schema → one typed
//!    [`model::Model`] per environment.
//! 2. [`validate`]: the checks of the model (references, secrets, hosts, values other
//!    languages and Kubernetes read), reported as [`diagnostic::Diagnostic`]s with
//!    `file:line:col`. Nothing goes further when any error exists.
//! 3. [`render`]: each target turns the model into an in-memory
//!    [`render::OutputTree`] (path → bytes). Renderers do no I/O.
//! 4. [`inspect`]: the checks of the rendered output (lint rules, wiring points, secret
//!    references), reading the generated objects as data.
//! 5. [`output`]: the only stage that touches the disk: writes `out/` atomically with
//!    `out/kiln.lock`, or compares `out/` with what a build would write.
//!
//! The modules form a one-way stack (ARCHITECTURE.md, "Layers"; `tests/layers.rs`).

pub mod boundary;
pub mod catalogue;
pub mod cli;
pub mod commands;
pub mod crd;
pub mod diagnostic;
pub mod diff;
pub mod error;
pub mod git;
pub mod inspect;
pub mod layout;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod pointer;
pub mod render;
pub mod secrets;
pub mod suggest;
pub mod timings;
pub mod validate;
pub mod yaml;

pub use error::Error;

/// kiln's result type for failures that have no place in a source file.
pub type Result<T, E = Error> = std::result::Result<T, E>;
