//! The registry of server functions: every `#[server]` function of the app, by its endpoint
//! (`/rpc/<endpoint>`), with what a caller needs to run it (docs/threat-model.md, "Identity").
//!
//! - [`Class::Sudo`]: anything that grants access or weakens a control — minting a credential
//!   (tokens, the explorer's token, service and SCIM credentials), adding members or changing
//!   roles, approving tokens, changing a policy, an allow-list, a rate limit or sign-in methods,
//!   changing the email address. The server's `guard::sudo_mode` refuses these from a session
//!   whose sign-in is older than the sudo window (`ReauthenticationRequired`) before the
//!   function runs, and each function checks again itself (`session::require_recent_sign_in`).
//! - [`Class::SignedIn`]: reading, and taking access away (deleting, revoking, removing,
//!   marking read); the function refuses a visitor who is not signed in.
//! - [`Class::Public`]: what a visitor calls before or without a session (signing in and up,
//!   the header), or what decides for itself by its input (`begin_passkey` registers a passkey
//!   only in sudo mode).
//!
//! A server function missing here, or an entry without a function, fails
//! `server/tests/sudo.rs`, which also calls every `Sudo` function from a stale session.

/// What a server function asks of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// A recent sign-in (sudo mode).
    Sudo,
    /// A session, however old.
    SignedIn,
    /// Nothing: signed-out visitors call it too.
    Public,
}

/// Every server function, by endpoint, with its class.
pub const SERVER_FUNCTIONS: &[(&str, Class)] = &[
    // Signing in and out, the header (app::auth, app::two_factor, app::webauthn).
    ("header_state", Class::Public),
    ("sign_up", Class::Public),
    ("sign_ups_in_force", Class::Public),
    ("sign_in", Class::Public),
    ("sign_out", Class::Public),
    ("sign_in_second_factor", Class::Public),
    // Forgot password (app::passwords): a link by mail, and the page it leads to.
    ("request_password_reset", Class::Public),
    ("reset_link_state", Class::Public),
    ("reset_password", Class::Public),
    ("begin_passkey", Class::Public),
    ("finish_passkey", Class::Public),
    ("my_notices", Class::Public),
    // Sudo mode itself (app::sudo).
    ("identity_check", Class::SignedIn),
    ("confirm_identity", Class::SignedIn),
    // The account (app::account, app::two_factor, app::passkeys).
    ("account_settings", Class::SignedIn),
    ("save_account", Class::Sudo),
    ("change_password", Class::Sudo),
    // Ending sessions takes access away (app::account_sessions).
    ("my_sessions", Class::SignedIn),
    ("end_session", Class::SignedIn),
    ("end_other_sessions", Class::SignedIn),
    ("begin_sso_link", Class::Sudo),
    ("unlink_sso", Class::Sudo),
    ("two_factor_status", Class::SignedIn),
    ("begin_totp_enrolment", Class::Sudo),
    ("confirm_totp_enrolment", Class::Sudo),
    ("disable_two_factor", Class::Sudo),
    ("regenerate_recovery_codes", Class::Sudo),
    ("my_passkeys", Class::SignedIn),
    ("remove_passkey", Class::Sudo),
    ("mark_notices_read", Class::SignedIn),
    ("my_activity", Class::SignedIn),
    // Tokens (app::tokens, app::token_usage, app::explorer).
    ("list_tokens", Class::SignedIn),
    ("inactive_tokens", Class::SignedIn),
    ("set_token_description", Class::SignedIn),
    // A token's access (app::tokens::access_form): narrowing is taking access away; the
    // function asks for sudo mode itself when the change widens it.
    ("token_access", Class::SignedIn),
    ("set_token_access", Class::SignedIn),
    ("token_teams", Class::SignedIn),
    ("new_token_options", Class::SignedIn),
    ("create_token", Class::Sudo),
    ("regenerate_token", Class::Sudo),
    ("rotate_token", Class::Sudo),
    ("end_token_overlap", Class::SignedIn),
    ("set_token_allowed_ips", Class::Sudo),
    ("delete_token", Class::SignedIn),
    ("token_usage", Class::SignedIn),
    ("set_token_rate_limit", Class::Sudo),
    ("open_explorer", Class::Sudo),
    ("explorer_setup", Class::SignedIn),
    // Teams (app::teams, app::team_tokens, app::services).
    ("my_teams", Class::SignedIn),
    ("create_team", Class::SignedIn),
    ("team_detail", Class::SignedIn),
    ("add_member", Class::Sudo),
    ("set_role", Class::Sudo),
    ("remove_member", Class::SignedIn),
    ("set_write_approval", Class::Sudo),
    ("set_max_rate_limit", Class::Sudo),
    ("team_tokens", Class::SignedIn),
    ("revoke_team_token", Class::SignedIn),
    ("approve_team_token", Class::Sudo),
    ("deny_team_token", Class::SignedIn),
    ("team_services", Class::SignedIn),
    ("create_service", Class::Sudo),
    ("set_service_scopes", Class::Sudo),
    ("set_team_permission_settings", Class::Sudo),
    ("delete_service", Class::SignedIn),
    // A team's service accounts (app::service_accounts): a new account, trust policy or
    // long-lived token grants access; deleting and removing take it away.
    ("team_service_accounts", Class::SignedIn),
    ("create_service_account", Class::Sudo),
    ("add_trust_policy", Class::Sudo),
    ("create_service_account_token", Class::Sudo),
    // Webhooks (app::webhooks): adding one sends the scope's events out; a secret is minted.
    ("list_webhooks", Class::SignedIn),
    ("create_webhook", Class::Sudo),
    ("rotate_webhook_secret", Class::Sudo),
    ("delete_webhook", Class::SignedIn),
    ("redeliver_webhook", Class::SignedIn),
    ("set_service_account_tokens", Class::Sudo),
    ("delete_service_account", Class::SignedIn),
    ("remove_trust_policy", Class::SignedIn),
    // The instance (app::admin, app::scim).
    ("all_accounts", Class::SignedIn),
    ("set_suspended", Class::Sudo),
    ("instance_policy", Class::SignedIn),
    ("set_instance_policy", Class::Sudo),
    ("two_factor_policy", Class::SignedIn),
    ("set_two_factor_policy", Class::Sudo),
    ("account_policy", Class::SignedIn),
    ("set_account_policy", Class::Sudo),
    ("sso_settings", Class::SignedIn),
    ("map_sso_group", Class::Sudo),
    ("unmap_sso_group", Class::Sudo),
    ("set_sso_required", Class::Sudo),
    ("scim_credentials", Class::SignedIn),
    ("create_scim_credential", Class::Sudo),
    ("delete_scim_credential", Class::Sudo),
];

/// The class of the server function at `path` (`/rpc/<endpoint>`); `None` for any other path
/// and for an endpoint that is not registered.
pub fn class_of(path: &str) -> Option<Class> {
    let endpoint = path.strip_prefix("/rpc/")?;
    SERVER_FUNCTIONS
        .iter()
        .find(|(name, _)| *name == endpoint)
        .map(|&(_, class)| class)
}
