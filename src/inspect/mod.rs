//! Checks of the rendered output, after rendering, reading the generated objects as
//! data: the lint rules ([`lint`]) and the wiring points followed across objects
//! ([`wiring`], among them every secret a generated pod reads). The checks of the model
//! itself run before rendering: [`crate::validate`].

pub mod lint;
pub mod wiring;
