//! `teams.question_count`: how many questions the team has, kept in the same transaction as
//! every question created or deleted, so that a page of questions reports its total without
//! counting the team's rows on every read. Existing teams are counted once here.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{add_columns, forward_only};

forward_only!(|manager| {
    add_columns(
        manager,
        "teams",
        [big_integer("question_count").default(0).to_owned()],
    )
    .await?;
    manager
        .get_connection()
        .execute_unprepared(
            "UPDATE teams SET question_count = \
             (SELECT COUNT(*) FROM questions WHERE questions.team_id = teams.id)",
        )
        .await?;
    Ok(())
});
