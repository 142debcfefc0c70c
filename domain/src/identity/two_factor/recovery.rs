//! Recovery codes: ten one-time codes shown once when an authenticator app is confirmed (or
//! when they are regenerated), for the day the phone is lost. Each is 40 random bits written
//! `xxxxx-xxxxx` in hex; the database keeps SHA-256 digests only. A code is accepted with or
//! without its dash, in either case, and only once; new codes replace every old one.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    sea_query::Expr,
};

use crate::{
    entity::recovery_code,
    error::{Error, Result},
    secret::{digest_hex, hex, random_bytes},
};

/// How many codes an account gets at a time.
pub const COUNT: usize = 10;

/// A code as people type it, reduced to what is compared: lower-case hex without the dash.
fn normalized(code: &str) -> Option<String> {
    let kept: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (kept.len() == 10 && kept.bytes().all(|b| b.is_ascii_hexdigit())).then_some(kept)
}

fn new_code() -> String {
    let digits = hex(&random_bytes::<5>());
    format!("{}-{}", &digits[..5], &digits[5..])
}

/// Replaces the account's recovery codes with [`COUNT`] new ones (in the caller's
/// transaction) and returns them: the only time they exist outside the person's hands.
pub(super) async fn replace(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<String>> {
    remove_all(db, user_id).await?;
    let now = Utc::now();
    let codes: Vec<String> = (0..COUNT).map(|_| new_code()).collect();
    for code in &codes {
        let Some(plain) = normalized(code) else {
            return Err(Error::Internal("a recovery code of the wrong shape".into()));
        };
        recovery_code::ActiveModel {
            user_id: Set(user_id),
            code_digest: Set(digest_hex(&plain)),
            created_at: Set(now),
            used_at: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(codes)
}

/// Uses up `code` if it is one of the account's unused codes (a conditional update: two
/// requests with one code cannot both pass). Returns whether it was.
pub(super) async fn consume(db: &impl ConnectionTrait, user_id: i64, code: &str) -> Result<bool> {
    let Some(plain) = normalized(code) else {
        return Ok(false);
    };
    let used = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(Utc::now()))
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::CodeDigest.eq(digest_hex(&plain)))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(used.rows_affected == 1)
}

/// How many of the account's codes are still unused.
pub async fn left(db: &impl ConnectionTrait, user_id: i64) -> Result<u64> {
    Ok(recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .count(db)
        .await?)
}

/// Removes every code of the account. Returns whether it had any.
pub(super) async fn remove_all(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_people_type_them() {
        let code = new_code();
        assert_eq!(code.len(), 11);
        assert_eq!(code.as_bytes()[5], b'-');
        let plain = normalized(&code).unwrap();
        assert_eq!(normalized(&code.to_uppercase()), Some(plain.clone()));
        assert_eq!(normalized(&code.replace('-', " ")), Some(plain));
        assert_eq!(normalized("12345"), None);
        assert_eq!(normalized("zzzzz-zzzzz"), None);
    }
}
