//! Row types, one per table, as stored: ids and enum columns typed (see
//! `db::types`), so a row that loads is well-formed. Request and response
//! types live beside their workflows; conversions happen there.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::*;
use super::types::*;
use crate::domain::types::{
    AccountRole, InterviewRole, LoopState, Outcome, ProgramState, QuickVoteMode, ReadVia,
    SignOffOutcome, StoredFeedbackState, Verdict, Vote,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub email_lower: String,
    pub name: String,
    pub password_hash: String,
    pub role: AccountRole,
    pub bar_raiser_certified: bool,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Access tokens of another epoch are refused (see `auth`).
    pub session_epoch: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: RefreshTokenId,
    pub user_id: UserId,
    pub family_id: TokenFamilyId,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = competencies)]
pub struct CompetencyRow {
    pub id: CompetencyId,
    pub name: String,
    pub description: String,
    pub retired: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = candidates)]
pub struct CandidateRow {
    pub id: CandidateId,
    pub name: String,
    pub email: Option<String>,
    pub email_lower: Option<String>,
    pub phone: Option<String>,
    pub links: String,
    pub notes: Option<String>,
    pub erased_at: Option<NaiveDateTime>,
    pub erased_by: Option<UserId>,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = loops)]
pub struct LoopRow {
    pub id: LoopId,
    pub candidate_id: CandidateId,
    pub position: String,
    pub level: String,
    pub hiring_manager_id: UserId,
    pub bar_raiser_id: UserId,
    pub recruiter_id: UserId,
    pub feedback_due_hours: i32,
    pub state: LoopState,
    pub cancel_reason: Option<String>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub debrief_opened_at: Option<NaiveDateTime>,
    pub votes_revealed_at: Option<NaiveDateTime>,
    pub decision_outcome: Option<Outcome>,
    pub decision_rationale: Option<String>,
    pub decision_recycle: Option<bool>,
    pub decided_by: Option<UserId>,
    pub decision_recorded_at: Option<NaiveDateTime>,
    pub bar_raiser_verdict: Option<Verdict>,
    pub veto_rationale: Option<String>,
    pub verdict_at: Option<NaiveDateTime>,
    pub final_outcome: Option<Outcome>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
    pub quick_vote: QuickVoteMode,
    /// A reverse shadow's certified mentor, holding the veto while the
    /// trainee named as `bar_raiser_id` leads the loop.
    pub mentor_id: Option<UserId>,
}

// Deserialize: also read from PostgreSQL's JSON of the row (`db::loops`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Deserialize)]
#[diesel(table_name = interviews)]
pub struct InterviewRow {
    pub id: InterviewId,
    pub loop_id: LoopId,
    pub interviewer_id: UserId,
    pub loop_role: InterviewRole,
    pub starts_at: NaiveDateTime,
    pub duration_minutes: i32,
    pub excused_at: Option<NaiveDateTime>,
    pub excused_by: Option<UserId>,
    pub excuse_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When the current interviewer was put on it (null: at creation).
    pub assigned_at: Option<NaiveDateTime>,
    pub assigned_by: Option<UserId>,
    /// SEQUENCE of the interview's calendar entry (`notify::invite`).
    pub calendar_sequence: i32,
}

// Deserialize: also read from PostgreSQL's JSON of the row (`db::loops`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Deserialize)]
#[diesel(table_name = interview_competencies)]
pub struct InterviewCompetencyRow {
    pub interview_id: InterviewId,
    pub competency_id: CompetencyId,
    pub position: i32,
}

// Deserialize: also read from PostgreSQL's JSON of the row (`db::loops`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Deserialize)]
#[diesel(table_name = feedback)]
pub struct FeedbackRow {
    pub id: FeedbackId,
    pub interview_id: InterviewId,
    pub loop_id: LoopId,
    pub author_id: UserId,
    pub state: StoredFeedbackState,
    pub vote: Option<Vote>,
    pub summary: Option<String>,
    pub revision: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub sealed_at: Option<NaiveDateTime>,
    pub content_sha256: Option<String>,
    /// Mixed into the field-group digests of the seal event; never shown.
    pub receipt_salt: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = feedback_ratings)]
pub struct RatingRow {
    pub feedback_id: FeedbackId,
    pub competency_id: CompetencyId,
    pub rating: Option<i32>,
    pub evidence: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = feedback_addenda)]
pub struct AddendumRow {
    pub id: AddendumId,
    pub feedback_id: FeedbackId,
    pub author_id: UserId,
    pub text: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = feedback_reads)]
pub struct ReadRow {
    pub id: ReadId,
    pub feedback_id: FeedbackId,
    pub loop_id: LoopId,
    pub reader_id: UserId,
    pub via: ReadVia,
    pub reason: Option<String>,
    pub read_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = debrief_votes)]
pub struct DebriefVoteRow {
    pub loop_id: LoopId,
    pub voter_id: UserId,
    pub vote: Vote,
    pub rationale: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Mixed into the vote's receipt in the audit chain; never shown.
    pub receipt_salt: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub id: AuditEventId,
    /// `org` or the loop's id.
    pub chain: String,
    pub seq: i32,
    pub actor_id: Option<UserId>,
    pub action: String,
    /// Whatever the event is about (a loop, a feedback, a user, …).
    pub subject_id: Option<String>,
    pub payload: String,
    pub created_at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub kind: super::outbox::Kind,
    pub dedupe_key: Option<String>,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub loop_id: Option<String>,
    pub status: super::outbox::Status,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    /// The candidate the message is about, filled into the placeholders of
    /// subject and bodies at send time (see `notify::templates::fill`);
    /// erasure rewrites this field alone.
    pub candidate_name: Option<String>,
    /// The calendar invitation the message carries, as JSON
    /// (`notify::invite::Stored`), rendered to iCalendar at send time.
    pub calendar: Option<String>,
}

/// A quick vote: committed once, never changed.
// Deserialize: also read from PostgreSQL's JSON of the row (`db::loops`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Deserialize)]
#[diesel(table_name = quick_votes)]
pub struct QuickVoteRow {
    pub id: QuickVoteId,
    pub interview_id: InterviewId,
    pub loop_id: LoopId,
    pub voter_id: UserId,
    pub vote: Vote,
    pub committed_at: NaiveDateTime,
    pub receipt_salt: String,
}

/// The SCIM view of a provisioned account, as the identity provider last
/// wrote it (see `workflows::scim`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = scim_users, treat_none_as_null = true)]
pub struct ScimUserRow {
    pub user_id: UserId,
    pub user_name: String,
    pub user_name_lower: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A SCIM group: its members map to roles by configuration.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = scim_groups, treat_none_as_null = true)]
pub struct ScimGroupRow {
    pub id: ScimGroupId,
    pub display_name: String,
    pub display_name_lower: String,
    pub external_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A person's place in the Bar Raiser program (issue 17); no row is an
/// interviewer.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = bar_raiser_program)]
#[diesel(treat_none_as_null = true)]
pub struct ProgramRow {
    pub user_id: UserId,
    pub state: ProgramState,
    pub mentor_id: Option<UserId>,
    pub enrolled_at: Option<NaiveDateTime>,
    pub certified_at: Option<NaiveDateTime>,
    pub lapsed_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// A mentor's sign-off of a loop a trainee led as a reverse shadow.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bar_raiser_sign_offs)]
pub struct SignOffRow {
    pub id: SignOffId,
    pub loop_id: LoopId,
    pub trainee_id: UserId,
    pub mentor_id: UserId,
    pub outcome: SignOffOutcome,
    pub assessment: String,
    pub signed_at: NaiveDateTime,
}

/// An account's identity at the single sign-on issuer (see `workflows::sso`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_identities)]
pub struct SsoIdentityRow {
    pub issuer: String,
    pub subject: String,
    pub user_id: UserId,
    pub linked_at: NaiveDateTime,
}

/// A single sign-on on its way through the provider.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_logins)]
pub struct SsoLoginRow {
    pub state_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub client: String,
    /// A browser sign-in's binding: the hash of its cookie's value.
    pub browser_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// A finished single sign-on's one-time code (its hash).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_codes)]
pub struct SsoCodeRow {
    pub code_hash: String,
    pub user_id: UserId,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}
