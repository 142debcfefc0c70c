//! Notices to users (docs/notifications.md): expiry reminders, a token used from a new IP
//! address, a new token, a revocation. Each is one row of `notifications`: listed in the app,
//! and mailed when the user has an address and wants that kind.
//!
//! - Event notices are made by the domain function that makes the change, in its transaction
//!   ([`notify`]), so that a notice exists exactly when its change does.
//! - Expiry reminders are found by [`sweep_expiry`], which every server process runs: each
//!   reminder has a `dedupe_key` (kind, token, expiry) that is unique in the table, so however
//!   many processes find it due, one row is stored.
//! - Mail goes out from that table (an outbox): [`claim_due`] gives a process the pending mails
//!   no other process holds (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite),
//!   for a lease; [`delivered`] and [`failed`] settle them. A refused or unreachable mail
//!   server means a retry with backoff; the rows survive restarts.

pub mod mail;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{LockBehavior, LockType, OnConflict},
};

use crate::{
    activity::cut_to_bytes,
    db::begin_write,
    entity::{notification, token, user},
    error::Result,
    identity::users::MailPreferences,
    teams,
    tokens::format::partial,
};

/// Reminders go out this long before a token expires …
pub const FIRST_REMINDER: Duration = Duration::days(7);
/// … and again this long before.
pub const LAST_REMINDER: Duration = Duration::days(1);
/// Tokens that expired longer ago than this get no "has expired" notice (an instance upgraded
/// to this version does not mail about every token that ever expired).
pub const EXPIRED_NOTICE_WITHIN: Duration = Duration::days(7);
/// At most one "used from a new IP address" mail per token in this time (later ones are
/// listed in the app only).
pub const NEW_IP_MAIL_EVERY: Duration = Duration::hours(1);
/// How long a process owns the mails it claimed; longer than any one delivery takes (lettre
/// gives up on a silent server after its timeout), so that two processes never hold the same
/// mail, short enough that a crashed process's mails go out soon.
pub const CLAIM_LEASE: Duration = Duration::minutes(5);
/// Delivery attempts before a mail is given up (`failed`); with the default backoff base of
/// 30 s that is more than a day of trying.
pub const MAX_ATTEMPTS: i32 = 14;
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::hours(2);

/// What a notice is about. The stored names are in `as_str`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    /// The token expires within 7 days.
    ExpiresSoon,
    /// The token expires within a day.
    ExpiresTomorrow,
    /// The token has expired.
    Expired,
    /// The token was used from an address not among its recent ones.
    NewIp,
    /// A new token was created on the account.
    TokenCreated,
    /// The token was revoked by someone other than its owner: a team or instance admin (also
    /// denying a token waiting for approval), or a leak report.
    TokenRevoked,
    /// The instance policy brought the token's expiry forward.
    ExpiryShortened,
    /// The old value of a rotation under way was reported as leaked and stopped at once.
    OldValueLeaked,
    /// The organisation's directory deactivated or deleted the account (SCIM): about the
    /// account, not a token.
    AccountDeactivated,
    /// The operator turned two-factor sign-in off for the account (`patdesk user reset-2fa`).
    TwoFactorReset,
    /// An account at an identity provider was linked to the account (single sign-on): a new
    /// way in.
    SsoLinked,
    /// Too many wrong second-factor codes were typed after the account's password
    /// (`identity::two_factor::budget`): codes are refused for a while.
    SecondFactorLocked,
    /// The account's password was changed (Account page), reset by a mailed link, or set by
    /// the operator; the other sessions ended. `detail` says how.
    PasswordChanged,
    /// A webhook of a team the user administers (or of the instance, for instance admins)
    /// failed for a day and was turned off (docs/webhooks.md). `detail`: which, and the last error.
    WebhookDisabled,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 14] = [
        NoticeKind::ExpiresSoon,
        NoticeKind::ExpiresTomorrow,
        NoticeKind::Expired,
        NoticeKind::NewIp,
        NoticeKind::TokenCreated,
        NoticeKind::TokenRevoked,
        NoticeKind::ExpiryShortened,
        NoticeKind::OldValueLeaked,
        NoticeKind::AccountDeactivated,
        NoticeKind::TwoFactorReset,
        NoticeKind::SsoLinked,
        NoticeKind::SecondFactorLocked,
        NoticeKind::PasswordChanged,
        NoticeKind::WebhookDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::ExpiresSoon => "expires_in_7_days",
            NoticeKind::ExpiresTomorrow => "expires_in_1_day",
            NoticeKind::Expired => "expired",
            NoticeKind::NewIp => "new_ip",
            NoticeKind::TokenCreated => "token_created",
            NoticeKind::TokenRevoked => "token_revoked",
            NoticeKind::ExpiryShortened => "expiry_shortened",
            NoticeKind::OldValueLeaked => "old_value_leaked",
            NoticeKind::AccountDeactivated => "account_deactivated",
            NoticeKind::TwoFactorReset => "two_factor_reset",
            NoticeKind::SsoLinked => "sso_linked",
            NoticeKind::SecondFactorLocked => "second_factor_locked",
            NoticeKind::PasswordChanged => "password_changed",
            NoticeKind::WebhookDisabled => "webhook_disabled",
        }
    }

    pub fn parse(name: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether the user wants this kind mailed. Revocations and policy changes are always
    /// mailed: a token that stopped working is never news to keep from its owner.
    pub fn mailed_to(self, wants: MailPreferences) -> bool {
        match self {
            NoticeKind::ExpiresSoon | NoticeKind::ExpiresTomorrow | NoticeKind::Expired => {
                wants.expiry
            }
            NoticeKind::NewIp => wants.new_ip,
            NoticeKind::TokenCreated => wants.new_token,
            NoticeKind::TokenRevoked
            | NoticeKind::ExpiryShortened
            | NoticeKind::OldValueLeaked
            | NoticeKind::AccountDeactivated
            | NoticeKind::TwoFactorReset
            | NoticeKind::SsoLinked
            | NoticeKind::SecondFactorLocked
            | NoticeKind::PasswordChanged
            | NoticeKind::WebhookDisabled => true,
        }
    }

    /// The notice in one line (the app's list, the mail's subject).
    pub fn headline(self, description: &str) -> String {
        match self {
            NoticeKind::ExpiresSoon => {
                format!("Your token \"{description}\" expires within 7 days")
            }
            NoticeKind::ExpiresTomorrow => {
                format!("Your token \"{description}\" expires within a day")
            }
            NoticeKind::Expired => format!("Your token \"{description}\" has expired"),
            NoticeKind::NewIp => {
                format!("Your token \"{description}\" was used from a new IP address")
            }
            NoticeKind::TokenCreated => {
                format!("A new token \"{description}\" was created on your account")
            }
            NoticeKind::TokenRevoked => format!("Your token \"{description}\" was revoked"),
            NoticeKind::ExpiryShortened => {
                format!("The instance policy shortened your token \"{description}\"")
            }
            NoticeKind::OldValueLeaked => {
                format!("The old value of your token \"{description}\" was reported as leaked")
            }
            NoticeKind::AccountDeactivated => {
                "Your organisation's directory deactivated your patdesk account".to_string()
            }
            NoticeKind::TwoFactorReset => {
                "Two-factor sign-in was turned off on your patdesk account".to_string()
            }
            NoticeKind::SsoLinked => {
                "Single sign-on was linked to your patdesk account".to_string()
            }
            NoticeKind::SecondFactorLocked => {
                "Too many wrong two-factor codes were entered for your patdesk account".to_string()
            }
            NoticeKind::PasswordChanged => {
                "The password of your patdesk account was changed".to_string()
            }
            NoticeKind::WebhookDisabled => {
                "A webhook was turned off after a day of failures".to_string()
            }
        }
    }

    /// What happened and what to do, in a sentence or two, from the notice's `detail`.
    pub fn explanation(self, detail: &str) -> String {
        match self {
            NoticeKind::ExpiresSoon => format!(
                "It expires on {detail}. Regenerate it before then to keep the scripts that use it working."
            ),
            NoticeKind::ExpiresTomorrow => format!(
                "It expires on {detail}, in less than a day. Regenerate it now to keep the scripts that use it working."
            ),
            NoticeKind::Expired => format!(
                "It expired on {detail} and calls with it are refused. Regenerate it to get a new value with the same settings."
            ),
            NoticeKind::NewIp => format!(
                "It was used from {detail}, an address it had not been used from recently. If that was not you or your scripts, delete the token now."
            ),
            NoticeKind::TokenCreated => {
                "If you did not create it, delete it and change your password.".to_string()
            }
            NoticeKind::TokenRevoked => {
                format!("{detail} It no longer works; create a new token if you still need one.")
            }
            NoticeKind::ExpiryShortened => format!(
                "The instance's token policy now allows shorter lifetimes: it expires on {detail}."
            ),
            NoticeKind::OldValueLeaked => format!(
                "{detail} It stopped working at once, before the end of the rotation's overlap; the new value still works. Move anything still using the old value to the new one."
            ),
            NoticeKind::AccountDeactivated => {
                "Your sessions ended and every token of yours is refused from now on. If this is a mistake, ask your organisation's administrators: reactivating the account in the directory makes the tokens work again.".to_string()
            }
            NoticeKind::SsoLinked => format!(
                "An account at {detail} can now sign you in to patdesk. If that was not you, unlink it on your Account page and change your password now."
            ),
            NoticeKind::SecondFactorLocked => format!(
                "{detail} wrong codes were entered after your password, so codes are refused for a while (longer after each further wrong code). If that was not you, someone knows your password: change it now."
            ),
            NoticeKind::PasswordChanged => format!(
                "{detail} Every other session of your account was signed out; your tokens keep working. If this was not you, reset your password now from the sign-in page (\"Forgot password?\") and check your tokens and sessions."
            ),
            NoticeKind::WebhookDisabled => format!(
                "Every delivery to {detail} failed for a day, so patdesk stopped sending to it and set its waiting events aside. Fix the receiver, then press Redeliver on a delivery to turn it back on."
            ),
            NoticeKind::TwoFactorReset => {
                "The operator removed your authenticator app and recovery codes, as asked when every second factor is lost. Your password alone signs you in until you set up two-factor sign-in again on your Account page. If you did not ask for this, tell your administrators and change your password now.".to_string()
            }
        }
    }

    /// The reminder due for a token expiring at `expires_at`, seen at `now`.
    fn reminder(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<NoticeKind> {
        let left = expires_at - now;
        if left <= Duration::zero() {
            (left > -EXPIRED_NOTICE_WITHIN).then_some(NoticeKind::Expired)
        } else if left <= LAST_REMINDER {
            Some(NoticeKind::ExpiresTomorrow)
        } else if left <= FIRST_REMINDER {
            Some(NoticeKind::ExpiresSoon)
        } else {
            None
        }
    }
}

/// The token a notice names, as it is when the notice is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRef {
    pub id: String,
    pub description: String,
    pub hint: String,
    pub team: String,
}

impl TokenRef {
    pub fn of(token: &token::Model, team: impl Into<String>) -> Self {
        TokenRef {
            id: token.id.clone(),
            description: token.description.clone(),
            hint: token.hint.clone(),
            team: team.into(),
        }
    }
}

/// A notice to store.
#[derive(Clone, Debug)]
pub struct Notice {
    pub kind: NoticeKind,
    pub user_id: i64,
    /// The token it is about; `None` for a notice about the account.
    pub token: Option<TokenRef>,
    pub detail: Option<String>,
    /// Set for notices that must exist once.
    pub dedupe_key: Option<String>,
}

impl Notice {
    pub fn new(kind: NoticeKind, user_id: i64, token: TokenRef) -> Self {
        Notice {
            kind,
            user_id,
            token: Some(token),
            detail: None,
            dedupe_key: None,
        }
    }

    /// A notice about the account itself.
    pub fn about_account(kind: NoticeKind, user_id: i64) -> Self {
        Notice {
            kind,
            user_id,
            token: None,
            detail: None,
            dedupe_key: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Stores a notice for `notice.user_id` (in the caller's transaction), to be mailed when they
/// have an address and want the kind. A suspended account gets none; a notice whose
/// `dedupe_key` is stored already is not stored again. Returns whether it was stored.
pub async fn notify(db: &impl ConnectionTrait, notice: Notice, at: DateTime<Utc>) -> Result<bool> {
    let Some(owner) = user::Entity::find_by_id(notice.user_id)
        .filter(user::Column::IsActive.eq(true))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let mut mailed = owner.email.is_some() && notice.kind.mailed_to(MailPreferences::from(&owner));
    if let (true, NoticeKind::NewIp, Some(token)) = (mailed, notice.kind, &notice.token) {
        mailed = !new_ip_mailed_since(db, &token.id, at - NEW_IP_MAIL_EVERY).await?;
    }
    let token = notice.token;
    let row = notification::ActiveModel {
        user_id: Set(notice.user_id),
        kind: Set(notice.kind.as_str().to_string()),
        token_id: Set(token.as_ref().map(|t| t.id.clone())),
        token_description: Set(token.as_ref().map(|t| t.description.clone())),
        token_hint: Set(token.as_ref().map(|t| t.hint.clone())),
        token_team: Set(token.map(|t| t.team)),
        detail: Set(notice.detail.map(|d| cut_to_bytes(d, 1000))),
        dedupe_key: Set(notice.dedupe_key),
        created_at: Set(at),
        read_at: Set(None),
        mail_state: Set(if mailed { MAIL_PENDING } else { MAIL_NONE }.to_string()),
        mail_attempts: Set(0),
        mail_next_at: Set(mailed.then_some(at)),
        mail_claimed_until: Set(None),
        mail_sent_at: Set(None),
        mail_error: Set(None),
        ..Default::default()
    };
    let stored = notification::Entity::insert(row)
        .on_conflict(
            OnConflict::column(notification::Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(stored > 0)
}

async fn new_ip_mailed_since(
    db: &impl ConnectionTrait,
    token_id: &str,
    since: DateTime<Utc>,
) -> Result<bool> {
    Ok(notification::Entity::find()
        .filter(notification::Column::TokenId.eq(token_id))
        .filter(notification::Column::Kind.eq(NoticeKind::NewIp.as_str()))
        .filter(notification::Column::MailState.ne(MAIL_NONE))
        .filter(notification::Column::CreatedAt.gt(since))
        .count(db)
        .await?
        > 0)
}

const MAIL_NONE: &str = "none";
const MAIL_PENDING: &str = "pending";
const MAIL_SENT: &str = "sent";
const MAIL_FAILED: &str = "failed";
/// Pending mails dropped because the server has no mail server configured.
const MAIL_SKIPPED: &str = "skipped";

/// Stores the expiry reminders due at `now` that are not stored yet: 7 days and 1 day before
/// a token expires, and once it has (for a week after). Deleted tokens, tokens that never
/// expire and those whose expiry warns of nothing (`tokens::expiry::expiry_warns`: the explorer's,
/// and tokens living 7 days or less) get none. Each reminder is keyed by kind, token and expiry, so it is
/// stored once whichever process finds it first, and a regenerated token (new expiry) is
/// reminded again. Returns how many were stored.
pub async fn sweep_expiry(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<usize> {
    let due = token::Entity::find()
        .filter(token::Column::DeletedAt.is_null())
        .filter(token::Column::Kind.ne(common::TokenKind::Explorer.as_str()))
        .filter(token::Column::ExpiresAt.lte(now + FIRST_REMINDER))
        .filter(token::Column::ExpiresAt.gt(now - EXPIRED_NOTICE_WITHIN))
        .order_by_asc(token::Column::ExpiresAt)
        .all(db)
        .await?;
    let reminders: Vec<(token::Model, NoticeKind, String)> = due
        .into_iter()
        .filter_map(|t| {
            let expires_at = t.expires_at?;
            // Short-lived tokens end by design: the token page's banner leaves them out too.
            let kind = crate::db::stored("tokens.kind", &t.kind, common::TokenKind::parse).ok()?;
            let issued_at = t.regenerated_at.unwrap_or(t.created_at);
            if !crate::tokens::expiry::expiry_warns(kind, issued_at, Some(expires_at)) {
                return None;
            }
            let kind = NoticeKind::reminder(expires_at, now)?;
            let key = format!("{}:{}:{}", kind.as_str(), t.id, expires_at.timestamp());
            Some((t, kind, key))
        })
        .collect();
    if reminders.is_empty() {
        return Ok(0);
    }
    // Most are stored already (found by an earlier sweep): leave those out in one query.
    let mut stored_keys = std::collections::HashSet::new();
    for chunk in reminders.chunks(500) {
        let keys = chunk.iter().map(|(_, _, key)| key.clone());
        stored_keys.extend(
            notification::Entity::find()
                .select_only()
                .column(notification::Column::DedupeKey)
                .filter(notification::Column::DedupeKey.is_in(keys))
                .into_tuple::<Option<String>>()
                .all(db)
                .await?
                .into_iter()
                .flatten(),
        );
    }
    let teams = teams::slugs_by_id(db, reminders.iter().map(|(t, _, _)| t.team_id)).await?;
    let mut stored = 0;
    for (t, kind, key) in reminders {
        if stored_keys.contains(&key) {
            continue;
        }
        let team = teams.get(&t.team_id).cloned().unwrap_or_default();
        let expires = t.expires_at.map(crate::time::minute).unwrap_or_default();
        let mut notice = Notice::new(kind, t.user_id, TokenRef::of(&t, team)).detail(expires);
        notice.dedupe_key = Some(key);
        // The reminder and its webhook event together: stored once, by whichever process
        // stores the reminder.
        let txn = crate::db::begin_write(db).await?;
        if notify(&txn, notice, now).await? {
            let days_left = match kind {
                NoticeKind::ExpiresSoon => Some(7),
                NoticeKind::ExpiresTomorrow => Some(1),
                _ => None,
            };
            crate::webhooks::events::of_expiry(&txn, &t, days_left, now).await?;
            stored += 1;
        }
        txn.commit().await?;
    }
    Ok(stored)
}

/// A notice as its user sees it in the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    pub id: i64,
    pub kind: String,
    pub headline: String,
    pub explanation: String,
    pub token_id: Option<String>,
    /// `pdk_…a1b2`
    pub token_partial: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

impl From<notification::Model> for Shown {
    fn from(n: notification::Model) -> Self {
        let kind = crate::db::known("notifications.kind", &n.kind, NoticeKind::parse);
        let description = n.token_description.clone().unwrap_or_default();
        let detail = n.detail.clone().unwrap_or_default();
        Shown {
            headline: kind.map_or_else(|| n.kind.clone(), |k| k.headline(&description)),
            explanation: kind.map(|k| k.explanation(&detail)).unwrap_or_default(),
            token_partial: n.token_hint.as_deref().map(partial),
            id: n.id,
            kind: n.kind,
            token_id: n.token_id,
            created_at: n.created_at,
            read: n.read_at.is_some(),
        }
    }
}

/// The user's most recent `limit` notices, newest first, and how many are unread in all.
pub async fn list_for_user(
    db: &DatabaseConnection,
    user_id: i64,
    limit: u64,
) -> Result<(Vec<Shown>, u64)> {
    let notices = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_desc(notification::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let unread = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?;
    Ok((notices.into_iter().map(Shown::from).collect(), unread))
}

/// Marks one of the user's notices read, or all of them (`None`). Another user's notice is
/// left alone (and counted as nothing). Returns how many were marked.
pub async fn mark_read(db: &DatabaseConnection, user_id: i64, id: Option<i64>) -> Result<u64> {
    let mut update = notification::Entity::update_many()
        .col_expr(
            notification::Column::ReadAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null());
    if let Some(id) = id {
        update = update.filter(notification::Column::Id.eq(id));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// A mail this process has claimed and must now send, then settle with [`delivered`] or
/// [`failed`].
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub notice: notification::Model,
    pub username: String,
    /// The address as it is now (not when the notice was made).
    pub to: String,
}

/// Claims up to `limit` pending mails that are due and that no other process holds, for
/// [`CLAIM_LEASE`]. Mails whose user has since removed their address, or turned the kind off,
/// are settled as not mailed instead.
pub async fn claim_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Outgoing>> {
    let txn = begin_write(db).await?;
    let due = notification::Entity::find()
        .filter(notification::Column::MailState.eq(MAIL_PENDING))
        .filter(notification::Column::MailNextAt.lte(now))
        .filter(
            Condition::any()
                .add(notification::Column::MailClaimedUntil.is_null())
                .add(notification::Column::MailClaimedUntil.lt(now)),
        )
        .order_by_asc(notification::Column::Id)
        .limit(limit)
        // PostgreSQL: rows another process is claiming right now are passed over, not waited
        // for. (SQLite has one writer at a time: `begin_write` already serialises claims.)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = due.iter().map(|n| n.id).collect();
    notification::Entity::update_many()
        .col_expr(
            notification::Column::MailClaimedUntil,
            sea_orm::sea_query::Expr::value(now + CLAIM_LEASE),
        )
        .filter(notification::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    let owners: std::collections::HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(due.iter().map(|n| n.user_id)))
        .all(&txn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut outgoing = Vec::with_capacity(due.len());
    let mut dropped = Vec::new();
    for notice in due {
        let owner = owners.get(&notice.user_id);
        let wanted = owner.is_some_and(|o| {
            o.is_active
                && crate::db::known("notifications.kind", &notice.kind, NoticeKind::parse)
                    .is_some_and(|k| k.mailed_to(MailPreferences::from(o)))
        });
        match owner.and_then(|o| o.email.clone()) {
            Some(to) if wanted => outgoing.push(Outgoing {
                username: owner.map(|o| o.username.clone()).unwrap_or_default(),
                to,
                notice,
            }),
            _ => dropped.push(notice.id),
        }
    }
    if !dropped.is_empty() {
        notification::Entity::update_many()
            .col_expr(
                notification::Column::MailState,
                sea_orm::sea_query::Expr::value(MAIL_NONE),
            )
            .filter(notification::Column::Id.is_in(dropped))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(outgoing)
}

/// The mail of notice `id` was accepted by the mail server.
pub async fn delivered(db: &DatabaseConnection, id: i64) -> Result<()> {
    let now = Utc::now();
    notification::ActiveModel {
        id: Set(id),
        mail_state: Set(MAIL_SENT.into()),
        mail_sent_at: Set(Some(now)),
        mail_claimed_until: Set(None),
        mail_error: Set(None),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Sending the mail of `outgoing` failed with `error`: it is tried again after a backoff
/// (`retry_base` doubled per attempt, at most [`MAX_BACKOFF`]), and given up after
/// [`MAX_ATTEMPTS`]. Returns whether it will be retried.
pub async fn failed(
    db: &DatabaseConnection,
    outgoing: &Outgoing,
    error: &str,
    retry_base: Duration,
) -> Result<bool> {
    let attempts = outgoing.notice.mail_attempts.saturating_add(1);
    let retry = attempts < MAX_ATTEMPTS;
    let backoff = retry_base
        .checked_mul(1 << attempts.clamp(1, 20).saturating_sub(1))
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF);
    notification::ActiveModel {
        id: Set(outgoing.notice.id),
        mail_state: Set(if retry { MAIL_PENDING } else { MAIL_FAILED }.into()),
        mail_attempts: Set(attempts),
        mail_next_at: Set(Some(Utc::now() + backoff)),
        mail_claimed_until: Set(None),
        mail_error: Set(Some(cut_to_bytes(error.to_string(), 400))),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(retry)
}

/// With no mail server configured, pending mails are settled as skipped (they stay in the
/// app): configuring one later does not send a backlog of old news. Returns how many.
pub async fn skip_pending_mail(db: &DatabaseConnection) -> Result<u64> {
    Ok(notification::Entity::update_many()
        .col_expr(
            notification::Column::MailState,
            sea_orm::sea_query::Expr::value(MAIL_SKIPPED),
        )
        .filter(notification::Column::MailState.eq(MAIL_PENDING))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_distinct_names_that_parse_back() {
        for kind in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(kind.as_str()), Some(kind));
        }
        let mut names: Vec<&str> = NoticeKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), NoticeKind::ALL.len());
    }

    #[test]
    fn the_reminder_due_depends_on_the_time_left() {
        let now = Utc::now();
        let due = |left: Duration| NoticeKind::reminder(now + left, now);
        assert_eq!(due(Duration::days(30)), None);
        assert_eq!(due(Duration::days(7) + Duration::seconds(1)), None);
        assert_eq!(due(Duration::days(7)), Some(NoticeKind::ExpiresSoon));
        assert_eq!(due(Duration::hours(25)), Some(NoticeKind::ExpiresSoon));
        assert_eq!(due(Duration::hours(24)), Some(NoticeKind::ExpiresTomorrow));
        assert_eq!(due(Duration::minutes(1)), Some(NoticeKind::ExpiresTomorrow));
        assert_eq!(due(Duration::zero()), Some(NoticeKind::Expired));
        assert_eq!(due(-Duration::days(6)), Some(NoticeKind::Expired));
        assert_eq!(due(-Duration::days(8)), None);
    }

    #[test]
    fn only_optional_kinds_follow_the_preferences() {
        let none = MailPreferences {
            expiry: false,
            new_ip: false,
            new_token: false,
        };
        let mailed: Vec<NoticeKind> = NoticeKind::ALL
            .into_iter()
            .filter(|k| k.mailed_to(none))
            .collect();
        assert_eq!(
            mailed,
            [
                NoticeKind::TokenRevoked,
                NoticeKind::ExpiryShortened,
                NoticeKind::OldValueLeaked,
                NoticeKind::AccountDeactivated,
                NoticeKind::TwoFactorReset,
                NoticeKind::SsoLinked,
                NoticeKind::SecondFactorLocked,
                NoticeKind::PasswordChanged,
                NoticeKind::WebhookDisabled,
            ]
        );
        assert!(
            NoticeKind::ALL
                .into_iter()
                .all(|k| k.mailed_to(MailPreferences::default()))
        );
    }
}
