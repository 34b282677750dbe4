//! Start-up chores shared by `serve` and the CLI: the first admin.

use crate::api::users::{NewUser, insert_user};
use crate::auth::password::hash_blocking;
use crate::auth::tokens::random_token;
use crate::db::{self, Db};
use crate::domain::{AccountRole, accounts};

/// Creates an admin; errors name the broken rule.
pub fn create_admin(db: &Db, email: &str, name: &str, password: &str) -> anyhow::Result<()> {
    let problems: Vec<String> = [
        accounts::email_problem("email", email),
        accounts::text_problem("name", name, accounts::NAME_MAX_CHARS),
        accounts::password_problem(password, email),
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
        insert_user(
            conn,
            None,
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
/// configured email and password, or with a generated password that is
/// printed once to the log.
pub fn first_admin(db: &Db, email: Option<&str>, password: Option<&str>) -> anyhow::Result<()> {
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
            create_admin(db, email, "Administrator", &generated)?;
            // Printed once, on purpose: there is no other way in.
            tracing::warn!(email, password = %generated, "created the first admin with a generated password; change it");
        }
    }
    Ok(())
}
