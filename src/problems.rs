//! The vocabulary of failure: every `code` an error response can carry, and
//! every code of an entry in its `errors` list, each with what it means and
//! what to do about it.
//!
//! A problem's `type` is `{public_url}/problems/{code}`, an absolute URI that
//! answers with this page (`GET /problems/{code}`); the OpenAPI document
//! lists the codes as enums. In debug builds (every test run, the fuzzing
//! and the client checks) an error whose code is not listed here, or listed
//! with another status, panics, so the catalogue cannot drift from the code.

use std::sync::OnceLock;

/// One problem type: a top-level `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemType {
    pub code: &'static str,
    /// The status it comes with; a few codes come with two (for example a
    /// draft is not yours to read, 403, and not sealed for break-glass, 409).
    pub statuses: &'static [u16],
    /// What happened and what the client can do, for people.
    pub about: &'static str,
}

/// One kind of entry in a problem's `errors` list: a broken rule or an
/// invalid field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryCode {
    pub code: &'static str,
    pub about: &'static str,
}

const fn p(code: &'static str, status: u16, about: &'static str) -> ProblemType {
    ProblemType {
        code,
        statuses: status_list(status),
        about,
    }
}

/// A one-status list for each status the catalogue uses.
const fn status_list(status: u16) -> &'static [u16] {
    match status {
        400 => &[400],
        401 => &[401],
        403 => &[403],
        404 => &[404],
        405 => &[405],
        409 => &[409],
        412 => &[412],
        413 => &[413],
        415 => &[415],
        422 => &[422],
        429 => &[429],
        500 => &[500],
        503 => &[503],
        507 => &[507],
        _ => panic!("a status the catalogue does not use"),
    }
}

const fn e(code: &'static str, about: &'static str) -> EntryCode {
    EntryCode { code, about }
}

/// Every top-level code, by status.
#[rustfmt::skip]
pub const PROBLEMS: &[ProblemType] = &[
    // 400
    p("malformed_json", 400, "The body is not valid JSON, or not of the shape the operation takes. Fix the body; retrying it unchanged fails again."),
    p("unreadable_body", 400, "The body could not be read (cut short, or not UTF-8)."),
    p("invalid_idempotency_key", 400, "The `Idempotency-Key` header is empty, too long, or holds characters outside printable ASCII."),
    p("sso_state_mismatch", 400, "The single sign-on callback's `state` names no pending sign-in of this service: unknown, used already, older than ten minutes, or from another issuer. Start the sign-in again (`GET /api/v1/auth/sso/start`)."),
    p("sso_code_invalid", 400, "The code is not good: the provider refused its authorization code (used, expired, or not issued to this service), or the one-time code sent to `POST /api/v1/auth/sso/exchange` is unknown, used already or older than sixty seconds. Sign in again."),
    p("sso_provider_error", 400, "The provider ended the single sign-on without signing you in (it sent `error` to the callback). Start again."),
    // 401
    p("missing_token", 401, "No bearer token was sent. Sign in (`POST /api/v1/auth/login`) or send a service token."),
    p("invalid_token", 401, "The bearer token is malformed, expired, revoked, or of a session that ended (sign-out, password change, deactivation). Refresh or sign in again."),
    p("invalid_credentials", 401, "Wrong email or password, or an inactive account; the answer does not say which."),
    p("invalid_refresh_token", 401, "The refresh token is unknown or revoked. Sign in again."),
    p("refresh_token_expired", 401, "The refresh token ran out. Sign in again."),
    p("refresh_token_reused", 401, "A refresh token was used a second time: its whole family is revoked, since one of the two uses was not yours. Sign in again."),
    p("sso_token_invalid", 401, "The provider's ID token failed validation: its signature (by the issuer's keys), issuer, audience or authorized party is wrong, or it is missing. Nothing was signed in."),
    p("sso_token_expired", 401, "The provider's ID token had expired when it arrived (check the clocks of the provider and this service). Sign in again."),
    p("sso_nonce_mismatch", 401, "The provider's ID token carries another `nonce` than the sign-in asked for: it belongs to another sign-in. Nothing was signed in."),
    // 403
    p("admin_only", 403, "The operation needs an admin."),
    p("account_disabled", 403, "The account is deactivated, so single sign-on does not sign it in; ask an admin."),
    p("sso_email_unverified", 403, "The provider has not verified the identity's email, so it is not linked to an account (an account is linked once, by a verified email). Verify the email at the provider, or ask an admin."),
    p("sso_not_linked", 403, "No account is linked to this identity and none can be: no account has its email (and just-in-time creation is off), or the account with that email is linked to another identity of the issuer. Ask an admin."),
    p("password_signin_disabled", 403, "The password is right, but this account signs in through single sign-on (`BAR_RAISER_PASSWORD_SIGNIN` is `off` or `unlinked-only`). Use `GET /api/v1/auth/sso/start`."),
    p("recruiter_or_admin_only", 403, "The operation needs a recruiter or an admin."),
    p("insufficient_scope", 403, "The service token does not carry the scope this operation needs."),
    p("token_privilege_ceiling", 403, "No service token creates or changes an admin account, makes an admin, or sets a password: do that signed in as an admin."),
    p("not_loop_recruiter", 403, "Only the loop's recruiter or an admin can do this."),
    p("not_the_interviewer", 403, "Only the interview's interviewer can do this."),
    p("not_program_mentor", 403, "Only an admin or a certified Bar Raiser enrols a trainee, and only the certified mentor holding a reverse-shadowed loop's veto signs it off."),
    p("not_program_reader", 403, "Bar Raiser program records are read by admins, recruiters, certified Bar Raisers and the person themself."),
    p("not_voting_participant", 403, "Only voting participants of the loop can do this."),
    p("not_bar_raiser", 403, "Only the loop's Bar Raiser can do this."),
    p("not_hiring_manager", 403, "Only the loop's hiring manager can do this."),
    p("self_assignment", 403, "Nobody puts themselves on an interview or into a loop's deciding roles; ask another recruiter or an admin."),
    p("analytics_not_permitted", 403, "The organisation's analytics are for admins, recruiters and certified Bar Raisers; everyone may read their own (`/analytics/me`)."),
    p("seal_own_feedback_first", 403, "Seal your own feedback in this loop before reading anyone else's: that is the independence rule."),
    p("not_a_participant", 403, "You take no part in this loop."),
    p("break_glass_required", 403, "Admins read sealed feedback of a loop they are not in only through break-glass, with a reason that is logged and told to the Bar Raiser."),
    p("not_until_debrief", 403, "Feedback content opens to you when the debrief opens."),
    ProblemType {
        code: "feedback_not_sealed",
        statuses: &[403, 409],
        about: "This feedback is a draft: only its author can read it (403), and break-glass reads only sealed feedback (409).",
    },
    p("not_loop_auditor", 403, "The loop's audit trail is for its recruiter, its Bar Raiser and admins."),
    p("joined_after_first_seal", 403, "You were put on this loop after its first seal, so others' feedback opens to you at the debrief, not when you seal."),
    // 404
    p("not_found", 404, "No such resource, or one you may not know of; the two are not told apart."),
    p("sso_not_configured", 404, "Single sign-on is off in this deployment: no OpenID provider is configured (`BAR_RAISER_OIDC_ISSUER`). Sign in with email and password."),
    // 405
    p("method_not_allowed", 405, "The path exists but not with this method; the `Allow` header lists the methods it takes."),
    // 409
    p("already_exists", 409, "Something with these unique values exists already."),
    p("already_decided", 409, "The loop's decision is recorded already."),
    p("already_excused", 409, "The interview is excused already."),
    p("already_sealed", 409, "The feedback is sealed: it never changes again (add an addendum instead)."),
    p("candidate_erased", 409, "The candidate was erased; their details cannot change any more."),
    p("candidate_exists", 409, "A candidate with this email exists."),
    p("cannot_demote_self", 409, "An admin cannot demote or deactivate themselves; ask another admin."),
    p("debrief_not_open", 409, "The debrief is not open."),
    p("duplicate_interviewer", 409, "The person already interviews in this loop."),
    p("email_taken", 409, "An account with this email exists."),
    p("feedback_frozen", 409, "The debrief froze the loop's feedback; only addenda can be added."),
    p("feedback_integrity_failed", 409, "A sealed feedback no longer matches the receipt its seal recorded; it is withheld. Tell an admin: the stored row was changed outside the service."),
    p("feedback_outstanding", 409, "The debrief cannot open while voting interviews are neither sealed nor excused; each is listed in `errors`."),
    p("idempotency_in_progress", 409, "A request with this `Idempotency-Key` is still running; retry after it finishes."),
    p("secret_not_replayable", 409, "A retry with the same `Idempotency-Key` after a secret was created: the secret is never shown again. The problem names what was created first."),
    p("content_not_replayable", 409, "A retry with the same `Idempotency-Key` of an answer holding feedback content, which is never stored for replay. Read the resource instead."),
    p("interview_has_feedback", 409, "Feedback was started on the interview, so it cannot change or go."),
    p("interview_not_started", 409, "Feedback is sealed only once the interview has started."),
    p("interview_sealed", 409, "The interview's feedback is sealed; it can no longer be excused or changed."),
    p("not_sealed", 409, "Nothing sealed to act on yet."),
    p("loop_cancelled", 409, "The loop is cancelled."),
    p("loop_final", 409, "The loop is decided or cancelled."),
    p("loop_not_decided", 409, "Analytics cover decided loops only, so no figure reflects a loop in flight; and a reverse shadow is signed off once its loop is decided."),
    p("loop_not_draft", 409, "Only a draft loop can be scheduled."),
    p("loop_not_editable", 409, "The loop is past editing: only `draft` and `scheduled` loops change."),
    p("loop_not_scheduled", 409, "Feedback is written while the loop is `scheduled`."),
    p("program_state", 409, "The person is not in the Bar Raiser program state this step starts from (enrol an `interviewer`, certify one `in_training`, re-activate one `lapsed`); `detail` says where they stand."),
    p("already_signed_off", 409, "The reverse-shadowed loop is signed off already; a sign-off never changes."),
    p("quick_vote_committed", 409, "The interview has its quick vote already; a quick vote never changes (the sealed feedback may differ: that is shown as `amended`)."),
    p("quick_votes_outstanding", 409, "The loop requires quick votes: the debrief cannot open while voting interviews have neither a quick vote nor an excuse; each is listed in `errors`. Excuse the interview, or have the loop's recruiter set `quick_vote` to `optional`."),
    p("name_taken", 409, "A competency with this name exists."),
    p("no_pending_hire", 409, "No hire is waiting for the Bar Raiser."),
    // 412, 413, 415
    p("precondition_failed", 412, "The resource changed since the version named in `If-Match`; read it again and reapply your change."),
    p("payload_too_large", 413, "The body is over the size limit."),
    p("unsupported_media_type", 415, "Send the body as `application/json`."),
    // 422
    p("validation_failed", 422, "Fields are invalid; each is named in `errors` with what is wrong."),
    p("rules_broken", 422, "The request breaks rules (a loop's composition, a step of the Bar Raiser program); each broken rule is listed in `errors` with its code."),
    p("invalid_query", 422, "A query parameter is invalid (a limit out of range, a cursor from elsewhere, a malformed date); `errors` names it."),
    p("recruiter_cannot_interview", 422, "The loop's recruiter, who runs the loop and sees its status, holds no interview or shadow seat in it."),
    p("invalid_body", 422, "The JSON is well-formed but a field has the wrong type or value; `errors` names it."),
    p("quick_vote_off", 422, "This loop takes no quick votes (`quick_vote: off`)."),
    p("quick_vote_too_early", 422, "A quick vote opens when the interview ends; `detail` says when."),
    p("quick_vote_closed", 422, "The quick-vote window after the interview has passed (`BAR_RAISER_QUICK_VOTE_WINDOW_MINUTES`, default 60); write and seal the feedback instead."),
    p("idempotency_key_reused", 422, "This `Idempotency-Key` was used for another request; use a new key per request."),
    // 429
    p("too_many_requests", 429, "Too many attempts; wait `Retry-After` seconds."),
    // 5xx
    p("internal_error", 500, "Something failed inside the service; it is logged with its cause. Retrying may help."),
    p("unavailable", 503, "The database does not answer for now; retry."),
    p("overloaded", 503, "More work is waiting than the server queues; retry after `Retry-After` seconds."),
    p("insufficient_storage", 507, "The database cannot store anything more for now (disk full). Nothing was changed."),
];

/// Every code of an entry in `errors`.
#[rustfmt::skip]
pub const ENTRIES: &[EntryCode] = &[
    e("required", "A required field is missing or empty."),
    e("too_long", "The text is over its length limit."),
    e("text_too_long", "A feedback text is over its length limit."),
    e("too_many", "The list has more items than allowed."),
    e("invalid_characters", "The text holds control or other characters that are not allowed."),
    e("invalid_email", "Not an email address."),
    e("invalid_link", "Not an `http` or `https` URL."),
    e("invalid_url", "The webhook target is not a valid `http(s)` URL."),
    e("target_not_global", "The webhook target resolves to an address that is not global unicast (private, loopback, link-local, …)."),
    e("invalid_secret", "A webhook secret of the wrong form."),
    e("expired", "The date is in the past."),
    e("no_scopes", "A service token needs at least one scope."),
    e("no_event_types", "A webhook needs at least one event type."),
    e("password_too_short", "Passwords have at least 12 characters."),
    e("password_too_long", "The password is over the length limit."),
    e("password_too_common", "The password is on the list of common and breached passwords."),
    e("password_repetitive", "The password is one character or a short pattern repeated."),
    e("password_personal", "The password is built from the person's own name."),
    e("password_is_email", "The password is built from the person's own email."),
    e("recruiter_cannot_interview", "The loop's recruiter holds no seat in it."),
    e("duplicate_interviewer", "The same person holds two interviews in the loop."),
    e("duplicate_rating", "The same competency is rated twice."),
    e("competency_not_assigned", "The competency is not one this interview covers."),
    e("rating_missing", "A competency of the interview has no rating."),
    e("evidence_too_short", "A rating's evidence is shorter than the minimum."),
    e("summary_missing", "The feedback has no summary."),
    e("vote_missing", "The feedback has no vote."),
    e("rationale_required", "A changed debrief vote needs a rationale."),
    e("rationale_too_short", "The rationale is shorter than the minimum."),
    e("interview_open", "A voting interview is neither sealed nor excused."),
    e("interview_not_sealed", "The interview's feedback is not sealed."),
    e("quick_vote_missing", "The loop requires quick votes and the voting interview has none and is not excused."),
    e("interview_competency_count", "An interview covers too few or too many competencies."),
    e("too_few_voting_interviews", "The loop has fewer voting interviews than the rules need."),
    e("bar_raiser_not_certified", "The loop's Bar Raiser is not certified."),
    e("bar_raiser_lapsed", "The loop's Bar Raiser's certification lapsed (no loop served for the configured period); an admin re-activates it."),
    e("reverse_shadow_without_mentor", "The loop's Bar Raiser is in training: they lead a loop only as a reverse shadow, with a certified mentor holding the veto."),
    e("mentor_without_trainee", "A loop names a mentor only when its Bar Raiser is in training."),
    e("mentor_without_interview", "A reverse shadow's mentor holds an interview in the loop."),
    e("mentor_in_another_role", "A reverse shadow's mentor is neither the trainee, the hiring manager nor the recruiter."),
    e("mentor_not_certified", "The named mentor is not a certified Bar Raiser, or is the trainee."),
    e("shadowed_loops_missing", "The trainee has shadowed fewer loops (feedback sealed) than certification needs."),
    e("reverse_shadowed_loops_missing", "The trainee has fewer reverse-shadowed loops signed off as pass than certification needs."),
    e("agreement_below_floor", "The trainee's sealed votes in decided training loops agree with the outcomes less often than the configured floor, or no training loop is decided yet."),
    e("too_short", "The text is shorter than the rule asks (a sign-off's assessment: 100 characters; a re-activation's reason: 20)."),
    e("bar_raiser_load", "A warning, not a refusal: the Bar Raiser served more loops in the last 30 days than configured."),
    e("bar_raiser_is_hiring_manager", "The Bar Raiser cannot be the loop's hiring manager."),
    e("bar_raiser_is_recruiter", "The Bar Raiser cannot be the loop's recruiter."),
    e("bar_raiser_without_interview", "The Bar Raiser holds no interview in the loop."),
    e("required_competency_uncovered", "A required competency is covered by no interview."),
];

pub fn problem(code: &str) -> Option<&'static ProblemType> {
    PROBLEMS.iter().find(|p| p.code == code)
}

pub fn entry(code: &str) -> Option<&'static EntryCode> {
    ENTRIES.iter().find(|e| e.code == code)
}

static BASE: OnceLock<String> = OnceLock::new();

/// Sets the public URL problem types are under, once per process (the
/// configured `BAR_RAISER_PUBLIC_URL`; every app in a process shares it).
pub fn set_base(public_url: &str) {
    let _ = BASE.set(public_url.trim_end_matches('/').to_string());
}

/// The absolute URI of a problem type.
pub fn type_uri(code: &str) -> String {
    let base = BASE.get().map_or("http://127.0.0.1:8080", String::as_str);
    format!("{base}/problems/{code}")
}

/// In debug builds, a code missing from the catalogue (or there with another
/// status) is a bug caught by whichever test produced it.
pub fn check(code: &str, status: u16, entries: impl IntoIterator<Item = Option<String>>) {
    if cfg!(debug_assertions) {
        match problem(code) {
            Some(p) => assert!(
                p.statuses.contains(&status),
                "problem code {code:?} answered with {status}, catalogued as {:?}",
                p.statuses
            ),
            None => panic!("problem code {code:?} ({status}) is not in problems::PROBLEMS"),
        }
        for c in entries.into_iter().flatten() {
            assert!(
                entry(&c).is_some(),
                "entry code {c:?} is not in problems::ENTRIES"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_described() {
        for codes in [
            PROBLEMS.iter().map(|p| p.code).collect::<Vec<_>>(),
            ENTRIES.iter().map(|e| e.code).collect(),
        ] {
            let mut seen = std::collections::HashSet::new();
            for code in codes {
                assert!(
                    code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{code}"
                );
                assert!(seen.insert(code), "{code} listed twice");
            }
        }
        assert!(
            PROBLEMS
                .iter()
                .all(|p| p.about.ends_with('.') || p.about.ends_with(')'))
        );
        assert!(
            PROBLEMS
                .iter()
                .all(|p| p.statuses.iter().all(|s| (400..600).contains(s)))
        );
    }
}
