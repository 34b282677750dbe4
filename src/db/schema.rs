//! The one portable diesel schema, valid for SQLite and PostgreSQL alike.
//! Keep it in step with both trees under `migrations/`.

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        email_lower -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        bar_raiser_certified -> Bool,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        session_epoch -> Integer,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    signin_counters (key) {
        key -> Text,
        attempts -> BigInt,
        last_at -> BigInt,
        next_at -> BigInt,
    }
}

diesel::table! {
    competencies (id) {
        id -> Text,
        name -> Text,
        description -> Text,
        retired -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    candidates (id) {
        id -> Text,
        name -> Text,
        email -> Nullable<Text>,
        email_lower -> Nullable<Text>,
        phone -> Nullable<Text>,
        links -> Text,
        notes -> Nullable<Text>,
        erased_at -> Nullable<Timestamp>,
        erased_by -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    loops (id) {
        id -> Text,
        candidate_id -> Text,
        position -> Text,
        level -> Text,
        hiring_manager_id -> Text,
        bar_raiser_id -> Text,
        recruiter_id -> Text,
        feedback_due_hours -> Integer,
        state -> Text,
        cancel_reason -> Nullable<Text>,
        cancelled_at -> Nullable<Timestamp>,
        debrief_opened_at -> Nullable<Timestamp>,
        votes_revealed_at -> Nullable<Timestamp>,
        decision_outcome -> Nullable<Text>,
        decision_rationale -> Nullable<Text>,
        decision_recycle -> Nullable<Bool>,
        decided_by -> Nullable<Text>,
        decision_recorded_at -> Nullable<Timestamp>,
        bar_raiser_verdict -> Nullable<Text>,
        veto_rationale -> Nullable<Text>,
        verdict_at -> Nullable<Timestamp>,
        final_outcome -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
        quick_vote -> Text,
        mentor_id -> Nullable<Text>,
    }
}

diesel::table! {
    loop_competencies (loop_id, competency_id) {
        loop_id -> Text,
        competency_id -> Text,
    }
}

diesel::table! {
    interviews (id) {
        id -> Text,
        loop_id -> Text,
        interviewer_id -> Text,
        loop_role -> Text,
        starts_at -> Timestamp,
        duration_minutes -> Integer,
        excused_at -> Nullable<Timestamp>,
        excused_by -> Nullable<Text>,
        excuse_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        assigned_at -> Nullable<Timestamp>,
        assigned_by -> Nullable<Text>,
        calendar_sequence -> Integer,
    }
}

diesel::table! {
    interview_competencies (interview_id, competency_id) {
        interview_id -> Text,
        competency_id -> Text,
        position -> Integer,
    }
}

diesel::table! {
    feedback (id) {
        id -> Text,
        interview_id -> Text,
        loop_id -> Text,
        author_id -> Text,
        state -> Text,
        vote -> Nullable<Text>,
        summary -> Nullable<Text>,
        revision -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sealed_at -> Nullable<Timestamp>,
        content_sha256 -> Nullable<Text>,
        receipt_salt -> Nullable<Text>,
    }
}

diesel::table! {
    feedback_ratings (feedback_id, competency_id) {
        feedback_id -> Text,
        competency_id -> Text,
        rating -> Nullable<Integer>,
        evidence -> Nullable<Text>,
    }
}

diesel::table! {
    feedback_addenda (id) {
        id -> Text,
        feedback_id -> Text,
        author_id -> Text,
        text -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    feedback_reads (id) {
        id -> Text,
        feedback_id -> Text,
        loop_id -> Text,
        reader_id -> Text,
        via -> Text,
        reason -> Nullable<Text>,
        read_at -> Timestamp,
    }
}

diesel::table! {
    quick_votes (id) {
        id -> Text,
        interview_id -> Text,
        loop_id -> Text,
        voter_id -> Text,
        vote -> Text,
        committed_at -> Timestamp,
        receipt_salt -> Text,
    }
}

diesel::table! {
    debrief_votes (loop_id, voter_id) {
        loop_id -> Text,
        voter_id -> Text,
        vote -> Text,
        rationale -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        receipt_salt -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (caller, key) {
        caller -> Text,
        key -> Text,
        request_sha256 -> Text,
        status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        locked_until -> Timestamp,
        completed_at -> Nullable<Timestamp>,
        authz -> Nullable<Text>,
        reread_path -> Nullable<Text>,
    }
}

diesel::table! {
    audit_chains (chain) {
        chain -> Text,
        last_seq -> Integer,
        last_hash -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        chain -> Text,
        seq -> Integer,
        actor_id -> Nullable<Text>,
        action -> Text,
        subject_id -> Nullable<Text>,
        payload -> Text,
        created_at -> Timestamp,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        dedupe_key -> Nullable<Text>,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        loop_id -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        candidate_name -> Nullable<Text>,
        calendar -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        name -> Text,
        token_hash -> Text,
        scopes -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        event_types -> Text,
        secret -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        secret_rotated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    analytics_loops (loop_id) {
        loop_id -> Text,
        decided_at -> Timestamp,
        position -> Text,
        hiring_manager_id -> Text,
        bar_raiser_id -> Text,
        decided_hire -> Bool,
        vetoed -> Bool,
        last_interview_end_at -> Nullable<Timestamp>,
        debrief_opened_at -> Nullable<Timestamp>,
        voters -> Integer,
        changed -> Integer,
        toward_hiring_manager -> Nullable<Integer>,
        toward_bar_raiser -> Nullable<Integer>,
        spread_sealed -> Nullable<Double>,
        spread_debrief -> Nullable<Double>,
        convergence -> Nullable<Double>,
        bar_raiser_overruled -> Nullable<Bool>,
        debrief_open_hours -> Nullable<Double>,
        decision_hours -> Nullable<Double>,
        quick_voted -> Integer,
        amended -> Integer,
        quick_to_final_changed -> Integer,
    }
}

diesel::table! {
    analytics_votes (interview_id) {
        interview_id -> Text,
        loop_id -> Text,
        interviewer_id -> Text,
        decided_at -> Timestamp,
        sealed_vote -> Integer,
        debrief_vote -> Nullable<Integer>,
        others_mean -> Nullable<Double>,
        hired -> Bool,
        ended_at -> Timestamp,
        sealed_at -> Timestamp,
        late -> Bool,
        seal_hours -> Double,
        quick_vote -> Nullable<Integer>,
    }
}

diesel::table! {
    analytics_ratings (interview_id, competency_id) {
        interview_id -> Text,
        competency_id -> Text,
        loop_id -> Text,
        decided_at -> Timestamp,
        rating -> Integer,
    }
}

diesel::table! {
    analytics_agreement (loop_id, subject) {
        loop_id -> Text,
        subject -> Text,
        decided_at -> Timestamp,
        pairable -> Integer,
        o11 -> Double,
        o12 -> Double,
        o13 -> Double,
        o14 -> Double,
        o22 -> Double,
        o23 -> Double,
        o24 -> Double,
        o33 -> Double,
        o34 -> Double,
        o44 -> Double,
    }
}

diesel::table! {
    scim_users (user_id) {
        user_id -> Text,
        user_name -> Text,
        user_name_lower -> Text,
        external_id -> Nullable<Text>,
        display_name -> Nullable<Text>,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    scim_groups (id) {
        id -> Text,
        display_name -> Text,
        display_name_lower -> Text,
        external_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    scim_group_members (group_id, user_id) {
        group_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    analytics_agreement_days (day, subject) {
        day -> Date,
        subject -> Text,
        pairable -> Integer,
        o11 -> Double,
        o12 -> Double,
        o13 -> Double,
        o14 -> Double,
        o22 -> Double,
        o23 -> Double,
        o24 -> Double,
        o33 -> Double,
        o34 -> Double,
        o44 -> Double,
    }
}

diesel::table! {
    sso_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_id -> Text,
        linked_at -> Timestamp,
    }
}

diesel::table! {
    sso_logins (state_hash) {
        state_hash -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        client -> Text,
        browser_hash -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    sso_codes (code_hash) {
        code_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(loops -> candidates (candidate_id));
diesel::joinable!(loop_competencies -> loops (loop_id));
diesel::joinable!(loop_competencies -> competencies (competency_id));
diesel::joinable!(interviews -> loops (loop_id));
diesel::joinable!(interviews -> users (interviewer_id));
diesel::joinable!(interview_competencies -> interviews (interview_id));
diesel::joinable!(interview_competencies -> competencies (competency_id));
diesel::joinable!(feedback -> interviews (interview_id));
diesel::joinable!(quick_votes -> interviews (interview_id));
diesel::joinable!(scim_users -> users (user_id));
diesel::joinable!(sso_identities -> users (user_id));
diesel::joinable!(scim_group_members -> scim_groups (group_id));
diesel::joinable!(scim_group_members -> scim_users (user_id));
diesel::joinable!(feedback_ratings -> feedback (feedback_id));
diesel::joinable!(feedback_addenda -> feedback (feedback_id));
diesel::joinable!(audit_events -> audit_chains (chain));
diesel::joinable!(analytics_votes -> analytics_loops (loop_id));

diesel::table! {
    bar_raiser_program (user_id) {
        user_id -> Text,
        state -> Text,
        mentor_id -> Nullable<Text>,
        enrolled_at -> Nullable<Timestamp>,
        certified_at -> Nullable<Timestamp>,
        lapsed_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    bar_raiser_sign_offs (id) {
        id -> Text,
        loop_id -> Text,
        trainee_id -> Text,
        mentor_id -> Text,
        outcome -> Text,
        assessment -> Text,
        signed_at -> Timestamp,
    }
}

diesel::table! {
    view_names_epoch (id) {
        id -> Integer,
        n -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    view_names_epoch,
    bar_raiser_program,
    bar_raiser_sign_offs,
    analytics_agreement,
    analytics_agreement_days,
    analytics_loops,
    analytics_votes,
    analytics_ratings,
    api_tokens,
    settings,
    users,
    refresh_tokens,
    signin_counters,
    competencies,
    candidates,
    loops,
    loop_competencies,
    interviews,
    interview_competencies,
    feedback,
    feedback_ratings,
    feedback_addenda,
    feedback_reads,
    debrief_votes,
    quick_votes,
    scim_users,
    scim_groups,
    scim_group_members,
    sso_identities,
    sso_logins,
    sso_codes,
    audit_chains,
    audit_events,
    outbox,
    idempotency_keys,
    webhooks,
);
