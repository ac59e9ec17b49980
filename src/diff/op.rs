//! Operations: what a change does, as data. The planner's online forms (`plan::online`)
//! rewrite the typed operations (an index built `CONCURRENTLY`, a constraint added `NOT
//! VALID`, a type change's `USING`) instead of their SQL text, and `Display` is the one place
//! their SQL is written. What no rewrite looks into stays [`Op::Sql`], the explicit fallback
//! (`Op::is_typed` counts the typed ones).

use crate::model::{quote_ident, Column, QualifiedName};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `CREATE [UNIQUE] INDEX ...`, as `pg_get_indexdef` writes it (`definition`), built
    /// `CONCURRENTLY` or not.
    CreateIndex {
        definition: String,
        concurrently: bool,
    },
    DropIndex {
        name: QualifiedName,
        concurrently: bool,
        if_exists: bool,
    },
    /// `ALTER TABLE t ADD CONSTRAINT name definition [NOT VALID]`; `definition` as
    /// `pg_get_constraintdef` writes it.
    AddConstraint {
        table: QualifiedName,
        name: String,
        definition: String,
        not_valid: bool,
    },
    /// `ALTER TABLE t ADD CONSTRAINT name UNIQUE|PRIMARY KEY USING INDEX name`.
    AddConstraintUsingIndex {
        table: QualifiedName,
        name: String,
        primary_key: bool,
    },
    ValidateConstraint {
        table: QualifiedName,
        name: String,
    },
    DropConstraint {
        table: QualifiedName,
        name: String,
    },
    AddColumn {
        table: QualifiedName,
        column: Box<Column>,
    },
    SetNotNull {
        table: QualifiedName,
        column: String,
    },
    /// `ALTER COLUMN c TYPE t [COLLATE x] [USING e]`.
    AlterColumnType {
        table: QualifiedName,
        column: String,
        data_type: String,
        collation: Option<String>,
        using: Option<String>,
    },
    /// A statement no rewrite looks into, as `crate::ddl` or the diff wrote it.
    Sql(String),
}

impl Op {
    /// Whether the operation is typed (not the [`Op::Sql`] fallback).
    pub fn is_typed(&self) -> bool {
        !matches!(self, Op::Sql(_))
    }
}

impl From<String> for Op {
    fn from(sql: String) -> Self {
        Op::Sql(sql)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::CreateIndex {
                definition,
                concurrently,
            } => match (concurrently, definition.split_once(" INDEX ")) {
                (true, Some((head, rest))) => write!(f, "{head} INDEX CONCURRENTLY {rest}"),
                _ => f.write_str(definition),
            },
            Op::DropIndex {
                name,
                concurrently,
                if_exists,
            } => {
                f.write_str("DROP INDEX ")?;
                if *concurrently {
                    f.write_str("CONCURRENTLY ")?;
                }
                if *if_exists {
                    f.write_str("IF EXISTS ")?;
                }
                write!(f, "{name}")
            }
            Op::AddConstraint {
                table,
                name,
                definition,
                not_valid,
            } => {
                write!(
                    f,
                    "ALTER TABLE {table} ADD CONSTRAINT {} {definition}",
                    quote_ident(name)
                )?;
                if *not_valid {
                    f.write_str(" NOT VALID")?;
                }
                Ok(())
            }
            Op::AddConstraintUsingIndex {
                table,
                name,
                primary_key,
            } => {
                let word = if *primary_key {
                    "PRIMARY KEY"
                } else {
                    "UNIQUE"
                };
                let name = quote_ident(name);
                write!(
                    f,
                    "ALTER TABLE {table} ADD CONSTRAINT {name} {word} USING INDEX {name}"
                )
            }
            Op::ValidateConstraint { table, name } => write!(
                f,
                "ALTER TABLE {table} VALIDATE CONSTRAINT {}",
                quote_ident(name)
            ),
            Op::DropConstraint { table, name } => write!(
                f,
                "ALTER TABLE {table} DROP CONSTRAINT {}",
                quote_ident(name)
            ),
            Op::AddColumn { table, column } => write!(
                f,
                "ALTER TABLE {table} ADD COLUMN {}",
                crate::ddl::column_definition(column)
            ),
            Op::SetNotNull { table, column } => write!(
                f,
                "ALTER TABLE {table} ALTER COLUMN {} SET NOT NULL",
                quote_ident(column)
            ),
            Op::AlterColumnType {
                table,
                column,
                data_type,
                collation,
                using,
            } => {
                write!(
                    f,
                    "ALTER TABLE {table} ALTER COLUMN {} TYPE {data_type}",
                    quote_ident(column)
                )?;
                if let Some(c) = collation {
                    write!(f, " COLLATE {c}")?;
                }
                if let Some(e) = using {
                    write!(f, " USING {e}")?;
                }
                Ok(())
            }
            Op::Sql(sql) => f.write_str(sql),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> QualifiedName {
        QualifiedName::new("public".to_string(), "users")
    }

    #[test]
    fn an_index_is_built_concurrently_after_its_unique() {
        let op = |d: &str| Op::CreateIndex {
            definition: d.to_string(),
            concurrently: true,
        };
        assert_eq!(
            op("CREATE UNIQUE INDEX u ON public.users USING btree (email)").to_string(),
            "CREATE UNIQUE INDEX CONCURRENTLY u ON public.users USING btree (email)"
        );
        assert_eq!(
            op("CREATE INDEX \"Index\" ON public.users USING btree (a)").to_string(),
            "CREATE INDEX CONCURRENTLY \"Index\" ON public.users USING btree (a)"
        );
    }

    #[test]
    fn drop_index_forms() {
        let op = |concurrently, if_exists| Op::DropIndex {
            name: QualifiedName::new("public".to_string(), "i"),
            concurrently,
            if_exists,
        };
        assert_eq!(op(false, false).to_string(), "DROP INDEX public.i");
        assert_eq!(
            op(true, true).to_string(),
            "DROP INDEX CONCURRENTLY IF EXISTS public.i"
        );
    }

    #[test]
    fn constraints_quote_their_names() {
        let add = Op::AddConstraint {
            table: t(),
            name: "Fk".into(),
            definition: "FOREIGN KEY (a) REFERENCES public.o(id)".into(),
            not_valid: true,
        };
        assert_eq!(
            add.to_string(),
            "ALTER TABLE public.users ADD CONSTRAINT \"Fk\" FOREIGN KEY (a) REFERENCES public.o(id) NOT VALID"
        );
        let validate = Op::ValidateConstraint {
            table: t(),
            name: "Fk".into(),
        };
        assert_eq!(
            validate.to_string(),
            "ALTER TABLE public.users VALIDATE CONSTRAINT \"Fk\""
        );
        let attach = Op::AddConstraintUsingIndex {
            table: t(),
            name: "users_pkey".into(),
            primary_key: true,
        };
        assert_eq!(
            attach.to_string(),
            "ALTER TABLE public.users ADD CONSTRAINT users_pkey PRIMARY KEY USING INDEX users_pkey"
        );
    }

    #[test]
    fn a_type_change_with_collation_and_using() {
        let op = Op::AlterColumnType {
            table: t(),
            column: "score".into(),
            data_type: "text".into(),
            collation: Some("\"C\"".into()),
            using: Some("score::text".into()),
        };
        assert_eq!(
            op.to_string(),
            "ALTER TABLE public.users ALTER COLUMN score TYPE text COLLATE \"C\" USING score::text"
        );
        assert!(op.is_typed());
        assert!(!Op::Sql("SELECT 1".into()).is_typed());
    }
}
