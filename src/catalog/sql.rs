//! The catalog queries: one per object kind, each over the whole database at once (never per
//! object), so their number does not grow with the schema. `$1` is always the `oid[]` of the
//! managed schemas. They run with an empty `search_path`, so every name PostgreSQL prints
//! (format_type, pg_get_expr, pg_get_*def, regproc) is schema-qualified.

/// Rows of an ACL as JSON `[{grantee, privilege, grantable}]`, the owner's own entries left out,
/// a NULL ACL read as the kind's default (`acldefault`).
pub fn acl(acl: &str, kind: char, owner: &str) -> String {
    // A NULL ACL is the default: nothing beyond the owner, except EXECUTE on functions and
    // USAGE on types for PUBLIC. Answered without aclexplode, the common case is cheap.
    let default = match kind {
        'f' => r#"'[{"grantee":"PUBLIC","privilege":"EXECUTE","grantable":false}]'"#,
        'T' => r#"'[{"grantee":"PUBLIC","privilege":"USAGE","grantable":false}]'"#,
        // NULL reads as no grants without parsing any JSON (most rows).
        _ => "NULL",
    };
    format!(
        "CASE WHEN {acl} IS NULL THEN {default}::json ELSE \
         (SELECT coalesce(json_agg(json_build_object('grantee', coalesce(r.rolname, 'PUBLIC'), \
         'privilege', a.privilege_type, 'grantable', a.is_grantable) \
         ORDER BY coalesce(r.rolname, 'PUBLIC'), a.privilege_type), '[]') \
         FROM aclexplode({acl}) a \
         LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE a.grantee <> {owner}) END"
    )
}

/// Not a member of an extension.
pub fn not_ext(class: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{class}'::regclass \
         AND e.objid = {oid} AND e.deptype = 'e')"
    )
}

/// Not made implicitly with another object (a range type's constructors, its casts).
pub fn not_internal(class: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = '{class}'::regclass \
         AND i.objid = {oid} AND i.deptype = 'i')"
    )
}

/// The comment of an object, as `{alias}.description`: a LEFT JOIN on pg_description (unique on
/// objoid, classoid, objsubid, so it never adds rows). The same answer as obj_description /
/// col_description, without a SQL-function call per row (a third of a column read's time).
pub fn describe(alias: &str, class: &str, oid: &str, subid: &str) -> String {
    format!(
        "LEFT JOIN pg_description {alias} ON {alias}.objoid = {oid} \
         AND {alias}.classoid = '{class}'::regclass AND {alias}.objsubid = {subid}"
    )
}

/// A collation's qualified name when `coll` differs from the type's default `typcoll`.
pub fn collation(coll: &str, typcoll: &str) -> String {
    format!(
        "CASE WHEN {coll} <> {typcoll} THEN (SELECT quote_ident(cn.nspname) || '.' || \
         quote_ident(co.collname) FROM pg_collation co \
         JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = {coll}) END"
    )
}

/// Every schema but the system ones and strata's history schema `history`.
pub fn namespaces(history: &str) -> String {
    format!(
        "SELECT n.oid, n.nspname, pg_get_userbyid(n.nspowner) AS owner, \
           ds.description AS comment, {acl} AS acl, {ext} AS plain \
         FROM pg_namespace n {ds} \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', {history}) \
           AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' \
         ORDER BY n.nspname",
        acl = acl("n.nspacl", 'n', "n.nspowner"),
        ext = not_ext("pg_namespace", "n.oid"),
        ds = describe("ds", "pg_namespace", "n.oid", "0"),
        history = crate::model::quote_literal(history),
    )
}

pub const EXTENSIONS: &str = "SELECT x.oid, x.extname, n.nspname, x.extversion, \
       ds.description AS comment \
     FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace \
       LEFT JOIN pg_description ds ON ds.objoid = x.oid AND ds.classoid = 'pg_extension'::regclass AND ds.objsubid = 0 \
     WHERE x.extnamespace = ANY($1) ORDER BY x.extname";

/// Collations of managed schemas, with the options `CREATE COLLATION` takes; the locale
/// column moved (`colliculocale` in 15 and 16, `colllocale` from 17).
pub fn collations(version: u32) -> String {
    let locale = if version >= 170000 {
        "o.colllocale"
    } else if version >= 150000 {
        "coalesce(o.colliculocale, o.collcollate)"
    } else {
        "o.collcollate"
    };
    let rules = if version >= 160000 {
        "o.collicurules"
    } else {
        "NULL::text"
    };
    format!(
        "SELECT o.oid, n.nspname, o.collname, \
           CASE o.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END AS provider, \
           CASE WHEN o.collprovider = 'c' THEN o.collcollate END AS lc_collate, \
           CASE WHEN o.collprovider = 'c' THEN o.collctype END AS lc_ctype, \
           CASE WHEN o.collprovider <> 'c' THEN {locale} END AS locale, \
           {rules} AS rules, o.collisdeterministic AS deterministic, \
           pg_get_userbyid(o.collowner) AS owner, ds.description AS comment \
         FROM pg_collation o JOIN pg_namespace n ON n.oid = o.collnamespace \
           LEFT JOIN pg_description ds ON ds.objoid = o.oid AND ds.classoid = 'pg_collation'::regclass AND ds.objsubid = 0 \
         WHERE o.collnamespace = ANY($1) AND {not_ext} ORDER BY n.nspname, o.collname",
        not_ext = not_ext("pg_collation", "o.oid"),
    )
}

pub fn types(version: u32) -> String {
    // Multiranges came with PostgreSQL 14.
    let multirange = if version >= 140000 {
        "CASE WHEN r.rngmultitypid <> 0 THEN format_type(r.rngmultitypid, NULL) END"
    } else {
        "NULL::text"
    };
    format!(
        "SELECT t.oid, t.typarray, t.typrelid, n.nspname, t.typname, t.typtype::text AS typtype, \
           pg_get_userbyid(t.typowner) AS owner, ds.description AS comment, \
           {acl} AS acl, \
           (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e \
             WHERE e.enumtypid = t.oid) AS labels, \
           (SELECT json_agg(json_build_object('name', a.attname, \
               'data_type', format_type(a.atttypid, a.atttypmod), \
               'collation', {attcoll}) ORDER BY a.attnum) \
             FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid \
             WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 \
               AND NOT a.attisdropped) AS attributes, \
           CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type, \
           CASE WHEN t.typtype = 'd' THEN {domcoll} END AS domain_collation, \
           t.typnotnull, pg_get_expr(t.typdefaultbin, 0) AS domain_default, \
           dc.checks, \
           format_type(r.rngsubtype, NULL) AS subtype, \
           (SELECT quote_ident(ocn.nspname) || '.' || quote_ident(oc.opcname) FROM pg_opclass oc \
              JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace \
             WHERE oc.oid = r.rngsubopc AND NOT oc.opcdefault) AS subtype_opclass, \
           {rngcoll} AS range_collation, \
           CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END AS canonical, \
           CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END AS subtype_diff, \
           {multirange} AS multirange \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
           LEFT JOIN pg_type bt ON bt.oid = t.typbasetype \
           LEFT JOIN pg_range r ON r.rngtypid = t.oid \
           LEFT JOIN pg_type st ON st.oid = r.rngsubtype \
           LEFT JOIN (SELECT c.contypid, json_agg(json_build_object('oid', c.oid::int8, \
               'name', c.conname, 'definition', pg_get_constraintdef(c.oid), \
               'validated', c.convalidated, 'comment', cd.description) \
               ORDER BY c.conname) AS checks \
             FROM pg_constraint c {cd} WHERE c.contypid <> 0 GROUP BY c.contypid) dc \
             ON dc.contypid = t.oid \
           {ds} \
         WHERE t.typnamespace = ANY($1) AND {ext} \
           AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND \
             (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))",
        acl = acl("t.typacl", 'T', "t.typowner"),
        attcoll = collation("a.attcollation", "at.typcollation"),
        domcoll = collation("t.typcollation", "bt.typcollation"),
        rngcoll = collation("r.rngcollation", "st.typcollation"),
        ext = not_ext("pg_type", "t.oid"),
        ds = describe("ds", "pg_type", "t.oid", "0"),
        cd = describe("cd", "pg_constraint", "c.oid", "0"),
    )
}

pub fn sequences() -> String {
    format!(
        "SELECT c.oid, n.nspname, c.relname, format_type(s.seqtypid, NULL) AS data_type, \
           s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, \
           c.relpersistence = 'u' AS unlogged, pg_get_userbyid(c.relowner) AS owner, \
           ds.description AS comment, {acl} AS acl, \
           (SELECT json_build_object('schema', tn.nspname, 'table', tc.relname, \
               'column', a.attname, 'identity', d.deptype = 'i') \
             FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid \
               JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
             WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
               AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 \
               AND d.deptype IN ('a', 'i') LIMIT 1) AS owned_by \
         FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid \
           JOIN pg_namespace n ON n.oid = c.relnamespace {ds} \
         WHERE c.relkind = 'S' AND c.relnamespace = ANY($1) AND {ext}",
        acl = acl("c.relacl", 's', "c.relowner"),
        ext = not_ext("pg_class", "c.oid"),
        ds = describe("ds", "pg_class", "c.oid", "0"),
    )
}

pub fn tables() -> String {
    format!(
        "SELECT c.oid, c.reltype, n.nspname, c.relname, c.relkind::text AS relkind, \
           c.relpersistence = 'u' AS unlogged, c.relrowsecurity, c.relforcerowsecurity, \
           coalesce(c.reloptions, '{{}}') AS options, \
           CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_by, \
           c.relispartition, pg_get_expr(c.relpartbound, c.oid) AS bound, \
           (SELECT json_agg(json_build_array(pn.nspname, pc.relname) ORDER BY i.inhseqno) \
             FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent \
               JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
             WHERE i.inhrelid = c.oid) AS parents, \
           c.relreplident::text AS replident, \
           (SELECT ri.relname FROM pg_index x JOIN pg_class ri ON ri.oid = x.indexrelid \
             WHERE x.indrelid = c.oid AND x.indisreplident) AS replident_index, \
           pg_get_userbyid(c.relowner) AS owner, ds.description AS comment, \
           {acl} AS acl \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace {ds} \
         WHERE c.relkind IN ('r', 'p') AND c.relnamespace = ANY($1) AND {ext}",
        acl = acl("c.relacl", 'r', "c.relowner"),
        ext = not_ext("pg_class", "c.oid"),
        ds = describe("ds", "pg_class", "c.oid", "0"),
    )
}

/// Columns of tables, views and materialized views (views' for comments and dependencies).
/// A default cannot refer to columns (a generation expression can): deparsed without the
/// table as context it prints the same, without a relation lookup per default (a third of
/// the query's time in a new backend).
pub fn columns() -> String {
    format!(
        "SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS data_type, \
           a.atttypid, a.attcollation, \
           {coll} AS collation, \
           pg_get_expr(ad.adbin, CASE WHEN a.attgenerated <> '' THEN ad.adrelid ELSE 0 END) \
             AS default_expr, \
           ad.oid AS default_oid, \
           a.attnotnull, a.attidentity::text AS identity, a.attgenerated::text AS generated, \
           a.attislocal, ds.description AS comment, \
           {acl} AS acl \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
           JOIN pg_type t ON t.oid = a.atttypid \
           LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
           {ds} \
         WHERE c.relkind IN ('r', 'p', 'v', 'm') AND c.relnamespace = ANY($1) \
           AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attrelid, a.attnum",
        coll = collation("a.attcollation", "t.typcollation"),
        acl = acl("a.attacl", 'c', "c.relowner"),
        ds = describe("ds", "pg_class", "a.attrelid", "a.attnum"),
    )
}

/// Constraints. Primary keys, unique and foreign keys come without `definition` (written in
/// the client, `deparse.rs`) but with the columns it needs; the others are deparsed here.
pub fn constraints(version: u32) -> String {
    // PostgreSQL 15 added ON DELETE SET NULL (columns) and NULLS NOT DISTINCT; 18 temporal
    // keys (WITHOUT OVERLAPS, PERIOD) and NOT ENFORCED, left to the server's deparser.
    let (delete_columns, nulls_not_distinct) = if version >= 150000 {
        ("con.confdelsetcols", "ix.indnullsnotdistinct")
    } else {
        ("NULL::int2[]", "false")
    };
    let server_only = if version >= 180000 {
        "con.contype NOT IN ('p', 'u', 'f') OR con.conperiod OR NOT con.conenforced"
    } else {
        "con.contype NOT IN ('p', 'u', 'f')"
    };
    format!(
        "SELECT con.oid, con.conrelid, con.conname, con.contype::text AS contype, \
           CASE WHEN {server_only} THEN pg_get_constraintdef(con.oid) END AS definition, \
           con.convalidated, con.condeferrable, \
           con.condeferred, con.conislocal AND con.conparentid = 0 AS local, con.conparentid, con.conindid, \
           con.conkey, con.confrelid, con.confkey, con.confmatchtype::text AS match_type, \
           con.confupdtype::text AS on_update, con.confdeltype::text AS on_delete, \
           {delete_columns} AS on_delete_columns, \
           ix.indkey::int2[] AS index_columns, ix.indnkeyatts AS index_key_count, \
           {nulls_not_distinct} AS nulls_not_distinct, \
           (SELECT ic.reloptions FROM pg_class ic WHERE ic.oid = ix.indexrelid) AS index_options, \
           CASE WHEN con.contype IN ('p', 'u', 'x') AND con.conparentid = 0 THEN \
             (SELECT json_build_array(pn.nspname, pc.relname) FROM pg_inherits h \
                JOIN pg_class pc ON pc.oid = h.inhparent \
                JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
               WHERE h.inhrelid = con.conindid) END AS index_parent, \
           fn.nspname AS ref_schema, fc.relname AS ref_table, \
           ds.description AS comment \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
           LEFT JOIN pg_description ds ON ds.objoid = con.oid AND ds.classoid = 'pg_constraint'::regclass AND ds.objsubid = 0 \
           LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
           LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
           LEFT JOIN pg_index ix ON ix.indexrelid = con.conindid AND con.contype IN ('p', 'u') \
         WHERE c.relnamespace = ANY($1) AND con.contype IN ('c', 'p', 'u', 'f', 'x')"
    )
}

/// Indexes that back no constraint (those are part of their constraint: not deparsed for
/// nothing). Those without expressions, predicate, storage options or a column with options,
/// of a built-in access method, come without `definition` (written in the client,
/// `deparse.rs`) but with the columns it needs.
pub fn indexes(version: u32) -> String {
    let nulls_not_distinct = if version >= 150000 {
        "i.indnullsnotdistinct"
    } else {
        "false"
    };
    format!(
        "SELECT i.indexrelid, n.nspname, ic.relname, i.indrelid, tc.relname AS table_name, \
           CASE WHEN i.indexprs IS NOT NULL OR i.indpred IS NOT NULL OR ic.reloptions IS NOT NULL \
               OR am.amname NOT IN ('btree', 'hash', 'gist', 'gin', 'brin', 'spgist') \
               OR EXISTS (SELECT 1 FROM pg_attribute ia WHERE ia.attrelid = i.indexrelid \
                 AND ia.attoptions IS NOT NULL) \
             THEN pg_get_indexdef(i.indexrelid) END AS definition, \
           i.indisunique, ic.relkind::text AS index_kind, am.amname AS access_method, \
           i.indkey::int2[] AS index_columns, i.indnkeyatts AS index_key_count, \
           i.indoption::int2[] AS index_options, i.indcollation::oid[] AS index_collations, \
           i.indclass::oid[] AS index_opclasses, {nulls_not_distinct} AS nulls_not_distinct, \
           (SELECT json_build_array(pn.nspname, pc.relname) FROM pg_inherits h \
              JOIN pg_class pc ON pc.oid = h.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
             WHERE h.inhrelid = i.indexrelid) AS parent, \
           ds.description AS comment \
         FROM pg_class tc JOIN pg_index i ON i.indrelid = tc.oid \
           JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam \
           JOIN pg_namespace n ON n.oid = ic.relnamespace \
           LEFT JOIN pg_description ds ON ds.objoid = i.indexrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0 \
         WHERE tc.relkind IN ('r', 'p', 'm') AND tc.relnamespace = ANY($1) \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid \
             AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))"
    )
}

/// Operator classes: whether each is its input type's default (`deparse.rs` prints none then).
pub const OPCLASSES: &str = "SELECT oid, opcdefault, opcintype FROM pg_opclass";

/// The server's own definitions of the indexes ($1) and constraints ($2) the client could
/// not write (`deparse.rs`).
pub const DEFINITIONS: &str = "SELECT 'index' AS kind, o.oid, pg_get_indexdef(o.oid) AS definition \
     FROM unnest($1::oid[]) o(oid) \
     UNION ALL SELECT 'constraint', o.oid, pg_get_constraintdef(o.oid) FROM unnest($2::oid[]) o(oid)";

pub fn views() -> String {
    format!(
        "SELECT c.oid, c.reltype, n.nspname, c.relname, c.relkind = 'm' AS materialized, \
           pg_get_viewdef(c.oid, true) AS definition, coalesce(c.reloptions, '{{}}') AS options, \
           (SELECT r.oid FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename = '_RETURN') AS rule, \
           c.relispopulated, pg_get_userbyid(c.relowner) AS owner, \
           ds.description AS comment, {acl} AS acl \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace {ds} \
         WHERE c.relkind IN ('v', 'm') AND c.relnamespace = ANY($1) AND {ext}",
        acl = acl("c.relacl", 'r', "c.relowner"),
        ext = not_ext("pg_class", "c.oid"),
        ds = describe("ds", "pg_class", "c.oid", "0"),
    )
}

pub fn functions() -> String {
    format!(
        "SELECT p.oid, n.nspname, p.proname, pg_get_function_identity_arguments(p.oid) AS args, \
           p.prokind::text AS prokind, \
           CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS definition, \
           CASE WHEN p.prokind = 'p' THEN '' ELSE pg_get_function_result(p.oid) END AS returns, \
           pg_get_userbyid(p.proowner) AS owner, ds.description AS comment, \
           {acl} AS acl, \
           ag.aggkind::text AS aggkind, ag.aggtransfn::regproc::text AS sfunc, \
           format_type(ag.aggtranstype, NULL) AS stype, \
           CASE WHEN ag.aggfinalfn <> 0 THEN ag.aggfinalfn::regproc::text END AS finalfunc, \
           CASE WHEN ag.aggcombinefn <> 0 THEN ag.aggcombinefn::regproc::text END AS combinefunc, \
           ag.agginitval AS initcond, \
           CASE WHEN ag.aggsortop <> 0 THEN ag.aggsortop::regoperator::text END AS sortop \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
           LEFT JOIN pg_aggregate ag ON ag.aggfnoid = p.oid {ds} \
         WHERE p.pronamespace = ANY($1) AND {ext} AND {internal}",
        acl = acl("p.proacl", 'f', "p.proowner"),
        ext = not_ext("pg_proc", "p.oid"),
        internal = not_internal("pg_proc", "p.oid"),
        ds = describe("ds", "pg_proc", "p.oid", "0"),
    )
}

pub const TRIGGERS: &str = "SELECT t.oid, n.nspname, c.relname, t.tgname, \
       pg_get_triggerdef(t.oid, false) AS definition, t.tgenabled::text AS enabled, \
       pn.nspname AS fn_schema, p.proname AS fn_name, \
       pg_get_function_identity_arguments(p.oid) AS fn_args, \
       ds.description AS comment \
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
       LEFT JOIN pg_description ds ON ds.objoid = t.oid AND ds.classoid = 'pg_trigger'::regclass AND ds.objsubid = 0 \
       JOIN pg_namespace n ON n.oid = c.relnamespace \
       JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace \
     WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND c.relnamespace = ANY($1)";

pub const POLICIES: &str = "SELECT pol.oid, n.nspname, c.relname, pol.polname, pol.polpermissive, \
       pol.polcmd::text AS cmd, \
       (SELECT json_agg(x ORDER BY x) FROM (SELECT CASE WHEN r.oid = 0 THEN 'PUBLIC' \
           ELSE pg_get_userbyid(r.oid) END AS x FROM unnest(pol.polroles) AS r(oid)) s) AS roles, \
       pg_get_expr(pol.polqual, pol.polrelid) AS using_expr, \
       pg_get_expr(pol.polwithcheck, pol.polrelid) AS check_expr, \
       pol.polqual IS NOT NULL AS has_using, pol.polwithcheck IS NOT NULL AS has_check, \
       ds.description AS comment \
     FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid \
       LEFT JOIN pg_description ds ON ds.objoid = pol.oid AND ds.classoid = 'pg_policy'::regclass AND ds.objsubid = 0 \
       JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relnamespace = ANY($1)";

/// Extended statistics objects (`CREATE STATISTICS`) in the managed schemas. The target is
/// NULL when it is the default (-1 before PostgreSQL 17, NULL since; no column before 13).
pub fn statistics(version: u32) -> String {
    let target = if version >= 130000 {
        "nullif(o.stxstattarget::int, -1)"
    } else {
        "NULL::int"
    };
    format!(
        "SELECT o.oid, n.nspname, o.stxname, tn.nspname AS table_schema, c.relname AS table_name, \
           pg_get_statisticsobjdef(o.oid) AS definition, {target} AS target, \
           pg_get_userbyid(o.stxowner) AS owner, ds.description AS comment \
         FROM pg_statistic_ext o JOIN pg_namespace n ON n.oid = o.stxnamespace \
           JOIN pg_class c ON c.oid = o.stxrelid JOIN pg_namespace tn ON tn.oid = c.relnamespace \
           LEFT JOIN pg_description ds ON ds.objoid = o.oid \
             AND ds.classoid = 'pg_statistic_ext'::regclass AND ds.objsubid = 0 \
         WHERE o.stxnamespace = ANY($1) AND {ext}",
        ext = not_ext("pg_statistic_ext", "o.oid"),
    )
}

/// Default privileges: the whole ACL (owner entries included: a global entry that only
/// revokes from PUBLIC holds nothing else).
pub const DEFAULT_PRIVILEGES: &str = "SELECT pg_get_userbyid(d.defaclrole) AS role, n.nspname, \
       d.defaclobjtype::text AS objtype, \
       (SELECT coalesce(json_agg(json_build_object('grantee', coalesce(r.rolname, 'PUBLIC'), \
           'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]') \
         FROM aclexplode(d.defaclacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee) AS acl \
     FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace \
     WHERE d.defaclnamespace = 0 OR d.defaclnamespace = ANY($1)";

/// pg_depend as it is, for user objects (OID >= 16384) on both sides, plus every extension
/// membership row (deptype 'e'). Catalogs come as OIDs; a view's rewrite rule, a default and
/// an extension's members are matched to what they stand for in the client (`depend.rs`):
/// joins here made the planner loop over pg_depend once per row. `DependRow::new` reads the
/// columns by position.
pub const DEPENDENCIES: &str = "SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, \
       d.refobjsubid, d.deptype \
     FROM pg_depend d \
     WHERE d.objid >= 16384 AND (d.deptype = 'e' OR (d.deptype IN ('n', 'a') AND d.refobjid >= 16384))";

/// Objects strata does not model, as (kind, name): reported, never silently dropped.
pub fn unmodelled() -> String {
    let ns = "= ANY($1)";
    format!(
        "SELECT kind, name FROM ( \
         SELECT 'foreign table' AS kind, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE c.relkind = 'f' AND c.relnamespace {ns} AND {ext_class} \
         UNION ALL SELECT 'rule', quote_ident(r.rulename) || ' ON ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) \
           FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE r.rulename <> '_RETURN' AND c.relnamespace {ns} AND {ext_class} \
         UNION ALL SELECT 'event trigger', quote_ident(evtname) FROM pg_event_trigger v WHERE {ext_evt} \
         UNION ALL SELECT 'publication', quote_ident(pubname) FROM pg_publication \
         UNION ALL SELECT 'text search configuration', quote_ident(n.nspname) || '.' || quote_ident(cfgname) \
           FROM pg_ts_config t JOIN pg_namespace n ON n.oid = t.cfgnamespace WHERE t.cfgnamespace {ns} AND {ext_cfg} \
         UNION ALL SELECT 'text search dictionary', quote_ident(n.nspname) || '.' || quote_ident(dictname) \
           FROM pg_ts_dict t JOIN pg_namespace n ON n.oid = t.dictnamespace WHERE t.dictnamespace {ns} AND {ext_dict} \
         UNION ALL SELECT 'cast', '(' || format_type(castsource, NULL) || ' AS ' || format_type(casttarget, NULL) || ')' \
           FROM pg_cast c WHERE c.oid >= 16384 AND {ext_cast} AND {int_cast} \
         UNION ALL SELECT 'operator', quote_ident(n.nspname) || '.' || o.oprname || '(' || \
             coalesce(format_type(nullif(o.oprleft, 0), NULL), 'NONE') || ', ' || \
             coalesce(format_type(nullif(o.oprright, 0), NULL), 'NONE') || ')' \
           FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE o.oprnamespace {ns} AND {ext_op} \
         UNION ALL SELECT 'operator class', quote_ident(n.nspname) || '.' || quote_ident(o.opcname) \
           FROM pg_opclass o JOIN pg_namespace n ON n.oid = o.opcnamespace WHERE o.opcnamespace {ns} AND {ext_opc} \
         UNION ALL SELECT 'operator family', quote_ident(n.nspname) || '.' || quote_ident(o.opfname) \
           FROM pg_opfamily o JOIN pg_namespace n ON n.oid = o.opfnamespace WHERE o.opfnamespace {ns} AND {ext_opf} \
         UNION ALL SELECT 'conversion', quote_ident(n.nspname) || '.' || quote_ident(o.conname) \
           FROM pg_conversion o JOIN pg_namespace n ON n.oid = o.connamespace WHERE o.connamespace {ns} AND {ext_conv} \
         UNION ALL SELECT 'base type', quote_ident(n.nspname) || '.' || quote_ident(t.typname) \
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
           WHERE t.typnamespace {ns} AND t.typtype IN ('b', 'p') AND t.typcategory <> 'A' AND {ext_type} \
         UNION ALL SELECT 'foreign-data wrapper', quote_ident(fdwname) FROM pg_foreign_data_wrapper o WHERE {ext_fdw} \
         UNION ALL SELECT 'foreign server', quote_ident(srvname) FROM pg_foreign_server o WHERE {ext_srv} \
         UNION ALL SELECT 'language', quote_ident(lanname) FROM pg_language o WHERE o.oid >= 16384 AND {ext_lang} \
         UNION ALL SELECT 'access method', quote_ident(amname) FROM pg_am o WHERE o.oid >= 16384 AND {ext_am} \
         UNION ALL SELECT 'ordered-set aggregate', quote_ident(n.nspname) || '.' || quote_ident(p.proname) \
           FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_namespace n ON n.oid = p.pronamespace \
           WHERE a.aggkind <> 'n' AND p.pronamespace {ns} AND {ext_proc} \
         ) s ORDER BY kind, name",
        ext_class = not_ext("pg_class", "c.oid"),
        ext_evt = not_ext("pg_event_trigger", "v.oid"),
        ext_cfg = not_ext("pg_ts_config", "t.oid"),
        ext_dict = not_ext("pg_ts_dict", "t.oid"),
        ext_cast = not_ext("pg_cast", "c.oid"),
        int_cast = not_internal("pg_cast", "c.oid"),
        ext_op = not_ext("pg_operator", "o.oid"),
        ext_opc = not_ext("pg_opclass", "o.oid"),
        ext_opf = not_ext("pg_opfamily", "o.oid"),
        ext_conv = not_ext("pg_conversion", "o.oid"),
        ext_type = not_ext("pg_type", "t.oid"),
        ext_fdw = not_ext("pg_foreign_data_wrapper", "o.oid"),
        ext_srv = not_ext("pg_foreign_server", "o.oid"),
        ext_lang = not_ext("pg_language", "o.oid"),
        ext_am = not_ext("pg_am", "o.oid"),
        ext_proc = not_ext("pg_proc", "p.oid"),
    )
}
