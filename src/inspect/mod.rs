//! Checks of the rendered output, after rendering, reading the generated objects as
//! data: the lint rules ([`lint`]), the wiring points followed across objects
//! ([`wiring`]) and every secret a generated pod reads ([`secret_refs`]). The checks of
//! the model itself run before rendering: [`crate::validate`].

pub mod lint;
pub mod secret_refs;
pub mod wiring;
