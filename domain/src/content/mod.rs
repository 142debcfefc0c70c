//! Team content served by the API: questions and their answers, always inside one team.

pub mod model;
pub mod pages;

pub use model::{
    Answer, DEFAULT_PER_PAGE, MAX_BODY, MAX_PAGE, MAX_PER_PAGE, MAX_TITLE, Page, Question,
    page_params,
};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationDef,
    Select, Set,
    sea_query::{Expr, ExprTrait, Query},
};

use crate::{
    activity::{self, Event, Kind},
    content::pages::{PageKey, QuestionPages},
    db::begin_write,
    entity::{answer, question, team, user},
    error::{Error, Result},
    text::Lines,
    tokens::access::WriteGrant,
};

fn text(field: &'static str, raw: &str, max: usize, lines: Lines) -> Result<String> {
    let value = raw.trim();
    crate::text::check(field, value, lines)?;
    if value.is_empty() {
        return Err(Error::invalid(field, format!("{field} is required.")));
    }
    if value.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("{field} is at most {max} characters long."),
        ));
    }
    Ok(value.to_string())
}

/// A page of rows built with their authors' usernames, fetched in one query (a page must not
/// cost a query per row).
async fn with_authors<M, T>(
    db: &impl ConnectionTrait,
    models: Vec<M>,
    author_of: impl Fn(&M) -> i64,
    build: impl Fn(M, String) -> T,
) -> Result<Vec<T>> {
    let mut ids: Vec<i64> = models.iter().map(&author_of).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: std::collections::HashMap<i64, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect();
    Ok(models
        .into_iter()
        .map(|m| {
            let author = names.get(&author_of(&m)).cloned().unwrap_or_default();
            build(m, author)
        })
        .collect())
}

/// One row built with its author's username.
async fn with_author<M, T>(
    db: &impl ConnectionTrait,
    model: M,
    author_of: impl Fn(&M) -> i64,
    build: impl Fn(M, String) -> T,
) -> Result<T> {
    with_authors(db, vec![model], author_of, build)
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("a row was lost while naming its author".into()))
}

fn question(m: question::Model, author: String) -> Question {
    Question {
        author,
        id: m.id,
        title: m.title,
        body: m.body,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// A row of a questions page: the question, its author's name, the team's total and the
/// team's content version, all read by one statement.
#[derive(FromQueryResult)]
struct QuestionRow {
    id: i64,
    title: String,
    body: String,
    author: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    total: i64,
    version: i64,
}

/// A team's questions, newest first. The page stored in `pages` is served when the team's
/// content version has not moved since it was read (counted by this process, or a
/// primary-key read that requests waiting together share; `content::pages`); otherwise the
/// page is read and stored.
pub async fn list_questions(
    db: &DatabaseConnection,
    pages: &QuestionPages,
    team_id: i64,
    page: u64,
    per_page: u64,
) -> Result<Arc<Page<Question>>> {
    let key = PageKey {
        team_id,
        page,
        per_page,
    };
    let counted = pages.counted_version(team_id);
    let version = match counted {
        Some(version) => Some(version),
        None => {
            pages
                .read_version(team_id, || {
                    team::Entity::find_by_id(team_id)
                        .select_only()
                        .column(team::Column::ContentVersion)
                        .into_tuple::<i64>()
                        .one(db)
                })
                .await?
        }
    };
    if let Some(stored) = version.and_then(|version| pages.get(key, version)) {
        return Ok(stored);
    }
    let (found, read_at) = read_questions(db, team_id, page, per_page).await?;
    // A counted version is the one looked up before reading: a write that commits during the
    // read raises it, so these rows, old or new, are never served after that write.
    Ok(pages.put(key, counted.unwrap_or(read_at), found))
}

/// A page in one query: the page joined with its authors, each row carrying the team's
/// question count (kept in `teams.question_count` by every create and delete, in their
/// transactions, so it is never stale and costs a primary-key read) and content version, so
/// that the page and its version come from one snapshot. Only a page past the end, which has no
/// rows to carry them, reads the two on their own.
async fn read_questions(
    db: &DatabaseConnection,
    team_id: i64,
    page: u64,
    per_page: u64,
) -> Result<(Page<Question>, i64)> {
    let author: RelationDef = question::Entity::belongs_to(user::Entity)
        .from(question::Column::AuthorId)
        .to(user::Column::Id)
        .into();
    let rows = question::Entity::find()
        .select_only()
        .columns([
            question::Column::Id,
            question::Column::Title,
            question::Column::Body,
            question::Column::CreatedAt,
            question::Column::UpdatedAt,
        ])
        .column_as(user::Column::Username, "author")
        .expr_as(
            Expr::SubQuery(
                None,
                Box::new(team_column(team_id, team::Column::QuestionCount).into()),
            ),
            "total",
        )
        .expr_as(
            Expr::SubQuery(
                None,
                Box::new(team_column(team_id, team::Column::ContentVersion).into()),
            ),
            "version",
        )
        .join(JoinType::LeftJoin, author)
        .filter(question::Column::TeamId.eq(team_id))
        .order_by_desc(question::Column::Id)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .into_model::<QuestionRow>()
        .all(db)
        .await?;
    let (total, version) = match rows.first() {
        Some(row) => (row.total, row.version),
        None => team::Entity::find_by_id(team_id)
            .select_only()
            .columns([team::Column::QuestionCount, team::Column::ContentVersion])
            .into_tuple::<(i64, i64)>()
            .one(db)
            .await?
            .unwrap_or((0, 0)),
    };
    let items = rows
        .into_iter()
        .map(|row| Question {
            id: row.id,
            title: row.title,
            body: row.body,
            author: row.author.unwrap_or_default(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
        .collect();
    let page = Page {
        items,
        page,
        per_page,
        total: u64::try_from(total).unwrap_or(0),
    };
    Ok((page, version))
}

/// `SELECT <column> FROM teams WHERE id = team_id`.
fn team_column(team_id: i64, column: team::Column) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column((team::Entity, column))
        .from(team::Entity)
        .and_where(Expr::col((team::Entity, team::Column::Id)).eq(team_id))
        .to_owned()
}

/// Notes a question created (`change` +1), deleted (−1) or edited (0) in the transaction that
/// makes the change: the team's count, and its content version, which tells stored pages of
/// questions that they are out of date (`content::pages`).
async fn note_question_change(db: &impl ConnectionTrait, team_id: i64, change: i64) -> Result<()> {
    team::Entity::update_many()
        .col_expr(
            team::Column::QuestionCount,
            Expr::col(team::Column::QuestionCount).add(change),
        )
        .col_expr(
            team::Column::ContentVersion,
            Expr::col(team::Column::ContentVersion).add(1),
        )
        .filter(team::Column::Id.eq(team_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records an API write in the write's own transaction (the change and its activity entry
/// happen together or not at all): who wrote, through which token, from where.
async fn record_write(grant: &WriteGrant, db: &impl ConnectionTrait, target: String) -> Result<()> {
    let target = match grant.provenance() {
        Some(provenance) => format!("{target} (token exchanged for {provenance})"),
        None => target,
    };
    let mut event = Event::own(grant.user_id(), Kind::ApiWrite)
        .ip(grant.ip())
        .target(target);
    event.token_id = Some(grant.token_id().to_string());
    activity::record(db, event).await
}

fn select_team_question(team_id: i64, id: i64) -> Select<question::Entity> {
    question::Entity::find_by_id(id).filter(question::Column::TeamId.eq(team_id))
}

/// One of the team's questions; questions of other teams are "not found".
async fn team_question(
    db: &impl ConnectionTrait,
    team_id: i64,
    id: i64,
) -> Result<question::Model> {
    select_team_question(team_id, id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("question"))
}

/// [`team_question`] inside a write transaction: the row stays locked until the commit
/// (`FOR UPDATE` on PostgreSQL; on SQLite the transaction's write lock covers it), so that a
/// concurrent delete cannot come between the check and the write.
async fn lock_team_question(
    db: &impl ConnectionTrait,
    team_id: i64,
    id: i64,
) -> Result<question::Model> {
    select_team_question(team_id, id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(Error::NotFound("question"))
}

pub async fn get_question(db: &DatabaseConnection, team_id: i64, id: i64) -> Result<Question> {
    let model = team_question(db, team_id, id).await?;
    with_author(db, model, |q| q.author_id, question).await
}

/// Changes the title and/or body; at least one must be given.
pub async fn update_question(
    db: &DatabaseConnection,
    pages: &QuestionPages,
    id: i64,
    grant: &WriteGrant,
    title: Option<&str>,
    body: Option<&str>,
) -> Result<Question> {
    let team_id = grant.team_id();
    if title.is_none() && body.is_none() {
        return Err(Error::invalid("body", "Send a title, a body, or both."));
    }
    let title = title
        .map(|t| text("title", t, MAX_TITLE, Lines::One))
        .transpose()?;
    let body = body
        .map(|b| text("body", b, MAX_BODY, Lines::Many))
        .transpose()?;
    let txn = begin_write(db).await?;
    let current = lock_team_question(&txn, team_id, id).await?;
    let mut active: question::ActiveModel = current.into();
    if let Some(title) = title {
        active.title = Set(title);
    }
    if let Some(body) = body {
        active.body = Set(body);
    }
    active.updated_at = Set(Utc::now());
    let model = active.update(&txn).await?;
    note_question_change(&txn, team_id, 0).await?;
    record_write(grant, &txn, format!("edited question {id}")).await?;
    let question = with_author(&txn, model, |q| q.author_id, question).await?;
    let committed = txn.commit().await;
    pages.written(team_id);
    committed?;
    Ok(question)
}

pub async fn delete_question(
    db: &DatabaseConnection,
    pages: &QuestionPages,
    id: i64,
    grant: &WriteGrant,
) -> Result<()> {
    let team_id = grant.team_id();
    let txn = begin_write(db).await?;
    let deleted = question::Entity::delete_many()
        .filter(question::Column::Id.eq(id))
        .filter(question::Column::TeamId.eq(team_id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(Error::NotFound("question"));
    }
    note_question_change(&txn, team_id, -1).await?;
    record_write(grant, &txn, format!("deleted question {id}")).await?;
    let committed = txn.commit().await;
    pages.written(team_id);
    committed?;
    Ok(())
}

fn answer(m: answer::Model, author: String) -> Answer {
    Answer {
        author,
        id: m.id,
        question_id: m.question_id,
        body: m.body,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

pub async fn list_answers(
    db: &DatabaseConnection,
    team_id: i64,
    question_id: i64,
    page: u64,
    per_page: u64,
) -> Result<Page<Answer>> {
    team_question(db, team_id, question_id).await?;
    let paginator = answer::Entity::find()
        .filter(answer::Column::QuestionId.eq(question_id))
        .order_by_asc(answer::Column::Id)
        .paginate(db, per_page);
    let total = paginator.num_items().await?;
    let models = paginator.fetch_page(page - 1).await?;
    let items = with_authors(db, models, |m| m.author_id, answer).await?;
    Ok(Page {
        items,
        page,
        per_page,
        total,
    })
}

pub async fn create_answer(
    db: &DatabaseConnection,
    question_id: i64,
    grant: &WriteGrant,
    body: &str,
) -> Result<Answer> {
    let team_id = grant.team_id();
    let body = text("body", body, MAX_BODY, Lines::Many)?;
    let txn = begin_write(db).await?;
    lock_team_question(&txn, team_id, question_id).await?;
    let now = Utc::now();
    let model = answer::ActiveModel {
        question_id: Set(question_id),
        author_id: Set(grant.user_id()),
        body: Set(body),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record_write(
        grant,
        &txn,
        format!("answered question {question_id} (answer {})", model.id),
    )
    .await?;
    txn.commit().await?;
    Ok(answer(model, grant.username().to_string()))
}

/// An answer of one of the team's questions, locked like [`lock_team_question`] (with its
/// question); anything else is "not found".
async fn lock_team_answer(
    db: &impl ConnectionTrait,
    team_id: i64,
    question_id: i64,
    answer_id: i64,
) -> Result<answer::Model> {
    lock_team_question(db, team_id, question_id).await?;
    answer::Entity::find_by_id(answer_id)
        .filter(answer::Column::QuestionId.eq(question_id))
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(Error::NotFound("answer"))
}

pub async fn update_answer(
    db: &DatabaseConnection,
    question_id: i64,
    answer_id: i64,
    grant: &WriteGrant,
    body: &str,
) -> Result<Answer> {
    let team_id = grant.team_id();
    let body = text("body", body, MAX_BODY, Lines::Many)?;
    let txn = begin_write(db).await?;
    let current = lock_team_answer(&txn, team_id, question_id, answer_id).await?;
    let mut active: answer::ActiveModel = current.into();
    active.body = Set(body);
    active.updated_at = Set(Utc::now());
    let model = active.update(&txn).await?;
    record_write(grant, &txn, format!("edited answer {answer_id}")).await?;
    let answer = with_author(&txn, model, |a| a.author_id, answer).await?;
    txn.commit().await?;
    Ok(answer)
}

pub async fn delete_answer(
    db: &DatabaseConnection,
    question_id: i64,
    answer_id: i64,
    grant: &WriteGrant,
) -> Result<()> {
    let team_id = grant.team_id();
    let txn = begin_write(db).await?;
    lock_team_answer(&txn, team_id, question_id, answer_id).await?;
    answer::Entity::delete_by_id(answer_id).exec(&txn).await?;
    record_write(grant, &txn, format!("deleted answer {answer_id}")).await?;
    txn.commit().await?;
    Ok(())
}

/// Creates a question; the write goes to the activity log with the writer as actor.
pub async fn create_question(
    db: &DatabaseConnection,
    pages: &QuestionPages,
    grant: &WriteGrant,
    title: &str,
    body: &str,
) -> Result<Question> {
    let team_id = grant.team_id();
    let title = text("title", title, MAX_TITLE, Lines::One)?;
    let body = text("body", body, MAX_BODY, Lines::Many)?;
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let model = question::ActiveModel {
        team_id: Set(team_id),
        author_id: Set(grant.user_id()),
        title: Set(title),
        body: Set(body),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    note_question_change(&txn, team_id, 1).await?;
    record_write(grant, &txn, format!("created question {}", model.id)).await?;
    let committed = txn.commit().await;
    pages.written(team_id);
    committed?;
    Ok(question(model, grant.username().to_string()))
}
