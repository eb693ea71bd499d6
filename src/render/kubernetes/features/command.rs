//! `command` and `args` (see [`crate::model::App::command`]): the container's
//! `command` and `args`, word for word.

use super::{AppCx, Workload};

/// Sets the app container's command and arguments.
pub fn apply(cx: &AppCx<'_>, w: &mut Workload) {
    let c = w.container();
    c.command.clone_from(&cx.app.command);
    c.args.clone_from(&cx.app.args);
}
