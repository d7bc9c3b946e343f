//! Pictures frozen with an approval: the re-encoded JPEGs the teacher saw, in the database
//! (`approval_pictures`, both dialects), read when a picture is not in memory — so a frozen
//! page's pictures need no upstream call after a restart, nor on another instance.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;

use crate::args;
use crate::store::Store;

pub struct StoredImages {
    store: Store,
}

impl StoredImages {
    pub fn new(store: Store) -> StoredImages {
        StoredImages { store }
    }

    /// The JPEG frozen under the signed `token` by any approval, if one kept it. A database
    /// that does not answer is "not frozen": the picture is then fetched as on a live page.
    pub async fn get(&self, token: &str) -> Option<Bytes> {
        let token = token.to_string();
        let row = self.store.call(move |db| db.query_opt("SELECT jpeg FROM approval_pictures WHERE token = ?1 LIMIT 1", args![token])).await;
        match row {
            Ok(Some(row)) => row.get::<String>(0).ok().and_then(|b64| STANDARD.decode(b64).ok()).map(Bytes::from),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "could not read a frozen picture; fetching it instead");
                None
            }
        }
    }

    /// Keeps `pictures` (signed token, JPEG) for `approval`, in one transaction.
    pub async fn put(&self, approval: i64, pictures: Vec<(String, Bytes)>) -> Result<(), String> {
        if pictures.is_empty() {
            return Ok(());
        }
        self.store
            .call(move |db| {
                crate::store::transaction(db, |db| {
                    for (token, jpeg) in &pictures {
                        db.execute(
                            "INSERT INTO approval_pictures (approval_id, token, jpeg) VALUES (?1, ?2, ?3) ON CONFLICT (approval_id, token) DO NOTHING",
                            args![approval, token.as_str(), STANDARD.encode(jpeg)],
                        )?;
                    }
                    Ok(())
                })
            })
            .await
            .map_err(|e| e.to_string())
    }
}
