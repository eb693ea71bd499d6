//! `command` and `args` (see [`crate::model::App::command`]): compose `entrypoint` and
//! `command`, every `$` literal (compose interpolates both; `$$` is one `$`).

use super::{HostAppCx, HostWorkload};
use crate::render::hosts::compose::escape_dollars;

/// Sets the service's entrypoint and command.
pub fn apply(cx: &HostAppCx<'_>, w: &mut HostWorkload) {
    let literal = |words: &Vec<String>| words.iter().map(|w| escape_dollars(w)).collect();
    w.service.entrypoint = cx.app.command.as_ref().map(literal);
    w.service.command = cx.app.args.as_ref().map(literal);
}
