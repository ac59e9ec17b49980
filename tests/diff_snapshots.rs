//! Snapshots of what the diff says for every case of tests/diff_cases: the rendered SQL with
//! each statement's hazards (`diff::render`), or the error of a case that expects one. One
//! test per case, so `cargo test --test diff_snapshots CASE` runs one; tests/diff.rs checks
//! that the SQL converges, this file pins what it is. A new case needs its line in `cases!`
//! (`every_case_has_a_snapshot_test` fails until it has one) and its reviewed snapshot in
//! tests/snapshots/ (`cargo insta review`, or INSTA_UPDATE=always then read the .snap).

mod common;

use common::TestDb;
use std::path::{Path, PathBuf};
use strata::source::load::load;
use strata::source::sdl::Sdl;

fn case_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/diff_cases")
        .join(name)
}

async fn read(path: &Path) -> strata::model::Schema {
    let db = TestDb::new();
    let text = std::fs::read_to_string(path).unwrap();
    let sdl = Sdl::from_text(&path.display().to_string(), &text)
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let client = db.client().await;
    load(&client, &sdl)
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let config = strata::config::Config::parse(Path::new("."), "").unwrap();
    strata::catalog::catalog(&client, &config)
        .await
        .unwrap_or_else(|e| panic!("catalog of {}: {e:?}", path.display()))
}

/// What the diff of one case says: its SQL with hazards, or its error.
async fn said(name: &str) -> String {
    let dir = case_dir(name);
    let from = read(&dir.join("from.sql")).await;
    let to = read(&dir.join("to.sql")).await;
    match strata::diff::diff(&from, &to) {
        Ok(changes) if changes.is_empty() => "-- (no changes)\n".to_string(),
        Ok(changes) => strata::diff::render(&changes),
        Err(e) => format!("error: {e}\n"),
    }
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        const CASES: &[&str] = &[$(stringify!($name)),*];
        $(
            #[tokio::test]
            async fn $name() {
                insta::assert_snapshot!(stringify!($name), said(stringify!($name)).await);
            }
        )*
    };
}

cases!(
    check_add,
    check_change,
    collation_changed_refused,
    collation_create,
    collation_drop,
    collation_libc_comment,
    column_add,
    column_collation,
    column_default_change,
    column_default_drop,
    column_default_set,
    column_drop,
    column_generated,
    column_generated_expression_change,
    column_generated_readd_comment_grant,
    column_generated_with_dependents,
    column_identity_add,
    column_identity_add_rows,
    column_identity_add_start_above_rows,
    column_identity_drop,
    column_identity_from_serial,
    column_identity_from_serial_rows,
    column_identity_kind,
    column_identity_sequence_name_taken,
    column_not_null_drop,
    column_not_null_set,
    column_type_boolean_to_enum,
    column_type_enum_to_other_enum,
    column_type_implicit,
    column_type_int_array_to_enum_array,
    column_type_lossy,
    column_type_no_cast_refused,
    column_type_smallint_to_enum,
    column_type_using,
    column_type_using_annotation,
    column_type_varchar_widen,
    column_type_with_policy,
    comment_change_drop,
    comment_function_view,
    comment_table_column,
    composite_attribute_inserted_middle,
    composite_attribute_removed_used_by_column,
    composite_attribute_retyped_used_by_column,
    composite_type,
    composite_type_add_attribute,
    constraint_not_valid_to_valid,
    default_privileges,
    deferrable_unique,
    domain_base_type_change,
    domain_base_type_narrowed,
    domain_change_check,
    domain_create,
    domain_used_by_table,
    enum_add_value_end,
    enum_add_value_first,
    enum_add_value_middle,
    enum_create,
    enum_default_other_schema,
    enum_rebuild_dependents,
    enum_rebuild_other_schema,
    enum_remove_value,
    enum_remove_value_repro,
    enum_rename_value,
    enum_reorder_values,
    enum_used_by_view_and_column,
    exclusion_add,
    extension_create,
    extension_drop,
    fk_add,
    fk_chain_create,
    fk_chain_drop,
    fk_cycle,
    fk_cycle_drop,
    fk_on_delete,
    fk_to_pk_type_change,
    fk_type_change_self_reference,
    fk_type_change_text_to_uuid,
    function_body_check_reads_view,
    function_body_default_reads_view,
    function_body_drop_reader,
    function_body_group_by_new_pkey,
    function_body_group_by_own_table_default,
    function_body_mutual_recursion,
    function_body_plpgsql_calls_reader,
    function_create,
    function_create_atomic_caller,
    function_create_default_and_body_use_table,
    function_create_group_by_pkey,
    function_create_plpgsql_calls_function,
    function_create_sql_calls_function,
    function_create_sql_reads_view,
    function_drop_atomic_caller,
    function_drop_trigger_function_replaced,
    function_drop_used_by_default,
    function_drop_used_by_view,
    function_drop_with_check_kept_table,
    function_drop_with_check_table,
    function_drop_with_default_table,
    function_drop_with_generated_table,
    function_drop_with_index_kept_table,
    function_drop_with_index_table,
    function_drop_with_policy_kept_table,
    function_drop_with_policy_table,
    function_drop_with_trigger_kept_table,
    function_drop_with_trigger_table,
    function_in_check,
    function_in_default,
    function_overloads,
    function_recreate_used_by_check_and_trigger,
    function_recreate_used_by_default,
    function_replace_body,
    function_return_change_with_view,
    function_return_type_change,
    function_security_definer,
    grant_column,
    grant_schema_usage,
    grant_table,
    hostile_enum_values,
    hostile_identifiers,
    hostile_policy_and_function,
    hostile_rename_like,
    identity_minvalue_raised,
    index_change_columns,
    index_create,
    index_drop,
    index_on_retyped_column,
    index_partial_expression,
    inherits_add,
    inherits_child,
    inherits_drop_parent_and_child,
    inherits_parent_check_add,
    inherits_parent_column_add,
    inherits_remove,
    key_index_options_changed,
    materialized_view,
    matview_recreate_with_index,
    mixed_chain_create,
    mixed_chain_drop,
    name_reuse_constraint_by_index,
    name_reuse_constraint_kind_change,
    name_reuse_constraint_moved_table,
    name_reuse_enum_dropped_table_takes_name,
    name_reuse_index_by_constraint,
    name_reuse_index_by_sequence,
    name_reuse_matview_by_table,
    name_reuse_table_by_type,
    name_reuse_table_by_view,
    name_reuse_table_renamed_pkey,
    name_reuse_tables_swap_constraint_names,
    name_reuse_type_by_table,
    name_reuse_view_renamed_table_takes_name,
    new_enum_value_used_by_new_default,
    no_change,
    partition_add,
    partition_attach_and_detach_tables,
    partition_bound_changes,
    partition_check_becomes_own,
    partition_column_add,
    partition_create,
    partition_detached_and_dropped,
    partition_from_plain_table,
    partition_index,
    partition_index_changes,
    partition_index_child_renamed,
    partition_index_named_children,
    partition_index_on_only,
    partition_index_with_default_partition,
    partition_key_changes,
    partition_like_attach,
    partition_multilevel_defaults,
    partition_not_null_own,
    partition_own_default,
    partition_parent_default_changes,
    partition_pk_added,
    partition_pk_dropped,
    partition_to_plain_table,
    partitioned_fk_and_default_partition,
    pk_add,
    pk_change_with_referencing_fk,
    pk_drop,
    policy_change,
    policy_create,
    policy_restrictive_roles,
    procedure_create,
    replica_identity_full,
    replica_identity_index_dropped,
    replica_identity_index_recreated,
    replica_identity_new_partition,
    replica_identity_partition_keys,
    replica_identity_partitions,
    replica_identity_using_index,
    revoke_function_execute,
    revoke_table,
    rls_force,
    schema_comment_grant,
    schema_create_with_table,
    schema_drop_with_table,
    sequence_create,
    sequence_minvalue_raised_below_value,
    sequence_minvalue_raised_past_value,
    sequence_options,
    sequence_owned_by,
    sequence_used_by_default_created,
    serial_column,
    table_create,
    table_drop,
    table_move_schema_like,
    table_recreated_same_name_other_schema,
    table_storage_options,
    table_unlogged,
    three_level_view_chain_retype,
    trigger_change_events,
    trigger_create,
    trigger_disable,
    trigger_drop,
    trigger_function_body_change,
    unique_add,
    unique_recreate_with_referencing_fk,
    view_create,
    view_drop,
    view_on_view_chain,
    view_on_view_drop_middle,
    view_options,
    view_over_dropped_column,
    view_over_retyped_column,
    view_replace_compatible,
    view_replace_incompatible,
    view_replace_type_change,
    view_replace_where,
);

#[test]
fn every_case_has_a_snapshot_test() {
    let mut found: Vec<String> = std::fs::read_dir(case_dir(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    found.sort();
    let listed: Vec<String> = CASES.iter().map(|c| c.to_string()).collect();
    assert_eq!(found, listed, "tests/diff_cases and the cases! list differ");
}
