//! Failpoints for fault tests: `STRATA_FAILPOINT=<name>` makes the process stop at the named
//! step and say so on stderr (`failpoint <name> reached`), so a test can interrupt or race it
//! at a known moment instead of sleeping. It goes on once the file named by
//! `STRATA_FAILPOINT_RELEASE` exists (never, when unset). Not set: no effect.

use std::time::Duration;

pub async fn pause(name: &str) {
    if std::env::var("STRATA_FAILPOINT").ok().as_deref() != Some(name) {
        return;
    }
    eprintln!("failpoint {name} reached");
    let release = std::env::var_os("STRATA_FAILPOINT_RELEASE");
    loop {
        if release
            .as_ref()
            .is_some_and(|f| std::path::Path::new(f).exists())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
