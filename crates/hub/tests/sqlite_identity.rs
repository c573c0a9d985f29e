//! A hub never changes a SQLite database that is not a hub, and a read-only open writes
//! nothing: no file created, no migration, no journal-mode switch.

use std::path::Path;

use ai4ict_hub::store::APPLICATION_ID;
use ai4ict_hub::{Hub, HubError, Store};

fn sqlite(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn application_id(path: &Path) -> i32 {
    sqlite(path)
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_new_hub_carries_the_application_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    Hub::open(db.to_str().unwrap()).unwrap();
    assert_eq!(application_id(&db), APPLICATION_ID);
    // An older hub, made before the id: still a hub, and marked when next opened to write.
    sqlite(&db)
        .pragma_update(None, "application_id", 0)
        .unwrap();
    Hub::open_read_only(db.to_str().unwrap()).unwrap();
    assert_eq!(application_id(&db), 0, "a read-only open does not mark it");
    Hub::open(db.to_str().unwrap()).unwrap();
    assert_eq!(application_id(&db), APPLICATION_ID);
}

#[test]
fn a_foreign_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.db");
    sqlite(&other)
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')")
        .unwrap();
    let tagged = dir.path().join("tagged.db");
    sqlite(&tagged)
        .pragma_update(None, "application_id", 42)
        .unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "not a database, but long enough to have a header of sorts\n".repeat(20),
    )
    .unwrap();
    for path in [&other, &tagged, &text] {
        let before = std::fs::read(path).unwrap();
        let loc = path.to_str().unwrap();
        for err in [
            Hub::open(loc).map(|_| ()).unwrap_err(),
            Hub::open_read_only(loc).map(|_| ()).unwrap_err(),
            Store::open(loc).map(|_| ()).unwrap_err(),
        ] {
            assert!(matches!(err, HubError::NotAHub { .. }), "{loc}: {err}");
            assert!(err.to_string().contains("is not an ai4ict hub"), "{err}");
        }
        assert_eq!(std::fs::read(path).unwrap(), before, "{loc} was changed");
        assert!(!Path::new(&format!("{loc}-wal")).exists());
    }
}

#[test]
fn a_read_only_open_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let loc = db.to_str().unwrap();
    // A missing file is not created: the reader sees the shipped catalogue.
    let mut hub = Hub::open_read_only(loc).unwrap();
    assert!(!hub.standards().unwrap().is_empty());
    assert!(!db.exists());

    drop(Hub::open(loc).unwrap());
    sqlite(&db)
        .pragma_update(None, "journal_mode", "DELETE")
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    let mut hub = Hub::open_read_only(loc).unwrap();
    assert!(!hub
        .search_standards("machine learning", &Default::default(), 5)
        .unwrap()
        .is_empty());
    hub.use_cases().unwrap();
    assert!(
        matches!(hub.set_review_cycle("ITU-T", 4), Err(HubError::Sqlite(_))),
        "a read-only hub refuses writes"
    );
    drop(hub);
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let mode: String = sqlite(&db)
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
}

#[test]
fn a_read_only_open_does_not_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let loc = db.to_str().unwrap();
    drop(Hub::open(loc).unwrap());
    // As if the hub had been made by an older version with fewer migrations.
    sqlite(&db)
        .execute_batch("DELETE FROM schema_migrations")
        .unwrap();
    let err = Hub::open_read_only(loc).map(|_| ()).unwrap_err();
    assert!(matches!(err, HubError::NeedsUpgrade { .. }), "{err}");
    let n: i64 = sqlite(&db)
        .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0, "nothing was migrated");
}
