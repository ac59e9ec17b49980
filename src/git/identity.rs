//! The identity of strata's commits when git itself has none (CI runners often have no
//! `user.*` configured): only then, and only for the parts the user left unset, the author
//! or committer is `strata <strata@localhost>`. Wherever git can form an identity (from
//! `GIT_AUTHOR_*`/`GIT_COMMITTER_*`, `author.*`/`committer.*`, `user.*`, the system), it is
//! git's; `user.useConfigOnly = true` turns the fallback off, as it is a request to fail.

use super::command::capture;
use super::Repo;

const NAME: &str = "strata";
const EMAIL: &str = "strata@localhost";

/// Environment variables to add to a committing `git` command.
pub(super) fn fallback(repo: &Repo) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for role in ["author", "committer"] {
        let upper = role.to_uppercase();
        let has_identity = capture(&mut repo.git(&["var", &format!("GIT_{upper}_IDENT")]), None)
            .is_ok_and(|out| out.status.success());
        if has_identity || repo.config_bool("user.useConfigOnly") == Some(true) {
            continue;
        }
        for (part, value) in [("name", NAME), ("email", EMAIL)] {
            let variable = format!("GIT_{upper}_{}", part.to_uppercase());
            let set = std::env::var_os(&variable).is_some_and(|v| !v.is_empty())
                || repo.config(&format!("{role}.{part}")).is_some()
                || repo.config(&format!("user.{part}")).is_some();
            if !set {
                env.push((variable, value.to_string()));
            }
        }
    }
    env
}
