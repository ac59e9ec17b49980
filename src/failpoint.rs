//! Failpoints for fault-injection tests: `STRATA_FAILPOINT=<point>` stops strata at a named
//! point, the way it is stopped by SIGKILL or a crash, so that tests prove a run resumes from
//! every such point, or interrupt it at a known moment, without sleeps or timing. Not for
//! production use. Either way strata says `failpoint <point> reached` on stderr.
//!
//! Two kinds of points:
//! - [`hit`] (points of a run): what happens is `STRATA_FAILPOINT_ACTION`, below;
//! - [`pause`] (`shadow-created`: every shadow database created; `shadow-loading`: a
//!   parallel load of a shadow database, once its first batch of statements committed while
//!   the other connections work on): waits, inside the async runtime so signals are still
//!   handled, until the file named by `STRATA_FAILPOINT_RELEASE` exists (never, when unset).
//!
//! `STRATA_FAILPOINT_ACTION` says how: `kill` (the default: SIGKILL itself, nothing runs after
//! it, not even destructors), `abort` (SIGABRT), or `pause` (print the point on stderr and wait
//! for ever, for a test that crashes the server at that moment and then kills strata).
//!
//! Points, for a step named S (`expand#0`, `data`, `deploy`, ...):
//! - `before:S`: nothing of S recorded or done;
//! - `started:S`: S recorded as started, its effect not begun (steps outside a transaction);
//! - `retry:S`: S's transaction was refused a lock (lock timeout or deadlock) and rolled back,
//!   before it is tried again;
//! - `hook:S`: the hook of S is running;
//! - `batch:F`: a repetition of batch migration F committed (the first one reaches it);
//! - `slow-batch:F` (a [`pause`] point): after each repetition of batch migration F, for a
//!   test that watches its progress lines;
//! - `migration:F`: migration file F applied and recorded, the stage not done;
//! - `effect:S`: the effect of S happened and S is not recorded done (for a step in a
//!   transaction: before its COMMIT);
//! - `before-final-read`, `before-finish`: after the last step, before the final read of
//!   the target, and after it before the run is recorded as finished.
//! - `member:M` (`run --group`): member M's part of the run ended (done, failed, or up to
//!   the hook) and is in its history, before the summary counts it;
//! - `fleet-hook:G` (`run --group G` with both parts, `hook = "fleet"`): the fleet's deploy
//!   hook returned, recorded started (not done) in the members;
//! - `deployed:G`: the fleet's hook recorded done in the members, before any member runs the
//!   stages after it.

/// The environment variable naming the point to stop at.
pub const VAR: &str = "STRATA_FAILPOINT";
/// The environment variable naming what to do there.
pub const ACTION_VAR: &str = "STRATA_FAILPOINT_ACTION";

/// The environment variable naming a file whose existence ends a [`pause`].
pub const RELEASE_VAR: &str = "STRATA_FAILPOINT_RELEASE";

fn armed(point: &str) -> bool {
    std::env::var_os(VAR).is_some_and(|wanted| wanted == point)
}

/// Stops here when `STRATA_FAILPOINT` names `point`.
pub fn hit(point: &str) {
    if !armed(point) {
        return;
    }
    let action = std::env::var(ACTION_VAR).unwrap_or_else(|_| "kill".into());
    eprintln!("failpoint {point} reached");
    match action.as_str() {
        "pause" => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        "abort" => std::process::abort(),
        _ => {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
            std::process::abort();
        }
    }
}

/// Waits here, without blocking the runtime, when `STRATA_FAILPOINT` names `point`.
pub async fn pause(point: &str) {
    if !armed(point) {
        return;
    }
    eprintln!("failpoint {point} reached");
    let release = std::env::var_os(RELEASE_VAR);
    while !release
        .as_ref()
        .is_some_and(|f| std::path::Path::new(f).exists())
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
