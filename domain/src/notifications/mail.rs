//! Mail (docs/notifications.md): a notice as a message (plain text and HTML, naming the token
//! by description and partial value, never its secret) and its delivery over SMTP with lettre.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Body, Mailbox, MultiPart, SinglePart,
        header::{self, ContentTransferEncoding, ContentType},
    },
};
use url::Url;

use crate::{
    notifications::{NoticeKind, Outgoing},
    tokens::format::partial,
};

/// How long one delivery may wait on the mail server (connecting, each reply).
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// The mail settings, checked: `PATDESK_SMTP_URL`, `PATDESK_MAIL_FROM`, and the address of the
/// app that links point to (`PATDESK_PUBLIC_URL`).
#[derive(Clone)]
pub struct MailSettings {
    smtp: Url,
    from: Mailbox,
    public_url: Url,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp", &self.server())
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl MailSettings {
    /// `smtp` is `smtp://[user:password@]host[:port]` (STARTTLS when the server offers it,
    /// port 587 unless given; `?tls=required` insists on it) or `smtps://…` (TLS from the
    /// start, port 465). The error says what is wrong, never with the password.
    pub fn parse(smtp: &str, from: &str, public_url: &Url) -> Result<Self, String> {
        let mut url = Url::parse(smtp.trim()).map_err(|_| {
            "PATDESK_SMTP_URL must be a URL like smtp://mail.example.com:587 or smtps://user:password@mail.example.com".to_string()
        })?;
        if !matches!(url.scheme(), "smtp" | "smtps") {
            return Err(format!(
                "PATDESK_SMTP_URL must start with smtp:// or smtps://, not {}://",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("PATDESK_SMTP_URL names no mail server host".into());
        }
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        match (url.scheme(), tls.as_deref()) {
            // STARTTLS where the server offers it: lettre's "opportunistic".
            ("smtp", None) => {
                url.query_pairs_mut().append_pair("tls", "opportunistic");
            }
            ("smtp", Some("required" | "opportunistic")) | ("smtps", None) => {}
            _ => {
                return Err(
                    "PATDESK_SMTP_URL: tls= may be required or opportunistic (smtp:// only)".into(),
                );
            }
        }
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str())
            .map_err(|e| format!("PATDESK_SMTP_URL cannot be used: {e}"))?;
        let from = from.trim().parse::<Mailbox>().map_err(|_| {
            format!("PATDESK_MAIL_FROM must be an address like \"patdesk <patdesk@example.com>\", not {from:?}")
        })?;
        Ok(MailSettings {
            smtp: url,
            from,
            public_url: public_url.clone(),
        })
    }

    /// The mail server, for the log: scheme, host and port, no credentials.
    pub fn server(&self) -> String {
        format!(
            "{}://{}:{}",
            self.smtp.scheme(),
            self.smtp.host_str().unwrap_or_default(),
            self.smtp
                .port()
                .unwrap_or(if self.smtp.scheme() == "smtps" {
                    465
                } else {
                    587
                })
        )
    }
}

/// Sends notices' mails.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: Url,
}

impl Mailer {
    pub fn new(settings: &MailSettings) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.smtp.as_str())
            .map_err(|e| e.to_string())?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Mailer {
            transport,
            from: settings.from.clone(),
            public_url: settings.public_url.clone(),
        })
    }

    /// Sends `outgoing`'s mail; the error is the mail server's answer or why it could not be
    /// reached (it names no secret: there is none in a notice).
    pub async fn send(&self, outgoing: &Outgoing) -> Result<(), String> {
        let to: Mailbox = outgoing
            .to
            .parse()
            .map_err(|_| format!("the address {:?} cannot be mailed", outgoing.to))?;
        let letter = Letter::of(outgoing, &self.public_url);
        let host = self.public_url.host_str().unwrap_or("patdesk");
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(letter.subject)
            // The same id for every attempt: a mail reader shows a mail delivered twice once.
            .message_id(Some(format!("<notice-{}@{host}>", outgoing.notice.id)))
            .header(NoticeHeader(outgoing.notice.kind.clone()))
            .header(TokenHeader(
                outgoing.notice.token_id.clone().unwrap_or_default(),
            ));
        self.deliver(message, letter.text, letter.html).await
    }

    /// Adds the text and HTML versions to `message` (its addresses, subject and headers set)
    /// and sends it.
    async fn deliver(
        &self,
        message: lettre::message::MessageBuilder,
        text: String,
        html: String,
    ) -> Result<(), String> {
        let message = message
            .multipart(
                MultiPart::alternative()
                    .singlepart(part(ContentType::TEXT_PLAIN, text))
                    .singlepart(part(ContentType::TEXT_HTML, html)),
            )
            .map_err(|e| format!("the mail could not be built: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

impl Mailer {
    /// Where links point (`PATDESK_PUBLIC_URL`).
    pub fn public_url(&self) -> &Url {
        &self.public_url
    }

    /// Sends a mail that is no stored notice (a password reset link: its secret is in no
    /// table, so the mail cannot wait in the outbox), marked `X-Patdesk-Notice: <kind>`. The
    /// error names no secret: it is the mail server's answer.
    pub async fn send_letter(&self, to: &str, kind: &str, letter: Letter) -> Result<(), String> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| "the address cannot be mailed".to_string())?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(letter.subject)
            .header(NoticeHeader(kind.to_string()));
        self.deliver(message, letter.text, letter.html).await
    }
}

impl Letter {
    /// The "Forgot password?" mail: the one-time `link`, valid for `minutes`.
    pub fn password_reset(username: &str, link: &str, minutes: i64, public_url: &Url) -> Letter {
        let subject = "Reset your patdesk password".to_string();
        let lines = [
            format!(
                "Someone (we hope you) asked to reset the password of your patdesk account {username}."
            ),
            format!("Choose a new password here within {minutes} minutes; the link works once:"),
        ];
        let after = "If you did not ask, ignore this mail: your password stays as it is.";
        Letter::plain(
            username,
            subject,
            &lines,
            Some((link, "Choose a new password")),
            after,
            public_url,
        )
    }

    /// What an account that signs in with single sign-on only is mailed when someone asks to
    /// reset its password.
    pub fn use_your_provider(username: &str, public_url: &Url) -> Letter {
        let subject = "Your patdesk account has no password".to_string();
        let lines = [format!(
            "Someone (we hope you) asked to reset the password of your patdesk account {username}. It signs in with single sign-on and has no password: use the single sign-on button on the sign-in page."
        )];
        let sign_in = public_url
            .join("/signin")
            .map(String::from)
            .unwrap_or_default();
        let after = "If you did not ask, ignore this mail.";
        Letter::plain(
            username,
            subject,
            &lines,
            Some((&sign_in, "Sign in")),
            after,
            public_url,
        )
    }

    fn plain(
        username: &str,
        subject: String,
        lines: &[String],
        link: Option<(&str, &str)>,
        after: &str,
        public_url: &Url,
    ) -> Letter {
        let base = public_url.as_str().trim_end_matches('/');
        let esc = crate::text::escape_html;
        let mut text = format!("Hello {username},\n\n");
        let mut html = format!(
            "<!DOCTYPE html><html><body style=\"font-family: sans-serif\"><p>Hello {},</p>",
            esc(username)
        );
        for line in lines {
            text.push_str(line);
            text.push_str("\n\n");
            html.push_str(&format!("<p>{}</p>", esc(line)));
        }
        if let Some((href, words)) = link {
            text.push_str(&format!("{href}\n\n"));
            html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>",
                esc(href),
                esc(words)
            ));
        }
        text.push_str(&format!("{after}\n\n-- \npatdesk, {base}\n"));
        html.push_str(&format!(
            "<p>{}</p><hr><p style=\"color: #666; font-size: small\">patdesk, {}</p></body></html>",
            esc(after),
            esc(base)
        ));
        Letter {
            subject,
            text,
            html,
        }
    }
}

/// One part of the mail, quoted-printable: readable as it is stored, whatever lettre would
/// otherwise pick for text with a few non-ASCII characters (base64).
fn part(content_type: ContentType, body: String) -> SinglePart {
    SinglePart::builder().header(content_type).body(
        Body::new_with_encoding(body, ContentTransferEncoding::QuotedPrintable)
            .unwrap_or_else(Body::new),
    )
}

/// A notice's mail: subject, plain text and HTML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Letter {
    pub fn of(outgoing: &Outgoing, public_url: &Url) -> Letter {
        let n = &outgoing.notice;
        let kind = crate::db::known("notifications.kind", &n.kind, NoticeKind::parse);
        let description = n.token_description.clone().unwrap_or_default();
        let subject = kind.map_or_else(|| "patdesk".to_string(), |k| k.headline(&description));
        let explanation = kind
            .map(|k| k.explanation(n.detail.as_deref().unwrap_or_default()))
            .unwrap_or_default();
        // A notice about a token names it and links to it; one about the account, to the account.
        let (token_line, link, action) = match n.token_id.as_deref() {
            Some(token_id) => (
                format!(
                    "Token: {description} ({}), team {}",
                    partial(n.token_hint.as_deref().unwrap_or_default()),
                    n.token_team.as_deref().unwrap_or_default()
                ),
                token_link(public_url, token_id),
                if kind == Some(NoticeKind::Expired) {
                    "Regenerate it"
                } else {
                    "See it on your Access tokens page"
                },
            ),
            None => (
                String::new(),
                public_url
                    .join("/account")
                    .map(String::from)
                    .unwrap_or_default(),
                "Your account",
            ),
        };
        let settings = public_url
            .join("/account")
            .map(String::from)
            .unwrap_or_default();
        let text = format!(
            "Hello {user},\n\n{subject}.\n\n{explanation}\n\n{token_line}\n{action}: {link}\n\n-- \npatdesk, {base}\nChoose which notices you get by mail: {settings}\n",
            user = outgoing.username,
            base = public_url.as_str().trim_end_matches('/'),
        );
        let html = format!(
            "<!DOCTYPE html><html><body style=\"font-family: sans-serif\">\
             <p>Hello {user},</p><p><strong>{subject}.</strong></p><p>{explanation}</p>\
             <p>{token_line}</p><p><a href=\"{link}\">{action}</a></p>\
             <hr><p style=\"color: #666; font-size: small\">patdesk, {base}. \
             <a href=\"{settings}\">Choose which notices you get by mail</a>.</p></body></html>",
            user = crate::text::escape_html(&outgoing.username),
            subject = crate::text::escape_html(&subject),
            explanation = crate::text::escape_html(&explanation),
            token_line = crate::text::escape_html(&token_line),
            link = crate::text::escape_html(&link),
            action = action,
            base = crate::text::escape_html(public_url.as_str().trim_end_matches('/')),
            settings = crate::text::escape_html(&settings),
        );
        Letter {
            subject,
            text,
            html,
        }
    }
}

/// The token's own page (`/tokens/<id>`), which shows it whether it is active or has ended.
pub fn token_link(public_url: &Url, token_id: &str) -> String {
    let mut link = public_url.clone();
    link.set_path(&format!("/tokens/{token_id}"));
    link.set_query(None);
    link.set_fragment(None);
    link.into()
}

/// `X-Patdesk-Notice: <kind>`: lets mail filters (and the tests) tell notices apart.
#[derive(Clone)]
struct NoticeHeader(String);

impl header::Header for NoticeHeader {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("X-Patdesk-Notice")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(NoticeHeader(s.to_string()))
    }

    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `X-Patdesk-Token: <token id>`.
#[derive(Clone)]
struct TokenHeader(String);

impl header::Header for TokenHeader {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("X-Patdesk-Token")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(TokenHeader(s.to_string()))
    }

    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::notification;

    fn outgoing(kind: NoticeKind, description: &str, detail: &str) -> Outgoing {
        Outgoing {
            notice: notification::Model {
                id: 7,
                user_id: 1,
                kind: kind.as_str().into(),
                token_id: Some("tok_abc".into()),
                token_description: Some(description.into()),
                token_hint: Some("Wx9z".into()),
                token_team: Some("ops".into()),
                detail: Some(detail.into()),
                dedupe_key: None,
                created_at: chrono::Utc::now(),
                read_at: None,
                mail_state: "pending".into(),
                mail_attempts: 0,
                mail_next_at: None,
                mail_claimed_until: None,
                mail_sent_at: None,
                mail_error: None,
            },
            username: "alice".into(),
            to: "alice@example.com".into(),
        }
    }

    #[test]
    fn a_letter_names_the_token_and_links_to_it() {
        let base = Url::parse("https://patdesk.example.com/").unwrap();
        let letter = Letter::of(
            &outgoing(
                NoticeKind::Expired,
                "nightly <backup>",
                "2026-12-01 10:00 UTC",
            ),
            &base,
        );
        assert_eq!(
            letter.subject,
            "Your token \"nightly <backup>\" has expired"
        );
        assert!(letter.text.contains("pdk_…Wx9z"), "{}", letter.text);
        assert!(letter.text.contains("team ops"));
        assert!(letter.text.contains("2026-12-01 10:00 UTC"));
        assert!(
            letter
                .text
                .contains("Regenerate it: https://patdesk.example.com/tokens/tok_abc")
        );
        assert!(letter.html.contains("nightly &lt;backup&gt;"));
        assert!(!letter.html.contains("<backup>"));
        assert!(
            letter
                .html
                .contains("href=\"https://patdesk.example.com/tokens/tok_abc\"")
        );
    }

    #[test]
    fn smtp_urls_are_checked_and_never_shown_with_their_password() {
        let base = Url::parse("http://127.0.0.1:3000").unwrap();
        let from = "patdesk <patdesk@example.com>";
        let settings =
            MailSettings::parse("smtp://me:s3cret@mail.example.com", from, &base).unwrap();
        assert_eq!(settings.server(), "smtp://mail.example.com:587");
        assert!(!format!("{settings:?}").contains("s3cret"));
        assert_eq!(
            MailSettings::parse("smtps://mail.example.com", from, &base)
                .unwrap()
                .server(),
            "smtps://mail.example.com:465"
        );
        for bad in [
            "mail.example.com",
            "http://mail.example.com",
            "smtp://",
            "smtps://x?tls=none",
        ] {
            assert!(MailSettings::parse(bad, from, &base).is_err(), "{bad}");
        }
        assert!(MailSettings::parse("smtp://mail.example.com", "not an address", &base).is_err());
    }
}
