use super::{comment_on, StatementKind, Statements};
use crate::model::{quote_ident, Trigger, TriggerEnabled};

/// `pg_get_triggerdef`'s statement, then its enabled state when not the default.
pub fn create_trigger(t: &Trigger) -> Statements {
    let name = quote_ident(&t.name);
    let mut out = Statements::one(StatementKind::Create, t.definition.as_str());
    let state = match t.enabled {
        TriggerEnabled::Origin => None,
        TriggerEnabled::Disabled => Some("DISABLE TRIGGER"),
        TriggerEnabled::Replica => Some("ENABLE REPLICA TRIGGER"),
        TriggerEnabled::Always => Some("ENABLE ALWAYS TRIGGER"),
    };
    if let Some(state) = state {
        out.push(
            StatementKind::AlterTrigger,
            format!("ALTER TABLE {} {state} {name}", t.table),
        );
    }
    out.append(comment_on(
        &format!("TRIGGER {name} ON {}", t.table),
        &t.comment,
    ));
    out
}
