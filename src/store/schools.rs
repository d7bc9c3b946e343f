//! The schools table: listing, adding and renaming the schools of a trust's deployment
//! (`kidsearch school …`, the trust admin's pages). What a school id and a scope are is
//! `crate::schools`.

use crate::args;
use crate::schools::SchoolId;
use crate::store::{DbError, Row, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    pub id: SchoolId,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SchoolError {
    #[error("a school's name must be 1 to 80 characters on one line")]
    BadName,
    #[error("there is already a school named {0:?}")]
    Exists(String),
    #[error("there is no school named {0:?}; `kidsearch school list` shows them")]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn clean(name: &str) -> Result<String, SchoolError> {
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(SchoolError::BadName);
    }
    Ok(name)
}

fn row_to_school(r: &Row) -> Result<School, DbError> {
    Ok(School { id: r.get(0)?, name: r.get(1)? })
}

/// Every school, by name.
pub async fn list(store: &Store) -> Result<Vec<School>, StoreError> {
    store.call(|db| db.query("SELECT id, name FROM schools ORDER BY name, id", &[])?.iter().map(row_to_school).collect()).await
}

pub async fn add(store: &Store, name: &str) -> Result<School, SchoolError> {
    let name = clean(name)?;
    let n = name.clone();
    let id: Option<SchoolId> = store
        .call(move |db| {
            db.query_opt("INSERT INTO schools (name, created_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING RETURNING id", args![n, crate::store::now_ms()])?
                .map(|r| r.get(0))
                .transpose()
        })
        .await?;
    let id = id.ok_or_else(|| SchoolError::Exists(name.clone()))?;
    Ok(School { id, name })
}

pub async fn rename(store: &Store, old: &str, new: &str) -> Result<School, SchoolError> {
    let school = by_name(store, old).await?.ok_or_else(|| SchoolError::Unknown(old.to_string()))?;
    let name = clean(new)?;
    let (n, id) = (name.clone(), school.id);
    let changed = store.call(move |db| db.execute("UPDATE schools SET name = ?2 WHERE id = ?1", args![id, n])).await.map_err(|e| match e {
        StoreError::Query(ref m) if m.contains("UNIQUE") || m.contains("unique") || m.contains("duplicate") => SchoolError::Exists(name.clone()),
        other => SchoolError::Store(other),
    })?;
    if changed == 0 {
        return Err(SchoolError::Unknown(old.to_string()));
    }
    Ok(School { id, name })
}

/// The school named `name` (whatever its case).
pub async fn by_name(store: &Store, name: &str) -> Result<Option<School>, StoreError> {
    let name = name.trim().to_string();
    store.call(move |db| db.query_opt("SELECT id, name FROM schools WHERE lower(name) = lower(?1)", args![name])?.as_ref().map(row_to_school).transpose()).await
}

/// Every school's name by id (pages of the trust view).
pub async fn names(store: &Store) -> Result<std::collections::HashMap<SchoolId, String>, StoreError> {
    Ok(list(store).await?.into_iter().map(|s| (s.id, s.name)).collect())
}

/// The school a new staff account joins when none is named: the only one there is.
pub async fn only_school(store: &Store) -> Result<Result<School, Vec<School>>, StoreError> {
    let mut all = list(store).await?;
    Ok(if all.len() == 1 { Ok(all.remove(0)) } else { Err(all) })
}
