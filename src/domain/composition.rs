//! The composition rules checked when a loop is scheduled (ARCHITECTURE.md,
//! "The loop's life"). Every broken rule is reported, not only the first.

use std::collections::{BTreeSet, HashMap};

use uuid::Uuid;

use super::{InterviewRole, ProgramState, Violation};

pub const MIN_VOTING_INTERVIEWS: usize = 3;
pub const MAX_COMPETENCIES_PER_INTERVIEW: usize = 3;

#[derive(Debug, Clone)]
pub struct PlannedInterview {
    pub id: Uuid,
    pub interviewer_id: Uuid,
    pub role: InterviewRole,
    pub competency_ids: Vec<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Composition {
    pub hiring_manager_id: Uuid,
    pub bar_raiser_id: Uuid,
    pub recruiter_id: Uuid,
    /// Where the Bar Raiser stands in the program (issue 17).
    pub bar_raiser_state: ProgramState,
    /// A reverse-shadowed loop's mentor and where they stand: the certified
    /// Bar Raiser holding the veto while a trainee leads the loop.
    pub mentor: Option<(Uuid, ProgramState)>,
    pub required_competency_ids: Vec<Uuid>,
    pub interviews: Vec<PlannedInterview>,
}

/// Every rule the loop breaks, in a stable order; empty when it may be
/// scheduled.
pub fn check(c: &Composition) -> Vec<Violation> {
    let mut v = Vec::new();
    if let Some(problem) =
        super::program::bar_raiser_problem(c.bar_raiser_state, c.mentor.map(|(_, s)| s))
    {
        v.push(problem);
    }
    if let Some((mentor, _)) = c.mentor
        && !c.interviews.iter().any(|i| i.interviewer_id == mentor)
    {
        v.push(Violation::new(
            "mentor_without_interview",
            "mentor_id",
            "the mentor holding the veto holds an interview in the loop",
        ));
    }
    if let Some((mentor, _)) = c.mentor
        && [c.bar_raiser_id, c.hiring_manager_id, c.recruiter_id].contains(&mentor)
    {
        v.push(Violation::new(
            "mentor_in_another_role",
            "mentor_id",
            "the mentor holding the veto is neither the trainee, the hiring manager nor the recruiter",
        ));
    }
    if c.bar_raiser_id == c.hiring_manager_id {
        v.push(Violation::new(
            "bar_raiser_is_hiring_manager",
            "bar_raiser_id",
            "the Bar Raiser cannot be the hiring manager",
        ));
    }
    if c.bar_raiser_id == c.recruiter_id {
        v.push(Violation::new(
            "bar_raiser_is_recruiter",
            "bar_raiser_id",
            "the Bar Raiser cannot be the loop's recruiter",
        ));
    }
    let voting: Vec<&PlannedInterview> = c
        .interviews
        .iter()
        .filter(|i| i.role == InterviewRole::Interviewer)
        .collect();
    if !voting.iter().any(|i| i.interviewer_id == c.bar_raiser_id) {
        v.push(Violation::new(
            "bar_raiser_without_interview",
            "interviews",
            "the Bar Raiser must hold a voting interview in the loop",
        ));
    }
    if voting.len() < MIN_VOTING_INTERVIEWS {
        v.push(Violation::new(
            "too_few_voting_interviews",
            "interviews",
            format!(
                "a loop needs at least {MIN_VOTING_INTERVIEWS} voting interviews, it has {}",
                voting.len()
            ),
        ));
    }
    let mut per_person: HashMap<Uuid, usize> = HashMap::new();
    for i in &c.interviews {
        *per_person.entry(i.interviewer_id).or_default() += 1;
    }
    let mut doubled: Vec<&Uuid> = per_person
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(p, _)| p)
        .collect();
    doubled.sort();
    for person in doubled {
        v.push(Violation::new(
            "duplicate_interviewer",
            format!("interviews[interviewer_id={person}]"),
            "a person may hold at most one interview per loop",
        ));
    }
    for i in &c.interviews {
        let n = i.competency_ids.len();
        if n == 0 || n > MAX_COMPETENCIES_PER_INTERVIEW {
            v.push(Violation::new(
                "interview_competency_count",
                format!("interviews[{}].competency_ids", i.id),
                format!(
                    "an interview covers 1 to {MAX_COMPETENCIES_PER_INTERVIEW} competencies, this one {n}"
                ),
            ));
        }
    }
    let covered: BTreeSet<Uuid> = voting
        .iter()
        .flat_map(|i| i.competency_ids.iter().copied())
        .collect();
    for required in &c.required_competency_ids {
        if !covered.contains(required) {
            v.push(Violation::new(
                "required_competency_uncovered",
                format!("required_competency_ids[{required}]"),
                "no voting interview covers this required competency",
            ));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn interview(n: u128, who: u128, role: InterviewRole, comps: &[u128]) -> PlannedInterview {
        PlannedInterview {
            id: id(1000 + n),
            interviewer_id: id(who),
            role,
            competency_ids: comps.iter().map(|c| id(500 + c)).collect(),
        }
    }

    /// Hiring manager 1, Bar Raiser 2, recruiter 3, interviewers 4..6, shadow 7.
    fn good() -> Composition {
        Composition {
            hiring_manager_id: id(1),
            bar_raiser_id: id(2),
            recruiter_id: id(3),
            bar_raiser_state: ProgramState::Certified,
            mentor: None,
            required_competency_ids: vec![id(501), id(502), id(503)],
            interviews: vec![
                interview(1, 2, InterviewRole::Interviewer, &[1, 2]),
                interview(2, 4, InterviewRole::Interviewer, &[2]),
                interview(3, 5, InterviewRole::Interviewer, &[3]),
                interview(4, 6, InterviewRole::Interviewer, &[1, 2, 3]),
                interview(5, 7, InterviewRole::Shadow, &[1]),
            ],
        }
    }

    fn codes(c: &Composition) -> Vec<&'static str> {
        check(c).into_iter().map(|v| v.code).collect()
    }

    #[test]
    fn a_good_loop_passes() {
        assert!(check(&good()).is_empty());
    }

    #[test]
    fn each_rule_alone() {
        let mut c = good();
        c.bar_raiser_state = ProgramState::Interviewer;
        assert_eq!(codes(&c), ["bar_raiser_not_certified"]);

        let mut c = good();
        c.bar_raiser_state = ProgramState::Lapsed;
        assert_eq!(codes(&c), ["bar_raiser_lapsed"]);

        let mut c = good();
        c.bar_raiser_state = ProgramState::InTraining;
        assert_eq!(codes(&c), ["reverse_shadow_without_mentor"]);
        // A reverse shadow: the trainee leads, a certified mentor holds the veto.
        c.mentor = Some((id(9), ProgramState::Certified));
        assert_eq!(codes(&c), ["mentor_without_interview"]);
        c.mentor = Some((id(4), ProgramState::Certified));
        assert!(codes(&c).is_empty());
        c.mentor = Some((id(4), ProgramState::Lapsed));
        assert_eq!(codes(&c), ["reverse_shadow_without_mentor"]);
        c.mentor = Some((id(2), ProgramState::Certified));
        assert_eq!(codes(&c), ["mentor_in_another_role"]);

        let mut c = good();
        c.hiring_manager_id = id(2);
        assert_eq!(codes(&c), ["bar_raiser_is_hiring_manager"]);

        let mut c = good();
        c.recruiter_id = id(2);
        assert_eq!(codes(&c), ["bar_raiser_is_recruiter"]);

        let mut c = good();
        c.interviews[0].interviewer_id = id(8);
        assert_eq!(codes(&c), ["bar_raiser_without_interview"]);

        let mut c = good();
        c.interviews[0].role = InterviewRole::Shadow;
        c.interviews
            .push(interview(6, 9, InterviewRole::Interviewer, &[1]));
        assert_eq!(codes(&c), ["bar_raiser_without_interview"]);

        let mut c = good();
        c.interviews
            .retain(|i| i.interviewer_id != id(5) && i.interviewer_id != id(6));
        c.required_competency_ids = vec![id(501), id(502)];
        assert_eq!(codes(&c), ["too_few_voting_interviews"]);

        let mut c = good();
        c.interviews[4].interviewer_id = id(4);
        assert_eq!(codes(&c), ["duplicate_interviewer"]);

        let mut c = good();
        c.interviews[1].competency_ids.clear();
        assert_eq!(codes(&c), ["interview_competency_count"]);
        let mut c = good();
        c.interviews[3].competency_ids.push(id(504));
        assert_eq!(codes(&c), ["interview_competency_count"]);

        let mut c = good();
        c.required_competency_ids.push(id(509));
        assert_eq!(codes(&c), ["required_competency_uncovered"]);
    }

    #[test]
    fn a_shadow_covers_nothing() {
        let mut c = good();
        c.required_competency_ids.push(id(508));
        c.interviews[4].competency_ids = vec![id(508)];
        assert_eq!(codes(&c), ["required_competency_uncovered"]);
    }

    #[test]
    fn all_at_once() {
        let c = Composition {
            hiring_manager_id: id(2),
            bar_raiser_id: id(2),
            recruiter_id: id(2),
            bar_raiser_state: ProgramState::Interviewer,
            mentor: None,
            required_competency_ids: vec![id(509)],
            interviews: vec![
                interview(1, 4, InterviewRole::Interviewer, &[]),
                interview(2, 4, InterviewRole::Shadow, &[1, 2, 3, 4]),
            ],
        };
        assert_eq!(
            codes(&c),
            [
                "bar_raiser_not_certified",
                "bar_raiser_is_hiring_manager",
                "bar_raiser_is_recruiter",
                "bar_raiser_without_interview",
                "too_few_voting_interviews",
                "duplicate_interviewer",
                "interview_competency_count",
                "interview_competency_count",
                "required_competency_uncovered",
            ]
        );
    }
}
