//! Start-up chores shared by `serve` and the CLI: the first admin.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::auth::password::hash_blocking;
use crate::auth::tokens::random_token;
use crate::db::{self, Db};
use crate::domain::{AccountRole, accounts};
use crate::events::By;
use crate::workflows::users::{self, NewUser};

/// Where `serve` writes a generated first-admin password: the working
/// directory, mode 0600.
pub const FIRST_ADMIN_PASSWORD_FILE: &str = "first-admin-password.txt";

/// Creates an admin; errors name the broken rule.
pub fn create_admin(db: &Db, email: &str, name: &str, password: &str) -> anyhow::Result<()> {
    let problems: Vec<String> = [
        accounts::email_problem("email", email),
        accounts::text_problem("name", name, accounts::NAME_MAX_CHARS),
        accounts::password_problem(password, email, name),
    ]
    .into_iter()
    .flatten()
    .map(|v| format!("{}: {}", v.field, v.message))
    .collect();
    if !problems.is_empty() {
        anyhow::bail!("cannot create admin: {}", problems.join("; "));
    }
    let hash = hash_blocking(password)?;
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    db::write_tx(&mut conn, |conn| {
        users::insert(
            conn,
            // The system creates it; an account's creation sends no mail.
            &By {
                actor: None,
                public_url: String::new(),
            },
            NewUser {
                email,
                name,
                password_hash: hash,
                role: AccountRole::Admin,
                bar_raiser_certified: false,
                active: true,
            },
        )
    })
    .map_err(|e| anyhow::anyhow!("cannot create admin: {e}"))?;
    Ok(())
}

/// On a database without users, creates the first admin from the
/// configured email and password, or with a generated password.
///
/// A generated password is written to `secret_file`, created anew with mode
/// 0600 (readable by the service user alone), never to the log: logs are
/// shipped and kept, and in JSON mode a log field is indexed. The log says
/// only where the password is.
pub fn first_admin(
    db: &Db,
    email: Option<&str>,
    password: Option<&str>,
    secret_file: &Path,
) -> anyhow::Result<()> {
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    if db::users::count(&mut conn)? > 0 {
        return Ok(());
    }
    drop(conn);
    let email = email.unwrap_or("admin@localhost.localdomain");
    match password {
        Some(p) => {
            create_admin(db, email, "Administrator", p)?;
            tracing::info!(email, "created the first admin from configuration");
        }
        None => {
            let generated = random_token();
            // The file first: an admin whose password went nowhere would
            // leave no way in.
            write_secret_file(secret_file, &generated)?;
            if let Err(e) = create_admin(db, email, "Administrator", &generated) {
                let _ = std::fs::remove_file(secret_file);
                return Err(e);
            }
            tracing::warn!(
                email,
                file = %secret_file.display(),
                "created the first admin with a generated password, written to this file (mode 0600); sign in, change the password, delete the file"
            );
        }
    }
    Ok(())
}

/// Creates `path` (never overwriting one) readable and writable by this
/// user alone, holding `secret` and a newline.
fn write_secret_file(path: &Path, secret: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| {
        format!(
            "cannot create {} for the first admin's generated password (set BAR_RAISER_ADMIN_PASSWORD, or remove a file left from an earlier start)",
            path.display()
        )
    })?;
    file.write_all(format!("{secret}\n").as_bytes())?;
    file.sync_all()?;
    Ok(())
}
