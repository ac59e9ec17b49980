use super::{comment_on, owner_to, StatementKind, Statements};
use crate::model::Statistics;

/// `pg_get_statisticsobjdef`'s statement, then its statistics target when set, its owner
/// (when modelled) and its comment.
pub fn create_statistics(s: &Statistics) -> Statements {
    let mut out = Statements::one(StatementKind::Create, s.definition.as_str());
    if let Some(target) = s.target {
        out.push(StatementKind::AlterStatistics, set_target(s, target));
    }
    out.append(owner_to("STATISTICS", &s.name.to_string(), &s.owner));
    out.append(comment_on(&format!("STATISTICS {}", s.name), &s.comment));
    out
}

/// `ALTER STATISTICS ... SET STATISTICS n` (-1 sets the default back).
pub fn set_target(s: &Statistics, target: i32) -> String {
    format!("ALTER STATISTICS {} SET STATISTICS {target}", s.name)
}
