//! Schools, the tenants of a trust's deployment. Every device, class window, staff account,
//! approval, incident, hidden result and activity row belongs to one; staff see only their
//! school's, and a staff account without a school (a trust-wide admin) sees every school's.
//!
//! A single school's install has exactly one school (id 1, made by the migration) and never
//! needs to know about any of this.
//!
//! The school rows themselves (listing, adding, renaming) are `store::schools`; this leaf holds
//! only the names every module uses to say whose a row is, so the store can use them too.
//!
//! Reads take a `Scope`: `Some(id)` narrows to one school, `None` is the trust-wide view. SQL
//! spells it `(CAST(?N AS BIGINT) IS NULL OR school_id = ?N)`.

pub type SchoolId = i64;

/// The school every row of a single-school install belongs to (and pupils who are not on an
/// enrolled device, when enrolment is off).
pub const DEFAULT_SCHOOL: SchoolId = 1;

/// Which schools a reader may see: one, or (`None`) all of them.
pub type Scope = Option<SchoolId>;
