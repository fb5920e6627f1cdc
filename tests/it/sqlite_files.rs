//! What only the SQLite backend has: the database file, found by default in the working
//! directory or at a relative or absolute `sqlite://` path.

use std::process::Command;

use crate::cli::BINARY;

#[test]
fn migrate_creates_the_default_relative_and_absolute_sqlite_files() {
    let dir = tempfile::tempdir().unwrap();
    let migrate = |env: &[(&str, &str)]| {
        let output = Command::new(BINARY)
            .arg("migrate")
            .current_dir(dir.path())
            .env_clear()
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    migrate(&[]);
    assert!(
        dir.path().join("metax-auth.sqlite3").exists(),
        "default file in the working directory"
    );
    migrate(&[("DATABASE_URL", "sqlite://relative.sqlite3")]);
    assert!(dir.path().join("relative.sqlite3").exists());
    let absolute = dir.path().join("abs.sqlite3");
    let url = format!("sqlite://{}", absolute.display());
    migrate(&[("DATABASE_URL", &url)]);
    assert!(absolute.exists());
    migrate(&[("DATABASE_URL", &url)]);
}
