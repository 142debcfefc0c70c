//! The notification task (docs/notifications.md): every server process looks for expiry
//! reminders at start-up and every `PATDESK_NOTIFY_INTERVAL_SECONDS`, and sends the pending
//! mails it can claim every few seconds. Which process sends which mail is settled in the
//! database (`domain::notifications::claim_due`), so that several processes send each once.

use std::time::{Duration, Instant};

use domain::{notifications, notifications::mail::Mailer};
use sea_orm::DatabaseConnection;

/// Mails claimed at a time.
const BATCH: u64 = 20;
/// The outbox is looked at this often (or at every sweep, when sweeps are more frequent):
/// a new-IP alert or a revocation notice goes out within seconds.
const OUTBOX_EVERY: Duration = Duration::from_secs(2);

/// Runs until aborted. Without a mailer (no `PATDESK_SMTP_URL`), notices are stored and shown in
/// the app, and mails that would have gone out are marked skipped.
pub async fn run(
    db: DatabaseConnection,
    mailer: Option<Mailer>,
    sweep_every: Duration,
    retry_base: Duration,
) {
    let mut ticker = tokio::time::interval(sweep_every.min(OUTBOX_EVERY));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_sweep: Option<Instant> = None;
    loop {
        ticker.tick().await;
        if last_sweep.is_none_or(|at| at.elapsed() >= sweep_every) {
            last_sweep = Some(Instant::now());
            match notifications::sweep_expiry(&db, chrono::Utc::now()).await {
                Ok(0) => {}
                Ok(stored) => tracing::info!(stored, "expiry reminders stored"),
                Err(error) => tracing::warn!(%error, "could not look for expiry reminders"),
            }
        }
        match &mailer {
            Some(mailer) => send_due(&db, mailer, retry_base).await,
            None => {
                if let Err(error) = notifications::skip_pending_mail(&db).await {
                    tracing::warn!(%error, "could not settle unsent mails");
                }
            }
        }
    }
}

/// Sends every mail that is due and that this process could claim.
async fn send_due(db: &DatabaseConnection, mailer: &Mailer, retry_base: Duration) {
    let retry_base =
        chrono::Duration::from_std(retry_base).unwrap_or(chrono::Duration::seconds(30));
    loop {
        let batch = match notifications::claim_due(db, chrono::Utc::now(), BATCH).await {
            Ok(batch) if batch.is_empty() => return,
            Ok(batch) => batch,
            Err(error) => {
                tracing::warn!(%error, "could not claim pending mails");
                return;
            }
        };
        for outgoing in &batch {
            let notice = outgoing.notice.id;
            // The log names the notice, never the address or the content.
            match mailer.send(outgoing).await {
                Ok(()) => {
                    tracing::info!(notice, kind = %outgoing.notice.kind, "mail sent");
                    if let Err(error) = notifications::delivered(db, notice).await {
                        tracing::warn!(notice, %error, "mail sent but not marked sent");
                    }
                }
                Err(error) => match notifications::failed(db, outgoing, &error, retry_base).await {
                    Ok(true) => tracing::warn!(notice, %error, "mail not sent; will retry"),
                    Ok(false) => tracing::error!(notice, %error, "mail not sent; giving up"),
                    Err(db_error) => tracing::warn!(notice, %error, %db_error, "mail not sent"),
                },
            }
        }
    }
}
