//! The steps the migrations repeat, each written once: a migration's frame, added columns, an
//! index, a cascading foreign key. They build exactly the statements the migrations spelled out
//! before (the schema dumps before and after this module compared equal on both backends).

use sea_orm_migration::prelude::*;

/// Declares `Migration`, named after its file, whose `up` runs `$body` with `$manager` in scope
/// and whose `down` refuses: patdesk's migrations are forward-only (`lib.rs`).
macro_rules! forward_only {
    (|$manager:ident| $body:block) => {
        #[derive(DeriveMigrationName)]
        pub struct Migration;

        #[async_trait::async_trait]
        impl MigrationTrait for Migration {
            async fn up(&self, $manager: &SchemaManager) -> Result<(), DbErr> $body

            async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
                Err(DbErr::Migration("patdesk's migrations are forward-only".into()))
            }
        }
    };
}
pub(crate) use forward_only;

/// Adds columns to `table`, one statement each: SQLite alters one column per statement.
pub async fn add_columns(
    manager: &SchemaManager<'_>,
    table: &'static str,
    columns: impl IntoIterator<Item = ColumnDef>,
) -> Result<(), DbErr> {
    for mut column in columns {
        manager
            .alter_table(
                Table::alter()
                    .table(table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

/// Whether an index refuses two rows with the same values.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    Yes,
    No,
}

/// Creates the index `name` on `table (columns…)` unless it exists.
pub async fn create_index(
    manager: &SchemaManager<'_>,
    name: &'static str,
    table: &'static str,
    columns: &[&'static str],
    unique: Unique,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table).if_not_exists();
    for column in columns {
        index.col(*column);
    }
    if unique == Unique::Yes {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

/// A foreign key from `table.column` to `target.id` that deletes the row with its target.
pub fn cascade_fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(target, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}
