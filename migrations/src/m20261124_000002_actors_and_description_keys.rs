//! Who acted, and descriptions compared the same way on both backends.
//!
//! - `activity.actor_id`: the user who made the change. Until now the entry's owner was always
//!   the actor; the operator's commands (`patdesk user add`, …) now leave entries too, with no
//!   actor user (shown as "operator"). Existing entries get their owner as actor.
//! - `tokens.description_key`: the description as uniqueness sees it, from
//!   `common::description_key` (Unicode case folding and NFC). It replaces the index on
//!   `lower(description)`, which folded only ASCII on SQLite and so let "Déploiement" and
//!   "DÉPLOIEMENT" both exist there, though not on PostgreSQL.

use std::collections::HashSet;

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, FromQueryResult, StatementBuilder},
};

use crate::steps::{add_columns, forward_only};

#[derive(FromQueryResult)]
struct TokenRow {
    id: String,
    user_id: i64,
    description: String,
    live: bool,
}

forward_only!(|manager| {
    add_columns(manager, "activity", [big_integer_null("actor_id")]).await?;
    let db = manager.get_connection();
    db.execute_unprepared("UPDATE activity SET actor_id = user_id")
        .await?;

    add_columns(
        manager,
        "tokens",
        [text("description_key").default("").to_owned()],
    )
    .await?;
    db.execute_unprepared("DROP INDEX IF EXISTS idx_tokens_user_description")
        .await?;
    fill_description_keys(db).await?;
    // Partial index: deleted tokens free their description. Valid SQL on both backends.
    db.execute_unprepared(
        "CREATE UNIQUE INDEX IF NOT EXISTS idx_tokens_user_description_key \
         ON tokens (user_id, description_key) WHERE deleted_at IS NULL",
    )
    .await?;
    Ok(())
});

/// Computes every token's key. Two live tokens of one owner that the old index let through
/// (possible on SQLite) both stay: the later one's key gets its id appended, so it conflicts
/// with nothing while the earlier one keeps the plain key that new tokens are checked against.
async fn fill_description_keys<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let select = Query::select()
        .column("id")
        .column("user_id")
        .column("description")
        .expr_as(Expr::col("deleted_at").is_null(), "live")
        .from("tokens")
        .order_by("created_at", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned();
    let rows =
        TokenRow::find_by_statement(StatementBuilder::build(&select, &db.get_database_backend()))
            .all(db)
            .await?;
    let mut taken: HashSet<(i64, String)> = HashSet::new();
    for row in rows {
        let mut key = common::description_key(&row.description);
        if row.live && !taken.insert((row.user_id, key.clone())) {
            key = format!("{key} ({})", row.id);
        }
        let update = Query::update()
            .table("tokens")
            .value("description_key", key)
            .and_where(Expr::col("id").eq(row.id))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}
