use super::comment_on;
use crate::model::{quote_ident, Trigger, TriggerEnabled};

/// `pg_get_triggerdef`'s statement, then its enabled state when not the default.
pub fn create_trigger(t: &Trigger) -> String {
    let name = quote_ident(&t.name);
    let mut out = format!("{};\n", t.definition);
    let state = match t.enabled {
        TriggerEnabled::Origin => None,
        TriggerEnabled::Disabled => Some("DISABLE TRIGGER"),
        TriggerEnabled::Replica => Some("ENABLE REPLICA TRIGGER"),
        TriggerEnabled::Always => Some("ENABLE ALWAYS TRIGGER"),
    };
    if let Some(state) = state {
        out.push_str(&format!("ALTER TABLE {} {state} {name};\n", t.table));
    }
    out.push_str(&comment_on(
        &format!("TRIGGER {name} ON {}", t.table),
        &t.comment,
    ));
    out
}
