//! The migrations apply forward on an empty database, and applying them again changes nothing.
//! SQLite always; PostgreSQL when `PATDESK_TEST_POSTGRES_URL` points at a server where the role
//! may create databases (each test makes its own, then drops it).

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

const TABLES: [&str; 8] = [
    "activity",
    "answers",
    "memberships",
    "questions",
    "sessions",
    "teams",
    "tokens",
    "users",
];

/// A description of the schema precise enough to notice any change: every table, column and index.
async fn schema(db: &DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => {
            "SELECT type || ' ' || name || ' ' || coalesce(sql, '') AS line FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        }
        _ => {
            "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
             AS line FROM information_schema.columns WHERE table_schema = 'public' \
             UNION ALL SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes \
             WHERE schemaname = 'public' ORDER BY line"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("schema query");
    rows.iter()
        .map(|row| row.try_get::<String>("", "line").expect("line"))
        .collect()
}

async fn applied_migrations(db: &DatabaseConnection) -> usize {
    Migrator::get_applied_migrations(db)
        .await
        .expect("applied migrations")
        .len()
}

async fn check_apply_twice(db: &DatabaseConnection) {
    assert_eq!(
        applied_migrations(db).await,
        0,
        "database should start empty"
    );
    Migrator::up(db, None).await.expect("first apply");
    let first = schema(db).await;
    for table in TABLES {
        assert!(
            first.iter().any(|line| line.contains(table)),
            "table {table} missing from schema:\n{first:#?}"
        );
    }
    // The case-insensitive description rule is a partial expression index.
    assert!(
        first
            .iter()
            .any(|line| line.contains("idx_tokens_user_description")),
        "{first:#?}"
    );
    let count = applied_migrations(db).await;
    assert_eq!(count, Migrator::migrations().len());

    Migrator::up(db, None).await.expect("second apply");
    assert_eq!(schema(db).await, first, "second apply changed the schema");
    assert_eq!(applied_migrations(db).await, count);
}

#[tokio::test]
async fn sqlite_empty_file_then_again() {
    let dir = tempfile_dir("fresh");
    let path = dir.join("fresh.db");
    let _ = std::fs::remove_file(&path);
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("open sqlite");
    check_apply_twice(&db).await;
    db.close().await.unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn postgres_empty_database_then_again() {
    let admin_url = std::env::var("PATDESK_TEST_POSTGRES_URL")
        .expect("this test needs PostgreSQL: set PATDESK_TEST_POSTGRES_URL");
    let admin = Database::connect(&admin_url)
        .await
        .expect("connect to PostgreSQL");
    let name = format!("patdesk_mig_{}", std::process::id());
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a throw-away database");
    let url = url_with_database(&admin_url, &name);
    let db = Database::connect(&url)
        .await
        .expect("connect to the new database");
    check_apply_twice(&db).await;
    db.close().await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE {name}"))
        .await
        .unwrap();
}

fn url_with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base.rfind('/').expect("URL has a path");
    let mut out = format!("{}/{database}", &base[..cut]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A database from before the question counter (three migrations in) gets each team's existing
/// questions counted when it is upgraded.
#[tokio::test]
async fn upgrading_counts_the_questions_teams_already_have() {
    let dir = tempfile_dir("counts");
    let db = Database::connect(format!(
        "sqlite://{}?mode=rwc",
        dir.join("old.db").display()
    ))
    .await
    .expect("open sqlite");
    Migrator::up(&db, Some(3)).await.expect("the first three");
    let now = "2026-11-24T00:00:00+00:00";
    let mut sql = format!(
        "INSERT INTO users (id, username, password_hash, created_at) VALUES (1, 'ann', 'x', '{now}');
         INSERT INTO teams (id, slug, name, created_at) VALUES (1, 'ops', 'Ops', '{now}'),
                                                         (2, 'dev', 'Dev', '{now}'),
                                                         (3, 'empty', 'Empty', '{now}');"
    );
    for (team, questions) in [(1, 3), (2, 1)] {
        for n in 0..questions {
            sql.push_str(&format!(
                "INSERT INTO questions (team_id, author_id, title, body, created_at, updated_at) \
                 VALUES ({team}, 1, 'q{n}', 'b', '{now}', '{now}');"
            ));
        }
    }
    db.execute_unprepared(&sql).await.expect("old rows");

    Migrator::up(&db, None).await.expect("the rest");
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT slug, question_count FROM teams ORDER BY id",
        ))
        .await
        .unwrap();
    let counts: Vec<(String, i64)> = rows
        .iter()
        .map(|row| {
            (
                row.try_get("", "slug").unwrap(),
                row.try_get("", "question_count").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [("ops".into(), 3), ("dev".into(), 1), ("empty".into(), 0)]
    );
    db.close().await.unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("patdesk-mig-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
