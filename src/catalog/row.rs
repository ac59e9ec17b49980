//! A catalog query's row, copied out of the connection's read buffer as it arrives.
//!
//! A `tokio_postgres::Row` keeps a 24-byte range per column and a share of the buffer it was
//! read into: at 10,000 tables (`wide` mix) the rows of one read held about 75 MB until the
//! model was built, twice what their values take. A [`CatalogRow`] holds its values in one
//! allocation and 8 bytes per column, and frees the buffer for the next rows.

use std::sync::Arc;
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::Row;

/// The columns of one query's rows, shared by all of them.
pub(crate) struct Columns {
    names: Box<[String]>,
    types: Box<[Type]>,
}

impl Columns {
    pub fn of(row: &Row) -> Arc<Columns> {
        Arc::new(Columns {
            names: row.columns().iter().map(|c| c.name().to_string()).collect(),
            types: row.columns().iter().map(|c| c.type_().clone()).collect(),
        })
    }

    fn position(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("the catalog query has no column {name}"))
    }
}

pub(crate) struct CatalogRow {
    columns: Arc<Columns>,
    /// Each column's value as (start, length) in `values`; [`NULL`] as the length of a NULL.
    spans: Box<[(u32, u32)]>,
    values: Box<[u8]>,
}

const NULL: u32 = u32::MAX;

impl CatalogRow {
    /// A copy of `row`, whose columns are `columns` (the same query's).
    pub fn copy(row: &Row, columns: &Arc<Columns>) -> CatalogRow {
        let raw: Vec<Option<&[u8]>> = (0..row.len()).map(|i| row.get::<_, Raw>(i).0).collect();
        let mut values = Vec::with_capacity(raw.iter().flatten().map(|v| v.len()).sum());
        let spans = raw
            .iter()
            .map(|value| match value {
                Some(bytes) => {
                    let start = values.len() as u32;
                    values.extend_from_slice(bytes);
                    (start, bytes.len() as u32)
                }
                None => (0, NULL),
            })
            .collect();
        CatalogRow {
            columns: Arc::clone(columns),
            spans,
            values: values.into_boxed_slice(),
        }
    }
}

/// Reading a column by name: from a [`CatalogRow`], or from a `Row` of a query whose rows
/// are turned into their own form as they arrive (`Queries::each`).
pub(crate) trait Fields {
    /// The value of column `name`, as `tokio_postgres::Row::get` takes it (and panicking
    /// alike when the column is missing or its type does not convert: the queries are
    /// strata's own).
    fn get<'a, T: FromSql<'a>>(&'a self, name: &str) -> T;
}

impl Fields for CatalogRow {
    fn get<'a, T: FromSql<'a>>(&'a self, name: &str) -> T {
        let at = self.columns.position(name);
        let ty = &self.columns.types[at];
        assert!(
            T::accepts(ty),
            "column {name} of type {ty} read as {}",
            std::any::type_name::<T>()
        );
        let value = match self.spans[at] {
            (_, NULL) => None,
            (start, len) => Some(&self.values[start as usize..(start + len) as usize]),
        };
        T::from_sql_nullable(ty, value)
            .unwrap_or_else(|e| panic!("column {name} of type {ty}: {e}"))
    }
}

impl Fields for Row {
    fn get<'a, T: FromSql<'a>>(&'a self, name: &str) -> T {
        Row::get(self, name)
    }
}

/// A column's bytes as the server sent them, whatever its type.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
