//! Types: enums (values added in place, renamed when only a label changed), composites
//! (attributes added, dropped, retyped), domains (default, NOT NULL, checks) and ranges.

use super::comments::diff_comment;
use super::hazard::{Hazard, DESTRUCTIVE, MAY_FAIL, TABLE_REWRITE, VALIDATION_SCAN};
use super::privileges::{diff_grants, diff_owner, public_grant};
use super::Phase;
use super::{unsupported, ChangeKind, Diff, DiffError, Step};
use crate::model::{
    quote_ident, quote_literal, CompositeAttribute, ObjectId, QualifiedName, TypeDef, TypeKind,
};
use std::collections::BTreeSet;

pub(super) fn diff(d: &mut Diff) -> Result<(), DiffError> {
    let (from, to) = (d.from, d.to);
    for (name, t) in from
        .types
        .iter()
        .filter(|(n, _)| !to.types.contains_key(*n))
    {
        // The old version of a type rebuilt by an earlier stage of the plan: its columns
        // have moved to the new one.
        let hazards = if is_retired(name, to) {
            vec![]
        } else {
            vec![Hazard::new(DESTRUCTIVE, format!("drops type {name}"))]
        };
        d.push(
            ObjectId::Type(name.clone()),
            Step::Drop,
            ChangeKind::Drop,
            Phase::Contract,
            format!("DROP {} {name}", keyword(t)),
            hazards,
        );
    }
    for (name, t) in &to.types {
        let id = ObjectId::Type(name.clone());
        let old = from.types.get(name);
        match old {
            None => {
                create(d, t);
                continue;
            }
            Some(old) if rebuilds(from, old, t) => {
                rebuild(d, old, t);
                continue;
            }
            Some(old) if old.kind != t.kind => alter(d, old, t)?,
            Some(_) => {}
        }
        let target = format!("{} {name}", keyword(t));
        diff_owner(d, &id, &target, old.map(|o| &o.owner), &t.owner);
        diff_comment(
            d,
            &id,
            || target.clone(),
            old.map(|o| &o.comment),
            &t.comment,
        );
        // A new type starts with PostgreSQL's default: USAGE for PUBLIC.
        let defaults = public_grant(crate::model::Privilege::Usage);
        let before = old.map(|o| &o.grants).unwrap_or(&defaults);
        diff_grants(
            d,
            &id,
            || format!("TYPE {name}"),
            None,
            Some(before),
            &t.grants,
        );
    }
    Ok(())
}

fn keyword(t: &TypeDef) -> &'static str {
    match t.kind {
        TypeKind::Domain(_) => "DOMAIN",
        _ => "TYPE",
    }
}

fn create(d: &mut Diff, t: &TypeDef) {
    let id = ObjectId::Type(t.name.clone());
    d.push_created(&id, Phase::Expand, &crate::ddl::create_type(t), vec![]);
}

fn alter(d: &mut Diff, old: &TypeDef, new: &TypeDef) -> Result<(), DiffError> {
    let id = ObjectId::Type(new.name.clone());
    let name = &new.name;
    match (&old.kind, &new.kind) {
        (TypeKind::Enum(a), TypeKind::Enum(b)) => enum_values(d, &id, name, a, b),
        (TypeKind::Composite(a), TypeKind::Composite(b)) => {
            for attr in a.iter().filter(|x| !b.iter().any(|y| y.name == x.name)) {
                d.push(
                    id.clone(),
                    Step::Alter,
                    ChangeKind::AlterType,
                    Phase::Contract,
                    format!(
                        "ALTER TYPE {name} DROP ATTRIBUTE {}",
                        quote_ident(&attr.name)
                    ),
                    vec![Hazard::new(
                        DESTRUCTIVE,
                        format!("drops attribute {} of {name}", attr.name),
                    )],
                );
            }
            for attr in b {
                let mut ty = attr.data_type.clone();
                if let Some(c) = &attr.collation {
                    ty.push_str(&format!(" COLLATE {c}"));
                }
                match a.iter().find(|x| x.name == attr.name) {
                    None => d.push(
                        id.clone(),
                        Step::Alter,
                        ChangeKind::AlterType,
                        Phase::Expand,
                        format!(
                            "ALTER TYPE {name} ADD ATTRIBUTE {} {ty}",
                            quote_ident(&attr.name)
                        ),
                        vec![],
                    ),
                    Some(x) if x != attr => d.push(
                        id.clone(),
                        Step::Alter,
                        ChangeKind::AlterType,
                        Phase::Contract,
                        format!(
                            "ALTER TYPE {name} ALTER ATTRIBUTE {} TYPE {ty}",
                            quote_ident(&attr.name)
                        ),
                        vec![],
                    ),
                    Some(_) => {}
                }
            }
            Ok(())
        }
        (TypeKind::Domain(a), TypeKind::Domain(b)) => {
            if a.default != b.default {
                let sql = match &b.default {
                    Some(def) => format!("ALTER DOMAIN {name} SET DEFAULT {def}"),
                    None => format!("ALTER DOMAIN {name} DROP DEFAULT"),
                };
                d.push(
                    id.clone(),
                    Step::Alter,
                    ChangeKind::AlterType,
                    Phase::Expand,
                    sql,
                    vec![],
                );
            }
            if a.not_null != b.not_null {
                let (sql, phase, hazards) = if b.not_null {
                    (
                        format!("ALTER DOMAIN {name} SET NOT NULL"),
                        Phase::Contract,
                        vec![Hazard::new(
                            VALIDATION_SCAN,
                            format!("checks every column of domain {name}"),
                        )],
                    )
                } else {
                    (
                        format!("ALTER DOMAIN {name} DROP NOT NULL"),
                        Phase::Expand,
                        vec![],
                    )
                };
                d.push(
                    id.clone(),
                    Step::Alter,
                    ChangeKind::AlterType,
                    phase,
                    sql,
                    hazards,
                );
            }
            for (cname, check) in &a.checks {
                let cid = ObjectId::Constraint(name.clone(), cname.clone());
                match b.checks.get(cname) {
                    Some(new) if new.definition == check.definition => {
                        if !check.validated && new.validated {
                            d.push(
                                cid.clone(),
                                Step::Alter,
                                ChangeKind::AlterType,
                                Phase::Contract,
                                format!(
                                    "ALTER DOMAIN {name} VALIDATE CONSTRAINT {}",
                                    quote_ident(cname)
                                ),
                                vec![Hazard::new(
                                    VALIDATION_SCAN,
                                    format!("checks every column of domain {name}"),
                                )],
                            );
                        } else if check.validated != new.validated {
                            return Err(unsupported(
                                &cid,
                                "a validated constraint cannot become NOT VALID",
                            ));
                        }
                    }
                    _ => d.push(
                        cid.clone(),
                        Step::Drop,
                        ChangeKind::Drop,
                        Phase::Expand,
                        format!("ALTER DOMAIN {name} DROP CONSTRAINT {}", quote_ident(cname)),
                        vec![],
                    ),
                }
            }
            for (cname, check) in &b.checks {
                let cid = ObjectId::Constraint(name.clone(), cname.clone());
                if a.checks
                    .get(cname)
                    .is_some_and(|c| c.definition == check.definition)
                {
                    diff_comment(
                        d,
                        &cid,
                        || format!("CONSTRAINT {} ON DOMAIN {name}", quote_ident(cname)),
                        a.checks.get(cname).map(|c| &c.comment),
                        &check.comment,
                    );
                    continue;
                }
                add_domain_check(d, name, cname, &check.definition, check.validated);
                diff_comment(
                    d,
                    &cid,
                    || format!("CONSTRAINT {} ON DOMAIN {name}", quote_ident(cname)),
                    None,
                    &check.comment,
                );
            }
            Ok(())
        }
        _ => Err(unsupported(
            &id,
            "the type's kind or definition changes in a way ALTER TYPE cannot express",
        )),
    }
}

/// A check added to a domain that exists (or changed: its old version was dropped in expand).
/// It may reject what the deployed code writes: contract. On a domain that columns use,
/// `NOT VALID` first (new values are checked from its commit on), then `VALIDATE` alone, in
/// its own transaction: PostgreSQL's own validation of an `ADD` cannot see rows written by
/// transactions still open, and `VALIDATE` waits for them (ALTER DOMAIN's notes).
fn add_domain_check(
    d: &mut Diff,
    name: &QualifiedName,
    cname: &str,
    definition: &str,
    validated: bool,
) {
    let cid = ObjectId::Constraint(name.clone(), cname.into());
    let add = format!(
        "ALTER DOMAIN {name} ADD CONSTRAINT {} {definition}",
        quote_ident(cname)
    );
    if !validated || !used_by_columns(d, name) {
        d.push(
            cid,
            Step::Create,
            ChangeKind::AlterType,
            Phase::Contract,
            add,
            vec![],
        );
        return;
    }
    d.push(
        cid.clone(),
        Step::Create,
        ChangeKind::AlterType,
        Phase::Contract,
        format!("{add} NOT VALID"),
        vec![],
    );
    d.push(
        cid,
        Step::Create,
        ChangeKind::AlterType,
        Phase::Contract,
        format!("ALTER DOMAIN {name} VALIDATE CONSTRAINT {}", quote_ident(cname)),
        vec![
            Hazard::new(
                VALIDATION_SCAN,
                format!("scans the tables whose columns use domain {name}, blocking writes to them (SHARE lock) on PostgreSQL 18 and older"),
            ),
            Hazard::new(MAY_FAIL, format!("fails if a value of domain {name} violates it")),
        ],
    );
    if let Some(last) = d.changes.last_mut() {
        last.transactional = false;
    }
}

/// Whether a column of a table (of `from`, kept in `to`) holds values of the domain, directly,
/// through a domain over it, or in an array or composite of it.
fn used_by_columns(d: &Diff, name: &QualifiedName) -> bool {
    let mut types = vec![ObjectId::Type(name.clone())];
    let mut seen = BTreeSet::new();
    while let Some(t) = types.pop() {
        if !seen.insert(t.clone()) {
            continue;
        }
        for (user, deps) in &d.from.dependencies {
            if !deps.contains(&t) {
                continue;
            }
            match user {
                ObjectId::Column(table, _) if d.to.tables.contains_key(table) => return true,
                ObjectId::Type(_) => types.push(user.clone()),
                _ => {}
            }
        }
    }
    false
}

/// Whether the type changes in a way ALTER TYPE cannot make: enum values removed or
/// reordered; a composite's attributes reordered, or retyped while a table column uses the
/// type (PostgreSQL: "cannot alter type because column uses it"); a domain's base type or
/// collation changed.
fn rebuilds(from: &crate::model::Schema, old: &TypeDef, new: &TypeDef) -> bool {
    match (&old.kind, &new.kind) {
        (TypeKind::Enum(a), TypeKind::Enum(b)) => !enum_in_place(a, b),
        (TypeKind::Composite(a), TypeKind::Composite(b)) => {
            let retyped = a
                .iter()
                .any(|x| b.iter().any(|y| y.name == x.name && y != x));
            let type_id = ObjectId::Type(new.name.clone());
            let used_by_column = from
                .dependencies
                .iter()
                .any(|(u, deps)| matches!(u, ObjectId::Column(..)) && deps.contains(&type_id));
            !attributes_keep_their_places(a, b) || (retyped && used_by_column)
        }
        (TypeKind::Domain(a), TypeKind::Domain(b)) => {
            let checks_added = b.checks.iter().any(|(n, c)| {
                c.validated && a.checks.get(n).is_none_or(|o| o.definition != c.definition)
            });
            a.base_type != b.base_type
                || a.collation != b.collation
                || (checks_added && used_inside_containers(from, &new.name))
        }
        _ => false,
    }
}

/// Whether a table column holds values of the domain inside an array, a composite or a
/// range (directly or through a domain over it): PostgreSQL cannot check a new constraint of
/// the domain there ("cannot alter type because column uses it"), so the domain is rebuilt
/// and such columns converted through text, which checks every value.
fn used_inside_containers(from: &crate::model::Schema, name: &QualifiedName) -> bool {
    let mut work = vec![(name.clone(), false)];
    let mut seen = BTreeSet::new();
    while let Some((t, inside)) = work.pop() {
        if !seen.insert((t.clone(), inside)) {
            continue;
        }
        let id = ObjectId::Type(t.clone());
        for (user, _) in from.dependencies.iter().filter(|(_, d)| d.contains(&id)) {
            match user {
                ObjectId::Column(table, column) => {
                    let array = from
                        .tables
                        .get(table)
                        .and_then(|x| x.columns.get(column))
                        .is_some_and(|c| c.data_type.ends_with("[]"));
                    if inside || array {
                        return true;
                    }
                }
                ObjectId::Type(u) => {
                    let container = match from.types.get(u).map(|x| &x.kind) {
                        Some(TypeKind::Domain(dom)) => dom.base_type.ends_with("[]"),
                        _ => true,
                    };
                    work.push((u.clone(), inside || container));
                }
                _ => {}
            }
        }
    }
    false
}

/// Whether `ALTER TYPE ... ADD/DROP ATTRIBUTE` can turn `a` into `b`: the kept attributes
/// stay in their order and new ones come after every kept one (ADD ATTRIBUTE appends).
fn attributes_keep_their_places(a: &[CompositeAttribute], b: &[CompositeAttribute]) -> bool {
    let kept = |x: &&CompositeAttribute, other: &[CompositeAttribute]| {
        other.iter().any(|y| y.name == x.name)
    };
    let old_order = a.iter().filter(|x| kept(x, b)).map(|x| &x.name);
    let new_order = b.iter().filter(|y| kept(y, a)).map(|y| &y.name);
    let appended_last = b.iter().skip_while(|y| kept(y, a)).all(|y| !kept(&y, a));
    old_order.eq(new_order) && appended_last
}

/// Builds the type again under its name, as careful teams do by hand: the old type is
/// renamed out of the way, the new one created, every column moved to it through its text
/// form (`move_columns`), what else uses the type dropped before and created after
/// (`recreate_dependents`), and the old type dropped. When values are removed, rows holding
/// them make the move fail, so it runs in the contract phase and needs approval.
fn rebuild(d: &mut Diff, old: &TypeDef, new: &TypeDef) {
    let name = &new.name;
    let id = ObjectId::Type(name.clone());
    let retired = retired_name(name);
    let removed = removed_labels(old, new);
    let phase = if removed.is_empty() && conversion_risks(old, new).is_empty() {
        Phase::Expand
    } else {
        Phase::Contract
    };
    d.push(
        id.clone(),
        Step::Drop,
        ChangeKind::AlterType,
        phase,
        format!(
            "ALTER {} {name} RENAME TO {}",
            keyword(old),
            quote_ident(&retired.name)
        ),
        vec![],
    );
    d.push_created(&id, phase, &crate::ddl::create_type(new), vec![]);
    d.push(
        ObjectId::Type(retired.clone()),
        Step::Drop,
        ChangeKind::Drop,
        Phase::Contract,
        format!("DROP {} {retired}", keyword(old)),
        vec![],
    );
    d.after.push((id, None, ObjectId::Type(retired.clone())));
    d.rebuilt_types.insert(name.clone(), (retired, phase));
}

/// What moving a value of a rebuilt composite or domain to the new type can lose
/// (destructive) or fail on, for the hazards of each moved column: attributes removed, an
/// attribute's or the base type's change (`lossy`), conversions that may fail, a domain's
/// checks that existing values must pass. Enums report through `removed_labels`.
fn conversion_risks(old: &TypeDef, new: &TypeDef) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let retype = |out: &mut Vec<(bool, String)>, what: String, from: &str, to: &str| {
        if from == to {
            return;
        }
        if let Some(why) = super::lossy::lossy_change(from, to) {
            out.push((true, format!("{what} changes from {from} to {to}: {why}")));
        }
        if !super::columns::is_widening(from, to) {
            out.push((
                false,
                format!("{what} fails to convert from {from} to {to}"),
            ));
        }
    };
    match (&old.kind, &new.kind) {
        (TypeKind::Composite(a), TypeKind::Composite(b)) => {
            for x in a {
                match b.iter().find(|y| y.name == x.name) {
                    Some(y) => retype(
                        &mut out,
                        format!("attribute {}", quote_ident(&x.name)),
                        &x.data_type,
                        &y.data_type,
                    ),
                    None => out.push((
                        true,
                        format!("attribute {} is removed", quote_ident(&x.name)),
                    )),
                }
            }
        }
        (TypeKind::Domain(a), TypeKind::Domain(b)) => {
            retype(
                &mut out,
                "the base type".to_string(),
                &a.base_type,
                &b.base_type,
            );
            let added = b
                .checks
                .iter()
                .any(|(n, c)| a.checks.get(n).is_none_or(|o| o.definition != c.definition));
            if added || (b.not_null && !a.not_null) {
                out.push((false, "a value breaks the domain's constraints".to_string()));
            }
        }
        _ => {}
    }
    out
}

/// The enum labels of `old` that `new` no longer has (none for other kinds).
fn removed_labels(old: &TypeDef, new: &TypeDef) -> Vec<String> {
    match (&old.kind, &new.kind) {
        (TypeKind::Enum(a), TypeKind::Enum(b)) => {
            a.iter().filter(|l| !b.contains(l)).cloned().collect()
        }
        _ => Vec::new(),
    }
}

/// The name a rebuilt type's old version has until it is dropped: derived from its name
/// (deterministic), within PostgreSQL's 63 bytes.
pub(super) fn retired_name(name: &QualifiedName) -> QualifiedName {
    const SUFFIX: &str = "__strata_old";
    let mut base = name.name.to_string();
    while base.len() + SUFFIX.len() > 63 {
        base.pop();
    }
    QualifiedName::new(name.schema.clone(), format!("{base}{SUFFIX}"))
}

/// Whether `name` is the retired name of a type `to` has (`retired_name`).
fn is_retired(name: &QualifiedName, to: &crate::model::Schema) -> bool {
    to.types.keys().any(|t| &retired_name(t) == name)
}

/// Moves the columns of rebuilt types to the new type: `ALTER COLUMN ... TYPE new USING
/// col::text::new`, the default dropped before and set again after. Columns whose type
/// changes anyway, and inherited columns (the parent's change reaches them), are left to
/// `columns`.
pub(super) fn move_columns(d: &mut Diff) -> Result<(), DiffError> {
    if d.rebuilt_types.is_empty() {
        return Ok(());
    }
    let (from, to) = (d.from, d.to);
    let rebuilt: Vec<(QualifiedName, QualifiedName, Phase)> = d
        .rebuilt_types
        .iter()
        .map(|(n, (r, p))| (n.clone(), r.clone(), *p))
        .collect();
    for (name, retired, phase) in rebuilt {
        let type_id = ObjectId::Type(name.clone());
        let (Some(old_type), Some(new_type)) = (from.types.get(&name), to.types.get(&name)) else {
            continue;
        };
        for (user, deps) in &from.dependencies {
            let ObjectId::Column(table, column) = user else {
                continue;
            };
            if !deps.contains(&type_id)
                || d.dropped_tables.contains(table)
                || d.created_tables.contains(table)
            {
                continue;
            }
            let old = from.tables.get(table).and_then(|t| t.columns.get(column));
            let new = to.tables.get(table).and_then(|t| t.columns.get(column));
            let (Some(old), Some(new)) = (old, new) else {
                continue;
            };
            if old.data_type != new.data_type || old.collation != new.collation {
                continue;
            }
            d.retyped_columns.insert(user.clone());
            d.after
                .push((user.clone(), None, ObjectId::Type(retired.clone())));
            if !old.local {
                continue;
            }
            move_column(d, table, old, new, phase, (old_type, new_type))?;
        }
    }
    Ok(())
}

fn move_column(
    d: &mut Diff,
    table: &QualifiedName,
    old: &crate::model::Column,
    new: &crate::model::Column,
    phase: Phase,
    (old_type, new_type): (&TypeDef, &TypeDef),
) -> Result<(), DiffError> {
    let removed = removed_labels(old_type, new_type);
    let id = ObjectId::Column(table.clone(), new.name.clone());
    if old.generated.is_some() || new.generated.is_some() {
        return Err(unsupported(
            &id,
            "a generated column of a type that is built again cannot be moved to the new type",
        ));
    }
    d.changes.retain(|c| {
        !(c.object == id && matches!(c.kind, ChangeKind::SetDefault | ChangeKind::DropDefault))
    });
    let col = quote_ident(&new.name);
    let at = format!("ALTER TABLE {table} ALTER COLUMN {col}");
    if old.default.is_some() {
        d.push(
            id.clone(),
            Step::Drop,
            ChangeKind::DropDefault,
            phase,
            format!("{at} DROP DEFAULT"),
            vec![],
        );
    }
    let retired = retired_name(&new_type.name);
    let (using, helper) = match converted(&col, &new.data_type, old_type, new_type) {
        Conversion::Using(expr) => (expr, None),
        Conversion::ElementWise(element) => {
            let helper = ElementHelper::new(table, &new.name, &retired, &new_type.name, &element);
            (format!("{}({col})", helper.name), Some(helper))
        }
    };
    if let Some(helper) = &helper {
        d.push(
            id.clone(),
            Step::Create,
            ChangeKind::Create,
            phase,
            helper.create.clone(),
            vec![],
        );
    }
    let mut hazards = vec![Hazard::new(
        TABLE_REWRITE,
        format!("rewrites {table} and rebuilds its indexes on {col}"),
    )];
    let mut losses = 0;
    for (destructive, what) in conversion_risks(old_type, new_type) {
        if destructive {
            let text = format!("{table}.{col}: {what}");
            hazards.insert(losses, Hazard::new(DESTRUCTIVE, text));
            losses += 1;
        } else {
            let text = format!("fails if, in a row of {table}, {what}");
            hazards.push(Hazard::new(MAY_FAIL, text));
        }
    }
    if helper.is_some() {
        hazards.push(Hazard::new(
            MAY_FAIL,
            format!("fails if a value of {table}.{col} has more than one dimension or does not start at 1"),
        ));
    }
    if !removed.is_empty() {
        let labels = removed
            .iter()
            .map(|l| quote_literal(l))
            .collect::<Vec<_>>()
            .join(", ");
        hazards.insert(
            0,
            Hazard::new(
                DESTRUCTIVE,
                format!("{table}.{col} loses value(s) {labels}: rows holding them make the change fail; update them first"),
            ),
        );
        hazards.push(Hazard::new(
            MAY_FAIL,
            format!("fails if {table}.{col} holds {labels}"),
        ));
    }
    d.push(
        id.clone(),
        Step::Create,
        ChangeKind::AlterColumnType,
        phase,
        super::Op::AlterColumnType {
            table: table.clone(),
            column: new.name.to_string(),
            data_type: new.data_type.clone(),
            collation: None,
            using: Some(using),
        },
        hazards,
    );
    if let Some(helper) = helper {
        d.push(
            id.clone(),
            Step::Create,
            ChangeKind::Drop,
            phase,
            helper.drop,
            vec![],
        );
    }
    if let Some(def) = &new.default {
        d.push(
            id.clone(),
            Step::Create,
            ChangeKind::SetDefault,
            phase,
            format!("{at} SET DEFAULT {def}"),
            vec![],
        );
    }
    d.rebuild_dependents.insert(id, phase);
    Ok(())
}

/// How a column moves to a rebuilt type: one expression, or, for an array of a composite
/// whose attribute list changes, the conversion of one element (`v[i]`), applied to each
/// (`unnest` would expand a composite element into its attributes).
enum Conversion {
    Using(String),
    ElementWise(String),
}

/// A function that converts an array element by element, created just before the column's
/// `ALTER COLUMN ... TYPE ... USING f(col)` and dropped just after: `USING` takes no
/// subquery, a function body does. Named after the column (deterministic, 63 bytes at most),
/// in the table's schema. The elements keep their order and NULLs; an empty array stays
/// empty, a NULL one NULL. A value of more than one dimension, or not starting at 1, would
/// lose its shape: the function raises an error naming the column instead (the change rolls
/// back).
struct ElementHelper {
    name: QualifiedName,
    create: String,
    drop: String,
}

impl ElementHelper {
    fn new(
        table: &QualifiedName,
        column: &str,
        retired: &QualifiedName,
        new_type: &QualifiedName,
        element: &str,
    ) -> ElementHelper {
        const SUFFIX: &str = "__strata_convert";
        let mut base = format!("{}_{column}", table.name);
        while base.len() + SUFFIX.len() > 63 {
            base.pop();
        }
        let name = QualifiedName::new(table.schema.clone(), format!("{base}{SUFFIX}"));
        let refusal = quote_literal(&format!(
            "strata converts {table}.{} to {new_type}[] element by element, only for arrays of one dimension starting at 1",
            quote_ident(column)
        ));
        let body = format!(
            "BEGIN IF array_ndims(v) > 1 OR array_lower(v, 1) <> 1 THEN \
             RAISE EXCEPTION {refusal} USING HINT = 'convert such values with a numbered migration first'; END IF; \
             RETURN CASE WHEN v IS NULL THEN NULL \
             ELSE ARRAY(SELECT {element} FROM generate_subscripts(v, 1) AS s(i) ORDER BY i) END; END"
        );
        ElementHelper {
            create: format!(
                "CREATE FUNCTION {name}(v {retired}[]) RETURNS {new_type}[] LANGUAGE plpgsql IMMUTABLE AS {}",
                quote_literal(&body)
            ),
            drop: format!("DROP FUNCTION {name}({retired}[])"),
            name,
        }
    }
}

/// The expression that converts a column's value to the rebuilt type: through its text
/// form (an enum's label, a domain's value), or, for a composite whose attributes change,
/// a row built attribute by attribute (`NULL` for a new one), each cast to its new type; for
/// a one-dimensional array of such a composite, that row for each element.
fn converted(col: &str, ty: &str, old_type: &TypeDef, new_type: &TypeDef) -> Conversion {
    let dims = ty.matches("[]").count();
    let via_text = || Conversion::Using(format!("{col}::text{}::{ty}", "[]".repeat(dims)));
    let (TypeKind::Composite(a), TypeKind::Composite(b)) = (&old_type.kind, &new_type.kind) else {
        return via_text();
    };
    let same_names = a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.name == y.name);
    if same_names {
        return via_text();
    }
    let row = |v: &str, target: &str| {
        let fields: Vec<String> = b
            .iter()
            .map(|y| match a.iter().find(|x| x.name == y.name) {
                Some(_) => format!("({v}).{}::{}", quote_ident(&y.name), y.data_type),
                None => format!("NULL::{}", y.data_type),
            })
            .collect();
        format!(
            "CASE WHEN {v} IS NULL THEN NULL ELSE ROW({})::{} END",
            fields.join(", "),
            target
        )
    };
    // format_type writes `pair[]` for any number of dimensions: the helper checks them.
    if dims == 0 {
        Conversion::Using(row(col, ty))
    } else {
        Conversion::ElementWise(row("v[i]", ty.trim_end_matches("[]")))
    }
}

/// What is dropped because it uses a moved column is dropped before the column moves (the
/// move is on the column's create step, which no dependency orders after such drops).
pub(super) fn order_moved_columns(d: &mut Diff) {
    if d.retyped_columns.is_empty() {
        return;
    }
    let mut edges = Vec::new();
    for c in d.changes.iter().filter(|c| c.step == Step::Drop) {
        let Some(deps) = d.from.dependencies.get(&c.object) else {
            continue;
        };
        for col in &d.retyped_columns {
            if deps.contains(col) && &c.object != col {
                edges.push((c.object.clone(), Some(Step::Drop), col.clone()));
            }
        }
    }
    d.after.extend(edges);
}

/// Whether ALTER TYPE can make the enum change: labels added anywhere, or labels renamed
/// where they stand.
fn enum_in_place(old: &[String], new: &[String]) -> bool {
    let removed = old.iter().any(|l| !new.contains(l));
    if !removed {
        let kept: Vec<&String> = new.iter().filter(|l| old.contains(l)).collect();
        return kept.iter().copied().eq(old.iter());
    }
    old.len() == new.len()
        && old
            .iter()
            .zip(new)
            .filter(|(a, b)| a != b)
            .all(|(a, b)| !new.contains(a) && !old.contains(b))
}

/// New labels are added in place (`ADD VALUE ... BEFORE/AFTER`); a label whose position
/// keeps but whose text changes is renamed. Removing or reordering labels cannot be done in
/// place: that is an error.
fn enum_values(
    d: &mut Diff,
    id: &ObjectId,
    name: &QualifiedName,
    old: &[String],
    new: &[String],
) -> Result<(), DiffError> {
    let removed: Vec<&String> = old.iter().filter(|l| !new.contains(l)).collect();
    let added: Vec<&String> = new.iter().filter(|l| !old.contains(l)).collect();
    if removed.is_empty() {
        // Old labels must keep their relative order.
        let kept: Vec<&String> = new.iter().filter(|l| old.contains(l)).collect();
        if kept.iter().copied().ne(old.iter()) {
            return Err(unsupported(id, "its values are reordered"));
        }
        for label in added {
            let pos = new.iter().position(|l| l == label).unwrap();
            // Labels are added left to right: the previous label exists by now; the first
            // goes before the first old label.
            let clause = match pos.checked_sub(1) {
                Some(p) => format!(" AFTER {}", quote_literal(&new[p])),
                None => match old.first() {
                    Some(first) => format!(" BEFORE {}", quote_literal(first)),
                    None => String::new(),
                },
            };
            let mut change = super::Change {
                object: id.clone(),
                step: Step::Alter,
                kind: ChangeKind::AddEnumValue,
                phase: Phase::Expand,
                op: super::Op::Sql(format!(
                    "ALTER TYPE {name} ADD VALUE {}{clause}",
                    quote_literal(label)
                )),
                hazards: vec![],
                transactional: true,
            };
            // A new label cannot be used in the transaction that adds it.
            change.transactional = false;
            d.changes.push(change);
        }
        return Ok(());
    }
    if old.len() == new.len() {
        let renames: Vec<(&String, &String)> =
            old.iter().zip(new).filter(|(a, b)| a != b).collect();
        if renames
            .iter()
            .all(|(a, b)| !new.contains(a) && !old.contains(b))
        {
            for (a, b) in renames {
                d.push(
                    id.clone(),
                    Step::Alter,
                    ChangeKind::AlterType,
                    Phase::Expand,
                    format!(
                        "ALTER TYPE {name} RENAME VALUE {} TO {}",
                        quote_literal(a),
                        quote_literal(b)
                    ),
                    vec![],
                );
            }
            return Ok(());
        }
    }
    Err(unsupported(
        id,
        format!(
            "enum value(s) {} would be removed; PostgreSQL cannot drop an enum value",
            removed
                .iter()
                .map(|l| quote_literal(l))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}
