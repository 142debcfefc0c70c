//! Webhooks (docs/webhooks.md).
//!
//! - `webhooks`: an endpoint of a team (`team_id`) or of the instance (none): its URL, the
//!   events it takes (space-separated), its signing secret sealed with the server's key (it
//!   must be read back to sign: a digest will not do), the previous secret while a rotation's
//!   overlap lasts, and the sender's state: when its oldest pending delivery may be tried
//!   again, since when it has been failing, which process holds it until when, and when and
//!   why it was turned off.
//! - `webhook_deliveries`: the outbox, one row per event and endpoint, written in the
//!   transaction of the change it reports. `message_id` is the `webhook-id` every attempt of
//!   it carries; the payload is fixed when the row is written. No foreign key to `webhooks`
//!   (see below).

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{Unique, cascade_fk, create_index, forward_only};

forward_only!(|manager| {
    manager
        .create_table(
            Table::create()
                .table("webhooks")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len("public_id", 24))
                .col(big_integer_null("team_id"))
                .col(string_len("url", 2000))
                .col(text("events"))
                .col(text("sealed_secret"))
                .col(text_null("previous_sealed_secret"))
                .col(timestamp_with_time_zone_null("previous_secret_until"))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("next_attempt_at"))
                .col(timestamp_with_time_zone_null("failing_since"))
                .col(timestamp_with_time_zone_null("claimed_until"))
                .col(timestamp_with_time_zone_null("disabled_at"))
                .col(string_len_null("disabled_reason", 400))
                .foreign_key(&mut cascade_fk("webhooks", "team_id", "teams"))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_webhooks_public_id",
        "webhooks",
        &["public_id"],
        Unique::Yes,
    )
    .await?;
    create_index(
        manager,
        "idx_webhooks_team",
        "webhooks",
        &["team_id"],
        Unique::No,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("webhook_deliveries")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("webhook_id"))
                .col(string_len("message_id", 40))
                .col(string_len("event_type", 40))
                .col(text("payload"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string_len("state", 12))
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone_null("last_attempt_at"))
                .col(integer_null("last_status"))
                .col(string_len_null("last_error", 400))
                .col(timestamp_with_time_zone_null("delivered_at"))
                // No foreign key: a change that queued a delivery just as its endpoint was
                // removed must not fail for it. Removing an endpoint deletes its deliveries;
                // the housekeeping deletes any queued in that moment.
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_webhook_deliveries_queue",
        "webhook_deliveries",
        &["webhook_id", "state", "id"],
        Unique::No,
    )
    .await?;
    create_index(
        manager,
        "idx_webhook_deliveries_created_at",
        "webhook_deliveries",
        &["created_at"],
        Unique::No,
    )
    .await
});
