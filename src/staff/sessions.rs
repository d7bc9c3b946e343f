//! Staff sessions stored server-side in SQLite, behind actix-session's `SessionStore`, so a
//! logout (or an admin) ends a session for real and sessions survive a restart.
//!
//! Reading does not depend on writing: a session's touch (its idle expiry moved on, or a
//! changed state such as a first CSRF token) that the disk refuses is logged and the page is
//! still answered — on a full or read-only disk the DSL can still read the register. Only a
//! new session (signing in) needs the write, and says so in words when it fails.

use std::collections::HashMap;

use crate::args;
use actix_session::storage::{generate_session_key, LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;

use crate::store::{now_ms, Store};

#[derive(Clone)]
pub struct SqliteSessionStore {
    store: Store,
}

impl SqliteSessionStore {
    pub fn new(store: Store) -> Self {
        SqliteSessionStore { store }
    }
}

fn expires(ttl: &Duration) -> i64 {
    now_ms() + ttl.whole_milliseconds() as i64
}

impl SessionStore for SqliteSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let key = session_key.as_ref().to_string();
        let state: Option<String> = self
            .store
            .call(move |db| {
                db.query_opt("SELECT state FROM staff_sessions WHERE key = ?1 AND expires_ms > ?2", args![key, now_ms()])?.map(|r| r.get(0)).transpose()
            })
            .await
            .map_err(|e| LoadError::Other(anyhow::anyhow!(e)))?;
        state.map(|s| serde_json::from_str(&s).map_err(|e| LoadError::Deserialization(anyhow::anyhow!(e)))).transpose()
    }

    async fn save(&self, state: HashMap<String, String>, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let json = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(anyhow::anyhow!(e)))?;
        let key = generate_session_key();
        let (k, until) = (key.as_ref().to_string(), expires(ttl));
        self.store
            .call(move |db| {
                // Expired sessions are swept whenever a new one starts.
                db.execute("DELETE FROM staff_sessions WHERE expires_ms <= ?1", args![now_ms()])?;
                db.execute("INSERT INTO staff_sessions (key, state, expires_ms) VALUES (?1, ?2, ?3)", args![k, json, until])
            })
            .await
            .map_err(|e| SaveError::Other(anyhow::anyhow!(e)))?;
        Ok(key)
    }

    async fn update(&self, session_key: SessionKey, state: HashMap<String, String>, ttl: &Duration) -> Result<SessionKey, UpdateError> {
        let json = serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(anyhow::anyhow!(e)))?;
        let (k, until) = (session_key.as_ref().to_string(), expires(ttl));
        let updated = self
            .store
            .call(move |db| {
                db.execute("UPDATE staff_sessions SET state = ?2, expires_ms = ?3 WHERE key = ?1 AND expires_ms > ?4", args![k, json, until, now_ms()])
            })
            .await;
        let updated = match updated {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "a staff session's change could not be saved; the page is answered anyway");
                return Ok(session_key);
            }
        };
        if updated == 1 {
            Ok(session_key)
        } else {
            // The session was ended meanwhile: start a new one rather than revive it.
            self.save(state, ttl).await.map_err(|e| UpdateError::Other(anyhow::anyhow!(e.to_string())))
        }
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        let (k, until) = (session_key.as_ref().to_string(), expires(ttl));
        if let Err(e) = self.store.call(move |db| db.execute("UPDATE staff_sessions SET expires_ms = ?2 WHERE key = ?1", args![k, until])).await {
            // Not fatal: the session keeps its old expiry.
            tracing::warn!(error = %e, "a staff session's idle expiry could not be moved on; the page is answered anyway");
        }
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let k = session_key.as_ref().to_string();
        self.store.call(move |db| db.execute("DELETE FROM staff_sessions WHERE key = ?1", args![k])).await?;
        Ok(())
    }
}

/// Does the staff session `session_key` still stand for `account` at `generation`: not
/// logged out or expired, the account not removed and its password not changed since? (What
/// every request's session check asks, for an answer that outlives its request: an alert
/// stream.)
pub async fn still_signed_in(store: &Store, session_key: String, account: i64, generation: i64) -> Result<bool, crate::store::StoreError> {
    store
        .call(move |db| {
            let row = db.query_opt(
                "SELECT 1 FROM staff_sessions ss, staff s WHERE ss.key = ?1 AND ss.expires_ms > ?2 AND s.id = ?3 AND s.removed_ms IS NULL AND s.session_generation = ?4",
                args![session_key, now_ms(), account, generation],
            )?;
            Ok(row.is_some())
        })
        .await
}
