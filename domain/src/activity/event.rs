//! What an activity entry records: who acted (`Actor`, `Origin`), what happened (`Kind`, with
//! its stored name and words), and the `Event` to record. Plain values, no database: what the
//! log and the webhooks' events (`webhooks::events`) both read.

use std::net::IpAddr;

/// Who is asking: a signed-in user (subject to team roles), the operator at the command line,
/// or an organisation's directory through SCIM (docs/scim.md; it acts on accounts only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    User(i64),
    Operator,
    Directory,
}

impl Actor {
    /// What `activity.actor_kind` stores for an actor that is not a user.
    pub(crate) fn stored_kind(self) -> Option<&'static str> {
        match self {
            Actor::User(_) => None,
            Actor::Operator => Some("operator"),
            Actor::Directory => Some("directory"),
        }
    }

    pub fn user_id(self) -> Option<i64> {
        match self {
            Actor::User(id) => Some(id),
            Actor::Operator | Actor::Directory => None,
        }
    }

    /// Whose log a change by this actor to `subject`'s account or membership goes in: the
    /// acting user's own, or the subject's when the operator acted (the operator has no log).
    pub fn log_owner(self, subject: i64) -> i64 {
        self.user_id().unwrap_or(subject)
    }
}

/// Who made a change and from which address: what an activity entry records of its origin.
/// `Who` is an [`Actor`], or (`Origin<i64>`) the id of a user acting on their own things.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin<Who = Actor> {
    pub who: Who,
    /// The client's address; `None` at the command line.
    pub ip: Option<IpAddr>,
}

impl<Who> Origin<Who> {
    pub fn new(who: Who, ip: Option<IpAddr>) -> Self {
        Origin { who, ip }
    }
}

impl Origin {
    /// The operator at the command line (no address).
    pub const OPERATOR: Origin = Origin {
        who: Actor::Operator,
        ip: None,
    };
}

impl From<Origin<i64>> for Origin {
    fn from(own: Origin<i64>) -> Self {
        Origin::new(Actor::User(own.who), own.ip)
    }
}

/// How the log shows the operator as an actor.
pub const OPERATOR: &str = "operator";
/// How the log shows the (anonymous) reporter of a leaked token.
pub const LEAK_REPORT: &str = "leak report";
/// How the log shows whoever revoked a token by presenting its value (`POST /oauth/revoke`).
pub const TOKEN_HOLDER: &str = "token holder";
/// How the log shows a CI job exchanging its identity token (`POST /oauth/token`).
pub const IDENTITY_PROVIDER: &str = "identity token exchange";
/// How the log shows an organisation's directory acting through SCIM.
pub const DIRECTORY: &str = "SCIM";

/// Declares [`Kind`] with each kind's stored name and its words on the Activity page: one
/// table, so that a new kind cannot be stored without words or shown without a name.
macro_rules! kinds {
    ($($(#[$doc:meta])* $kind:ident => $name:literal, $words:literal;)*) => {
        /// What kind of event an entry records.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Kind {
            $($(#[$doc])* $kind,)*
        }

        impl Kind {
            pub const ALL: &[Kind] = &[$(Kind::$kind,)*];

            /// The name stored in the `kind` column.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$kind => $name,)*
                }
            }

            /// The entry in words, for people.
            pub fn words(self) -> &'static str {
                match self {
                    $(Kind::$kind => $words,)*
                }
            }
        }
    };
}

kinds! {
    SignUp => "sign_up", "Signed up";
    /// An account made by the operator (`patdesk user add`).
    UserCreated => "user_created", "Account created";
    SignIn => "sign_in", "Signed in";
    SignInFailed => "sign_in_failed", "Failed sign-in attempt";
    SignOut => "sign_out", "Signed out";
    /// The password was changed on the Account page, reset by a mailed link, or set by the
    /// operator (`patdesk user reset-password`); the target says which.
    PasswordChanged => "password_changed", "Password changed";
    /// A password reset link was asked for (target: mailed, or not: single sign-on only).
    PasswordResetRequested => "password_reset_requested", "Password reset link requested";
    /// Another session of the account was ended from the Account page.
    SessionEnded => "session_ended", "Signed out another session";
    /// An account made by its first single sign-on (in its own log).
    SsoSignUp => "sso_sign_up", "Account created by single sign-on";
    SsoSignIn => "sso_sign_in", "Signed in with single sign-on";
    /// A password account linked to a subject at the identity provider.
    SsoLinked => "sso_linked", "Linked single sign-on to this account";
    /// The person removed a link to the identity provider from their Account page.
    SsoUnlinked => "sso_unlinked", "Unlinked single sign-on from this account";
    /// An instance admin required single sign-on, or stopped requiring it (in the admin's log).
    SsoRequirementChanged => "sso_requirement_changed", "Changed whether single sign-on is required";
    /// An instance admin mapped an identity provider's group to a team, or removed a mapping.
    SsoGroupsChanged => "sso_groups_changed", "Changed which provider groups map to teams";
    TeamCreated => "team_created", "Created a team";
    MemberAdded => "member_added", "Added a team member";
    MemberRoleChanged => "member_role_changed", "Changed a member's role";
    MemberRemoved => "member_removed", "Removed a team member";
    TokenCreated => "token_created", "Created a token";
    TokenRegenerated => "token_regenerated", "Regenerated a token";
    TokenDeleted => "token_deleted", "Deleted a token";
    TokenRotated => "token_rotated", "Rotated a token (the old value works for a while)";
    TokenOverlapEnded => "token_overlap_ended", "Ended a rotated token's old value";
    TokenAllowedIpsChanged => "token_allowed_ips_changed", "Changed where a token may be used from";
    TokenRateLimitChanged => "token_rate_limit_changed", "Changed how often a token may be used";
    TokenDescriptionChanged => "token_description_changed", "Changed a token's description";
    /// The owner changed what a token may do: its permissions, or whole-team access.
    TokenAccessChanged => "token_access_changed", "Changed a token's access";
    OldValueReportedLeaked => "old_value_reported_leaked", "Your rotated token's old value was reported as leaked and stopped";
    /// A team admin revoked someone's token (the entry is in the owner's log; the admin is the actor).
    TokenRevokedByAdmin => "token_revoked_by_admin", "An admin revoked your token";
    /// Someone reported the token's value as leaked and it was revoked (in the owner's log; no
    /// actor, the reporter's address as IP).
    TokenReportedLeaked => "token_reported_leaked", "Your token was reported as leaked and revoked";
    /// A team admin approved a write token that was waiting (in the owner's log).
    TokenApproved => "token_approved", "A team admin approved your token";
    /// A team admin denied a write token that was waiting; it is deleted (in the owner's log).
    TokenDenied => "token_denied", "A team admin denied your token";
    /// An instance admin changed the instance's token policy (in the admin's log).
    InstancePolicyChanged => "instance_policy_changed", "Changed the instance's token policy";
    /// A tighter instance policy brought a token's expiry forward (in the owner's log).
    TokenExpiryShortened => "token_expiry_shortened", "The instance policy shortened your token's lifetime";
    /// An instance admin suspended the account (in its own log).
    UserSuspended => "user_suspended", "An instance admin suspended your account";
    /// An instance admin reactivated the account (in its own log).
    UserReactivated => "user_reactivated", "An instance admin reactivated your account";
    /// The organisation's directory made the account through SCIM (in its own log).
    ScimProvisioned => "scim_provisioned", "Account created by your organisation's directory (SCIM)";
    /// The directory changed the account's name, email address or external id.
    ScimUpdated => "scim_updated", "Your organisation's directory (SCIM) changed your account";
    /// The directory deactivated the account: suspended, sessions ended, tokens refused.
    ScimDeactivated => "scim_deactivated", "Your organisation's directory (SCIM) deactivated your account";
    /// The directory reactivated the account.
    ScimReactivated => "scim_reactivated", "Your organisation's directory (SCIM) reactivated your account";
    /// The directory deleted the account: it stays suspended, with its tokens and history.
    ScimDeleted => "scim_deleted", "Your organisation's directory (SCIM) deleted your account";
    /// An instance admin created a SCIM credential (in the admin's log).
    ScimCredentialCreated => "scim_credential_created", "Created a SCIM credential";
    /// An instance admin revoked a SCIM credential.
    ScimCredentialDeleted => "scim_credential_deleted", "Revoked a SCIM credential";
    /// A team admin changed the team's token policy (approval of write tokens).
    TeamPolicyChanged => "team_policy_changed", "Changed a team's token policy";
    /// A write made through the API with a token.
    ApiWrite => "api_write", "Changed team content through the API";
    TokenUsedFromNewIp => "token_used_from_new_ip", "Token used from a new IP";
    /// The user changed their email address or what they want mailed.
    AccountUpdated => "account_updated", "Changed account settings";
    /// A team admin created a service credential (docs/forward-auth.md).
    ServiceCreated => "service_created", "Created a service credential";
    /// A team admin revoked a service credential.
    ServiceDeleted => "service_deleted", "Revoked a service credential";
    /// A team admin changed the scopes a service defines (docs/permissions.md).
    ServiceScopesChanged => "service_scopes_changed", "Changed a service's scopes";
    /// A team admin created a service account (docs/service-accounts.md; in the admin's log).
    ServiceAccountCreated => "service_account_created", "Created a service account";
    /// A team admin deleted a service account: its tokens stopped.
    ServiceAccountDeleted => "service_account_deleted", "Deleted a service account";
    /// A team admin added a trust policy to a service account.
    TrustPolicyAdded => "trust_policy_added", "Added a trust policy to a service account";
    TrustPolicyRemoved => "trust_policy_removed", "Removed a service account's trust policy";
    /// A CI job's identity token was exchanged for a short-lived token (in the account's log).
    TokenExchanged => "token_exchanged", "Exchanged an identity token for a short-lived token";
    /// Someone holding the token's value revoked it (`POST /oauth/revoke`; in the owner's log).
    TokenRevokedByHolder => "token_revoked_by_holder", "The token was revoked with its own value";
    /// An admin added a webhook endpoint (docs/webhooks.md; in the admin's log).
    WebhookCreated => "webhook_created", "Added a webhook";
    WebhookDeleted => "webhook_deleted", "Removed a webhook";
    /// A new signing secret; the old one signs beside it for a day.
    WebhookSecretRotated => "webhook_secret_rotated", "Rotated a webhook's signing secret";
    /// A delivery sent again (and its endpoint turned back on, if it was off).
    WebhookRedelivered => "webhook_redelivered", "Sent a webhook delivery again";
    /// The token's first use through a reverse proxy in front of a given service (its host).
    TokenUsedViaProxy => "token_used_via_proxy", "Token used through a protected service";
    /// An authenticator app confirmed: two-factor sign-in is on (docs/two-factor.md).
    TwoFactorEnabled => "two_factor_enabled", "Turned on two-factor sign-in";
    TwoFactorDisabled => "two_factor_disabled", "Turned off two-factor sign-in";
    RecoveryCodesRegenerated => "recovery_codes_regenerated", "Made new recovery codes (the old ones stopped working)";
    /// The operator removed every second factor (`patdesk user reset-2fa`; in the person's log).
    TwoFactorReset => "two_factor_reset", "Two-factor sign-in was reset by the operator";
    /// An instance admin required two-factor sign-in, or stopped requiring it.
    TwoFactorRequirementChanged => "two_factor_requirement_changed", "Changed whether two-factor sign-in is required";
    /// An instance admin changed who may sign up: open, closed or single sign-on only.
    SignUpsChanged => "sign_ups_changed", "Changed who may sign up";
    /// An instance admin let a SCIM directory change instance admins, or kept them out of its reach.
    ScimAdminReachChanged => "scim_admin_reach_changed", "Changed whether SCIM may change instance admins";
    PasskeyAdded => "passkey_added", "Added a passkey";
    PasskeyRemoved => "passkey_removed", "Removed a passkey";
    /// The person confirmed who they are for a sensitive action (sudo mode).
    IdentityConfirmed => "identity_confirmed", "Confirmed it was you before a sensitive action";
}

impl Kind {
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|kind| kind.as_str() == name)
    }

    /// Who the log names for an entry with no acting user that the directory did not make: the
    /// leak reporter, or the operator.
    pub(crate) fn anonymous_actor(self) -> &'static str {
        match self {
            Kind::TokenReportedLeaked | Kind::OldValueReportedLeaked => LEAK_REPORT,
            Kind::TokenRevokedByHolder => TOKEN_HOLDER,
            Kind::TokenExchanged => IDENTITY_PROVIDER,
            _ => OPERATOR,
        }
    }
}

/// One event to record.
#[derive(Clone, Debug)]
pub struct Event {
    /// Whose log it goes in; none for a failed sign-in under an unknown name.
    pub owner: Option<i64>,
    pub actor: Actor,
    pub kind: Kind,
    pub token_id: Option<String>,
    pub ip: Option<String>,
    pub target: Option<String>,
    /// For a membership change: the team and the member (whose log it may not be in). Not
    /// stored with the entry; it says which team's webhooks hear of it (`webhooks::events`).
    pub membership: Option<(i64, i64)>,
}

impl Event {
    pub fn new(owner: Option<i64>, actor: Actor, kind: Kind) -> Self {
        Event {
            owner,
            actor,
            kind,
            token_id: None,
            ip: None,
            target: None,
            membership: None,
        }
    }

    /// Something `user_id` did to their own things.
    pub fn own(user_id: i64, kind: Kind) -> Self {
        Event::new(Some(user_id), Actor::User(user_id), kind)
    }

    /// An entry in `owner`'s log of what `by` did.
    pub fn by(by: impl Into<Origin>, owner: Option<i64>, kind: Kind) -> Self {
        let by = by.into();
        Event::new(owner, by.who, kind).ip(by.ip)
    }

    /// Something a user did to their own things, from `own.ip`.
    pub fn own_by(own: Origin<i64>, kind: Kind) -> Self {
        Event::own(own.who, kind).ip(own.ip)
    }

    pub fn ip(mut self, ip: Option<IpAddr>) -> Self {
        self.ip = ip.map(|ip| ip.to_string());
        self
    }

    /// [`Event::ip`] for an address already kept as text (the usage buffer's).
    pub fn ip_text(mut self, ip: Option<String>) -> Self {
        self.ip = ip;
        self
    }

    pub fn token(mut self, token_id: impl Into<String>) -> Self {
        self.token_id = Some(token_id.into());
        self
    }

    /// What was acted on, in words (cut to the column's 200 bytes).
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(cut_to_bytes(target.into(), 200));
        self
    }

    /// A change to `user_id`'s membership of `team_id`.
    pub fn membership(mut self, team_id: i64, user_id: i64) -> Self {
        self.membership = Some((team_id, user_id));
        self
    }
}

/// `text` cut to at most `max` bytes, at a character boundary (for bounded columns).
pub(crate) fn cut_to_bytes(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut at = max;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
    }
    text
}
