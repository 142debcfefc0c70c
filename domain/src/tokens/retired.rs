//! Values a regeneration replaced, remembered by digest for [`RETIRED_KEPT_DAYS`] days, so that
//! a script still sending one is told "this token was regenerated on …: use the new value"
//! (401 `token_regenerated`) rather than "not valid: copied whole?" (docs/tokens.md).
//!
//! A value is retired in the transaction of the change that made it stop working for good: a
//! regeneration retires the current value (and any value an earlier rotation left, working or
//! not); a rotation retires the value an earlier rotation left (the value it replaces itself is
//! the token's `previous_digest`, which answers `token_rotated` after the overlap). Only the
//! digest is kept, as for live values. [`regenerated_at`] is read only when a value matches no
//! token, so valid tokens cost no extra query.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    sea_query::OnConflict,
};

use crate::{entity::retired_token_value, error::Result};

/// How long a replaced value answers `token_regenerated`; then it is forgotten (`purge`) and
/// answers `invalid_token` like any value that never was.
pub const RETIRED_KEPT_DAYS: i64 = 30;

/// Remembers `digests` as values of `token_id` that stopped working at `now`.
pub(crate) async fn retire(
    db: &impl ConnectionTrait,
    token_id: &str,
    digests: impl IntoIterator<Item = String>,
    now: DateTime<Utc>,
) -> Result<()> {
    let rows: Vec<_> = digests
        .into_iter()
        .map(|digest| retired_token_value::ActiveModel {
            digest: Set(digest),
            token_id: Set(token_id.to_string()),
            retired_at: Set(now),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // A digest is retired once; should it come again, the first date stands.
    retired_token_value::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(retired_token_value::Column::Digest)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The token and the time a value with this digest was replaced, within the last
/// [`RETIRED_KEPT_DAYS`] days.
pub(crate) async fn regenerated_at(
    db: &impl ConnectionTrait,
    digest: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, DateTime<Utc>)>> {
    let found = retired_token_value::Entity::find_by_id(digest.to_string())
        .filter(retired_token_value::Column::RetiredAt.gt(now - Duration::days(RETIRED_KEPT_DAYS)))
        .one(db)
        .await?;
    Ok(found.map(|row| (row.token_id, row.retired_at)))
}

/// Forgets the values retired more than [`RETIRED_KEPT_DAYS`] days ago (the housekeeping).
pub async fn purge(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64> {
    let done = retired_token_value::Entity::delete_many()
        .filter(retired_token_value::Column::RetiredAt.lte(now - Duration::days(RETIRED_KEPT_DAYS)))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}
