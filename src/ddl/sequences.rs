use super::{comment_on, grants, owner_to, GrantTarget, StatementKind, Statements};
use crate::model::{quote_ident, Sequence, SequenceOptions};

/// `START WITH ... [NO] CYCLE` (without `AS type`).
pub fn sequence_options(o: &SequenceOptions) -> String {
    format!(
        "START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {}{}",
        o.start,
        o.increment,
        o.min_value,
        o.max_value,
        o.cache,
        if o.cycle { " CYCLE" } else { " NO CYCLE" }
    )
}

/// `CREATE SEQUENCE` without `OWNED BY` (see `sequence_owned_by`: the table comes later).
pub fn create_sequence(seq: &Sequence) -> Statements {
    let name = seq.name.to_string();
    let mut out = Statements::one(
        StatementKind::Create,
        format!(
            "CREATE {}SEQUENCE {name} AS {} {}",
            if seq.unlogged { "UNLOGGED " } else { "" },
            seq.options.data_type,
            sequence_options(&seq.options)
        ),
    );
    out.append(owner_to("SEQUENCE", &name, &seq.owner));
    out.append(comment_on(&format!("SEQUENCE {name}"), &seq.comment));
    out.append(grants(GrantTarget::Sequence(&name), &seq.grants));
    out
}

pub fn sequence_owned_by(seq: &Sequence) -> Option<Statements> {
    seq.owned_by.as_ref().map(|(table, column)| {
        Statements::one(
            StatementKind::AlterSequence,
            format!(
                "ALTER SEQUENCE {} OWNED BY {table}.{}",
                seq.name,
                quote_ident(column)
            ),
        )
    })
}
