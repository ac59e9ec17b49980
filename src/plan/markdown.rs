//! Markdown for merge requests and `$GITHUB_STEP_SUMMARY`: the plan's stages, statements and
//! hazards. The layout is stable (documented in docs/commands.md).

use super::{Plan, StageBody};

pub fn plan_summary(plan: &Plan, stale: Option<&str>) -> String {
    let mut out = format!("## strata plan for `{}`\n\n", plan.target);
    match stale {
        Some(reason) => out.push_str(&format!("**pending.sql is stale**: {reason}\n\n")),
        None => out.push_str("pending.sql is current.\n\n"),
    }
    out.push_str(&format!("{}\n\n", plan.summary));
    if !plan.drift.is_empty() {
        out.push_str("Drift since the last run:\n\n");
        for line in &plan.drift {
            out.push_str(&format!("- {line}\n"));
        }
        out.push('\n');
    }
    out.push_str("| stage | kind | statements | hazards |\n|---|---|---|---|\n");
    for stage in &plan.stages {
        let (count, hazards) = match &stage.body {
            StageBody::Statements { statements } => {
                let mut hazards: Vec<&str> = statements
                    .iter()
                    .flat_map(|s| s.hazards.iter().map(|h| h.id()))
                    .collect();
                hazards.sort_unstable();
                hazards.dedup();
                (statements.len().to_string(), hazards.join(", "))
            }
            StageBody::Migrations { migrations } => {
                (format!("{} migration(s)", migrations.len()), String::new())
            }
            StageBody::Hook { command } => (
                command
                    .as_deref()
                    .map(|c| format!("`{c}`"))
                    .unwrap_or_default(),
                String::new(),
            ),
        };
        let kind = serde_json::to_value(stage.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} | {kind} | {count} | {hazards} |\n",
            stage.name
        ));
    }
    out.push_str("\n<details><summary>pending.sql</summary>\n\n```sql\n");
    out.push_str(&plan.render());
    out.push_str("```\n\n</details>\n");
    out
}
