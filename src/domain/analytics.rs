//! Process analytics over decided loops: how much a debrief moved people
//! (herding), how each interviewer compares with their panels
//! (calibration), how fast feedback is sealed, and how often the panel as a
//! whole agrees (Krippendorff's α), and how often the write-up amends a
//! quick vote (quick → sealed → debrief).
//!
//! Votes are scored strong_no_hire 1, inclined_not_to_hire 2,
//! inclined_to_hire 3, strong_hire 4. Only decided loops are ever given to
//! these functions, so no figure reflects a loop in flight. Every figure
//! that cannot be computed (no variation, too few loops) is `None`, never 0.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::{AccountRole, Vote, quickvote};

/// Interviewer figures need at least this many decided loops by default.
pub const DEFAULT_MIN_LOOPS: usize = 5;

/// A vote's score, 1 to 4.
pub fn score(v: Vote) -> f64 {
    match v {
        Vote::StrongNoHire => 1.0,
        Vote::InclinedNotToHire => 2.0,
        Vote::InclinedToHire => 3.0,
        Vote::StrongHire => 4.0,
    }
}

/// The vote a score stands for.
pub fn vote_of(score: i32) -> Option<Vote> {
    match score {
        1 => Some(Vote::StrongNoHire),
        2 => Some(Vote::InclinedNotToHire),
        3 => Some(Vote::InclinedToHire),
        4 => Some(Vote::StrongHire),
        _ => None,
    }
}

/// Who reads the organisation's and other interviewers' figures: admins,
/// recruiters and certified Bar Raisers. Everyone reads their own.
pub fn may_read_org(role: AccountRole, bar_raiser_certified: bool) -> bool {
    matches!(role, AccountRole::Admin | AccountRole::Recruiter) || bar_raiser_certified
}

/// Whether a vote is on the hiring side (3–4).
pub fn for_hire(v: Vote) -> bool {
    score(v) >= 3.0
}

/// One voter of a decided loop: a voting, non-excused interview.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Voter {
    pub sealed: Vote,
    /// The blind debrief vote, if one was cast; not casting keeps the
    /// sealed vote.
    pub debrief: Option<Vote>,
    /// The quick vote committed after the interview, before the write-up,
    /// if one was.
    pub quick: Option<Vote>,
}

impl Voter {
    pub fn final_vote(&self) -> Vote {
        self.debrief.unwrap_or(self.sealed)
    }

    pub fn changed(&self) -> bool {
        self.final_vote() != self.sealed
    }

    /// The sealed vote differs from the quick vote (`quickvote::amended`);
    /// false without a quick vote.
    pub fn amended(&self) -> bool {
        quickvote::amended(self.quick, Some(self.sealed)) == Some(true)
    }

    /// The final vote (debrief, else sealed) differs from the quick vote;
    /// false without a quick vote.
    pub fn quick_to_final_changed(&self) -> bool {
        self.quick.is_some_and(|q| q != self.final_vote())
    }
}

/// What a decided loop's metrics are computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopFacts {
    pub voters: Vec<Voter>,
    /// The hiring manager's and the Bar Raiser's own sealed votes, when they
    /// held a voting interview.
    pub hiring_manager_sealed: Option<Vote>,
    pub bar_raiser_sealed: Option<Vote>,
    /// The hiring manager's decision was hire.
    pub decided_hire: bool,
    pub vetoed: bool,
}

impl LoopFacts {
    /// Hired: a hire decision the Bar Raiser did not veto.
    pub fn hired(&self) -> bool {
        self.decided_hire && !self.vetoed
    }
}

/// Herding and outcome figures of one decided loop.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopMetrics {
    pub voters: usize,
    pub changed: usize,
    /// Of those who changed, how many moved strictly closer to the hiring
    /// manager's (Bar Raiser's) sealed vote; `None` when that person cast no
    /// sealed vote.
    pub toward_hiring_manager: Option<usize>,
    pub toward_bar_raiser: Option<usize>,
    pub spread_sealed: Option<f64>,
    pub spread_debrief: Option<f64>,
    /// 1 − spread_debrief / spread_sealed; `None` when the sealed votes did
    /// not vary.
    pub convergence: Option<f64>,
    pub hired: bool,
    pub vetoed: bool,
    /// The Bar Raiser's sealed vote was on the other side of the hiring
    /// manager's decision.
    pub bar_raiser_overruled: Option<bool>,
    /// Voters with a quick vote.
    pub quick_voted: usize,
    /// Of those, how many sealed a different vote (amended it).
    pub amended: usize,
    /// Of those, how many ended (debrief vote, else sealed) on a vote other
    /// than their quick vote.
    pub quick_to_final_changed: usize,
}

/// Population standard deviation; `None` for no values.
pub fn spread(values: &[f64]) -> Option<f64> {
    let m = mean(values)?;
    Some((values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len() as f64).sqrt())
}

pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

fn moved_toward(v: &Voter, target: Vote) -> bool {
    let t = score(target);
    v.changed() && (score(v.final_vote()) - t).abs() < (score(v.sealed) - t).abs()
}

pub fn loop_metrics(f: &LoopFacts) -> LoopMetrics {
    let sealed: Vec<f64> = f.voters.iter().map(|v| score(v.sealed)).collect();
    let debrief: Vec<f64> = f.voters.iter().map(|v| score(v.final_vote())).collect();
    let toward = |target: Option<Vote>| {
        target.map(|t| f.voters.iter().filter(|v| moved_toward(v, t)).count())
    };
    let spread_sealed = spread(&sealed);
    let spread_debrief = spread(&debrief);
    let convergence = match (spread_sealed, spread_debrief) {
        (Some(s), Some(d)) if s > 0.0 => Some(1.0 - d / s),
        _ => None,
    };
    LoopMetrics {
        voters: f.voters.len(),
        changed: f.voters.iter().filter(|v| v.changed()).count(),
        toward_hiring_manager: toward(f.hiring_manager_sealed),
        toward_bar_raiser: toward(f.bar_raiser_sealed),
        spread_sealed,
        spread_debrief,
        convergence,
        hired: f.hired(),
        vetoed: f.vetoed,
        bar_raiser_overruled: f.bar_raiser_sealed.map(|v| for_hire(v) != f.decided_hire),
        quick_voted: f.voters.iter().filter(|v| v.quick.is_some()).count(),
        amended: f.voters.iter().filter(|v| v.amended()).count(),
        quick_to_final_changed: f
            .voters
            .iter()
            .filter(|v| v.quick_to_final_changed())
            .count(),
    }
}

/// One interviewer's part in one decided loop.
#[derive(Debug, Clone, PartialEq)]
pub struct Participation {
    pub own: Voter,
    /// The other voters' sealed votes in that loop.
    /// The mean of the other voters' sealed votes in that loop (scored);
    /// `None` when they voted alone.
    pub others_mean: Option<f64>,
    pub hired: bool,
    /// Hours from the interview's end to the seal.
    pub seal_hours: f64,
    /// Sealed after the feedback was due.
    pub late: bool,
}

/// An interviewer's calibration over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct InterviewerMetrics {
    pub loops: usize,
    /// Fewer than `min_loops` loops: every figure below is `None`.
    pub insufficient_data: bool,
    /// Mean of (own sealed vote − mean of the others' sealed votes).
    pub leniency: Option<f64>,
    /// Share of loops where the side of the sealed vote matched the outcome.
    pub agreement: Option<f64>,
    /// Cohen's κ of the same two-by-two agreement.
    pub kappa: Option<f64>,
    pub change_rate: Option<f64>,
    pub seal_hours_p50: Option<f64>,
    pub seal_hours_p90: Option<f64>,
    pub late_rate: Option<f64>,
    /// Share of loops where they committed a quick vote.
    pub quick_vote_rate: Option<f64>,
    /// Share of their quick-voted loops where the sealed vote differed from
    /// the quick vote; `None` also when they never quick-voted.
    pub amend_rate: Option<f64>,
}

pub fn interviewer_metrics(loops: &[Participation], min_loops: usize) -> InterviewerMetrics {
    let n = loops.len();
    if n < min_loops.max(1) {
        return InterviewerMetrics {
            loops: n,
            insufficient_data: true,
            leniency: None,
            agreement: None,
            kappa: None,
            change_rate: None,
            seal_hours_p50: None,
            seal_hours_p90: None,
            late_rate: None,
            quick_vote_rate: None,
            amend_rate: None,
        };
    }
    let share = |pred: &dyn Fn(&Participation) -> bool| {
        Some(loops.iter().filter(|p| pred(p)).count() as f64 / n as f64)
    };
    let differences: Vec<f64> = loops
        .iter()
        .filter_map(|p| p.others_mean.map(|m| score(p.own.sealed) - m))
        .collect();
    let pairs: Vec<(bool, bool)> = loops
        .iter()
        .map(|p| (for_hire(p.own.sealed), p.hired))
        .collect();
    let hours: Vec<f64> = loops.iter().map(|p| p.seal_hours).collect();
    let quick_voted = loops.iter().filter(|p| p.own.quick.is_some()).count();
    let amended = loops.iter().filter(|p| p.own.amended()).count();
    InterviewerMetrics {
        loops: n,
        insufficient_data: false,
        leniency: mean(&differences),
        agreement: share(&|p| for_hire(p.own.sealed) == p.hired),
        kappa: cohens_kappa(&pairs),
        change_rate: share(&|p| p.own.changed()),
        seal_hours_p50: percentile(&hours, 0.5),
        seal_hours_p90: percentile(&hours, 0.9),
        late_rate: share(&|p| p.late),
        quick_vote_rate: share(&|p| p.own.quick.is_some()),
        amend_rate: (quick_voted > 0).then(|| amended as f64 / quick_voted as f64),
    }
}

/// A mean with its 95 % confidence half-width (normal approximation,
/// 1.96 standard errors); the half-width is `None` below two values.
pub fn mean_with_interval(values: &[f64]) -> Option<(f64, Option<f64>)> {
    let m = mean(values)?;
    if values.len() < 2 {
        return Some((m, None));
    }
    let n = values.len() as f64;
    let sample_var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0);
    Some((m, Some(1.96 * (sample_var / n).sqrt())))
}

/// Upper bounds (hours) of the time-to-seal histogram's bins; the last bin
/// is open.
pub const SEAL_HOUR_BINS: [f64; 6] = [4.0, 8.0, 24.0, 48.0, 72.0, 168.0];

/// How many of `hours` fall in each bin of [`SEAL_HOUR_BINS`], plus one
/// open bin past the last bound.
pub fn histogram(hours: &[f64]) -> Vec<usize> {
    let mut counts = vec![0; SEAL_HOUR_BINS.len() + 1];
    for h in hours {
        let bin = SEAL_HOUR_BINS
            .iter()
            .position(|b| h < b)
            .unwrap_or(SEAL_HOUR_BINS.len());
        counts[bin] += 1;
    }
    counts
}

/// Cohen's κ of two binary raters; `None` when chance agreement is total
/// (both always said the same one thing) or there is nothing to compare.
pub fn cohens_kappa(pairs: &[(bool, bool)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let observed = pairs.iter().filter(|(a, b)| a == b).count() as f64 / n;
    let a_yes = pairs.iter().filter(|(a, _)| *a).count() as f64 / n;
    let b_yes = pairs.iter().filter(|(_, b)| *b).count() as f64 / n;
    let expected = a_yes * b_yes + (1.0 - a_yes) * (1.0 - b_yes);
    if (1.0 - expected).abs() < f64::EPSILON {
        None
    } else {
        Some((observed - expected) / (1.0 - expected))
    }
}

/// The `q` quantile (0–1) by linear interpolation between order statistics
/// (Hyndman and Fan's type 7, the default of R and numpy).
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let at = QuantileAt::of(values.len(), q)?;
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some(at.between(v[at.lo], v[at.hi]))
}

/// Where [`percentile`]'s `q` quantile of `n` values falls among them
/// sorted: between the `lo`-th and the `hi`-th (0-based; `hi` is `lo` or
/// `lo + 1`). The database answers a quantile by reading those one or two
/// values alone (`ORDER BY … LIMIT … OFFSET lo`), and [`QuantileAt::between`]
/// interpolates them as [`percentile`] does, to the same bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantileAt {
    pub lo: usize,
    pub hi: usize,
    h: f64,
}

impl QuantileAt {
    /// `None` when there are no values.
    pub fn of(n: usize, q: f64) -> Option<QuantileAt> {
        if n == 0 {
            return None;
        }
        let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
        Some(QuantileAt {
            lo: h.floor() as usize,
            hi: h.ceil() as usize,
            h,
        })
    }

    /// The quantile from the `lo`-th and `hi`-th sorted values.
    pub fn between(&self, lo_value: f64, hi_value: f64) -> f64 {
        lo_value + (self.h - self.lo as f64) * (hi_value - lo_value)
    }
}

/// The whole UTC days inside `[from, to)`: `Some((first, end))` when at
/// least one day `d` has `first <= d < end`, its midnight at or after
/// `from` and the next midnight at or before `to`. The summary reads those
/// days from the per-day roll-up and only `[from, first)` and `[end, to)`
/// loop by loop.
pub fn whole_days(from: NaiveDateTime, to: NaiveDateTime) -> Option<(NaiveDate, NaiveDate)> {
    let first = if from.time() == NaiveTime::MIN {
        from.date()
    } else {
        from.date().succ_opt()?
    };
    let end = to.date();
    (first < end).then_some((first, end))
}

/// One unit's (or a sum of units') coincidence matrix of Krippendorff's α
/// over the values 1 to 4: `o[c-1][k-1]` counts the ordered pairs of
/// different coders who gave c and k, each unit's pairs weighted by one
/// over its number of values less one. Symmetric. Units add up, so a
/// period's α is computed from the sum of its loops' stored matrices.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Coincidences(pub [[f64; 4]; 4]);

/// The cells of a symmetric 4×4 coincidence matrix's upper triangle, in
/// the order they are stored.
const UPPER_CELLS: [(usize, usize); 10] = [
    (0, 0),
    (0, 1),
    (0, 2),
    (0, 3),
    (1, 1),
    (1, 2),
    (1, 3),
    (2, 2),
    (2, 3),
    (3, 3),
];

impl Coincidences {
    /// A unit's contribution; `None` when it has fewer than two values in
    /// 1–4 (not pairable).
    pub fn of_unit(values: &[u8]) -> Option<Coincidences> {
        let mut counts = [0.0f64; 4];
        for v in values.iter().filter(|v| (1..=4).contains(*v)) {
            counts[usize::from(*v) - 1] += 1.0;
        }
        let m: f64 = counts.iter().sum();
        if m < 2.0 {
            return None;
        }
        let mut o = [[0.0; 4]; 4];
        for (c, nc) in counts.iter().enumerate() {
            for (k, nk) in counts.iter().enumerate() {
                let pairs = if c == k { nc * (nc - 1.0) } else { nc * nk };
                o[c][k] = pairs / (m - 1.0);
            }
        }
        Some(Coincidences(o))
    }

    pub fn add(&mut self, other: &Coincidences) {
        for (row, o) in self.0.iter_mut().zip(other.0.iter()) {
            for (a, b) in row.iter_mut().zip(o.iter()) {
                *a += b;
            }
        }
    }

    /// The upper triangle, row by row: o11 o12 o13 o14 o22 o23 o24 o33 o34 o44.
    pub fn upper(&self) -> [f64; 10] {
        UPPER_CELLS.map(|(c, k)| self.0[c][k])
    }

    /// The matrix from its upper triangle ([`Coincidences::upper`]).
    pub fn from_upper(u: [f64; 10]) -> Coincidences {
        let mut o = [[0.0; 4]; 4];
        for ((c, k), value) in UPPER_CELLS.into_iter().zip(u) {
            o[c][k] = value;
            o[k][c] = value;
        }
        Coincidences(o)
    }

    /// Ordinal α of these coincidences; `None` when no value is pairable
    /// or the values do not vary at all (expected disagreement 0).
    pub fn alpha_ordinal(&self) -> Option<f64> {
        let o = &self.0;
        let marginals: Vec<f64> = o.iter().map(|row| row.iter().sum()).collect();
        let n: f64 = marginals.iter().sum();
        if n <= 1.0 {
            return None;
        }
        // Ordinal distance: (sum of the marginals from c to k − (n_c + n_k)/2)².
        let delta = |c: usize, k: usize| {
            let (lo, hi) = if c <= k { (c, k) } else { (k, c) };
            let between: f64 = marginals[lo..=hi].iter().sum();
            (between - (marginals[lo] + marginals[hi]) / 2.0).powi(2)
        };
        let mut observed = 0.0;
        let mut expected = 0.0;
        for c in 0..4 {
            for k in 0..4 {
                observed += o[c][k] * delta(c, k);
                expected += marginals[c] * marginals[k] * delta(c, k);
            }
        }
        if expected <= 0.0 {
            return None;
        }
        Some(1.0 - (n - 1.0) * observed / expected)
    }
}

/// Krippendorff's α for ordinal data over the values 1 to 4. `units` are
/// the units of analysis (loops), each the values its coders
/// (interviewers) gave, missing cells simply absent; a unit with fewer
/// than two values is not pairable and does not count. `None` when there
/// is no pairable unit or the values do not vary at all.
pub fn krippendorff_alpha_ordinal(units: &[Vec<u8>]) -> Option<f64> {
    let mut o = Coincidences::default();
    for u in units {
        if let Some(c) = Coincidences::of_unit(u) {
            o.add(&c);
        }
    }
    o.alpha_ordinal()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Vote::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-3)
    }

    #[test]
    fn a_debrief_that_moved_three_voters_toward_the_hiring_manager() {
        let sealed = [StrongHire, InclinedToHire, InclinedNotToHire, StrongNoHire];
        let debrief = [
            InclinedToHire,
            InclinedToHire,
            InclinedToHire,
            InclinedNotToHire,
        ];
        let f = LoopFacts {
            voters: sealed
                .iter()
                .zip(debrief)
                .map(|(s, d)| Voter {
                    sealed: *s,
                    debrief: Some(d),
                    quick: None,
                })
                .collect(),
            hiring_manager_sealed: Some(InclinedToHire),
            bar_raiser_sealed: Some(StrongNoHire),
            decided_hire: true,
            vetoed: false,
        };
        let m = loop_metrics(&f);
        assert_eq!(m.changed, 3);
        assert_eq!(m.toward_hiring_manager, Some(3));
        // Toward the Bar Raiser's 1: only 4→3; 2→3 and 1→2 moved away.
        assert_eq!(m.toward_bar_raiser, Some(1));
        assert!(close(m.spread_sealed, 1.118), "{:?}", m.spread_sealed);
        assert!(close(m.spread_debrief, 0.433), "{:?}", m.spread_debrief);
        assert!(close(m.convergence, 1.0 - 0.4330127 / 1.1180340));
        assert!(m.hired);
        assert_eq!(m.bar_raiser_overruled, Some(true));
    }

    #[test]
    fn loop_figures_in_edge_cases() {
        let unanimous = LoopFacts {
            voters: vec![
                Voter {
                    sealed: StrongHire,
                    debrief: None,
                    quick: None,
                };
                3
            ],
            hiring_manager_sealed: None,
            bar_raiser_sealed: Some(StrongHire),
            decided_hire: true,
            vetoed: true,
        };
        let m = loop_metrics(&unanimous);
        assert_eq!(
            (m.changed, m.toward_hiring_manager, m.convergence),
            (0, None, None)
        );
        assert_eq!(m.spread_sealed, Some(0.0));
        assert!(!m.hired && m.vetoed);
        assert_eq!(m.bar_raiser_overruled, Some(false));
        // A vote changed but not closer (same distance on the other side).
        let f = LoopFacts {
            voters: vec![Voter {
                sealed: InclinedNotToHire,
                debrief: Some(StrongHire),
                quick: None,
            }],
            hiring_manager_sealed: Some(InclinedToHire),
            bar_raiser_sealed: None,
            decided_hire: false,
            vetoed: false,
        };
        let m = loop_metrics(&f);
        assert_eq!(
            (m.changed, m.toward_hiring_manager, m.toward_bar_raiser),
            (1, Some(0), None)
        );
        assert_eq!(m.bar_raiser_overruled, None);
    }

    fn part(
        own: Vote,
        debrief: Option<Vote>,
        others: &[Vote],
        hired: bool,
        hours: f64,
        late: bool,
    ) -> Participation {
        Participation {
            own: Voter {
                sealed: own,
                debrief,
                quick: None,
            },
            others_mean: mean(&others.iter().map(|v| score(*v)).collect::<Vec<_>>()),
            hired,
            seal_hours: hours,
            late,
        }
    }

    #[test]
    fn an_interviewer_below_min_loops_has_no_figures() {
        let one = [part(StrongHire, None, &[StrongNoHire], true, 1.0, false)];
        let m = interviewer_metrics(&one, 5);
        assert!(m.insufficient_data);
        assert_eq!(m.loops, 1);
        assert_eq!(
            (m.leniency, m.agreement, m.kappa, m.seal_hours_p50),
            (None, None, None, None)
        );
    }

    #[test]
    fn interviewer_calibration_on_a_hand_computed_fixture() {
        let loops = [
            // own 4 vs others mean 2 → +2; hire side, hired: agree.
            part(
                StrongHire,
                None,
                &[InclinedNotToHire, InclinedNotToHire],
                true,
                2.0,
                false,
            ),
            // own 3 vs 3 → 0; hire side, not hired: disagree; changed.
            part(
                InclinedToHire,
                Some(InclinedNotToHire),
                &[InclinedToHire],
                false,
                10.0,
                true,
            ),
            // own 1 vs mean 1.5 → −0.5; no-hire side, not hired: agree.
            part(
                StrongNoHire,
                None,
                &[StrongNoHire, InclinedNotToHire],
                false,
                4.0,
                false,
            ),
            // own 2 vs 4 → −2; no-hire side, hired: disagree.
            part(InclinedNotToHire, None, &[StrongHire], true, 30.0, true),
            // own 3 vs 3.5 → −0.5; hire side, hired: agree; changed.
            part(
                InclinedToHire,
                Some(StrongHire),
                &[StrongHire, InclinedToHire],
                true,
                6.0,
                false,
            ),
        ];
        let m = interviewer_metrics(&loops, 5);
        assert!(!m.insufficient_data);
        assert!(close(m.leniency, (2.0 + 0.0 - 0.5 - 2.0 - 0.5) / 5.0));
        assert!(close(m.agreement, 0.6));
        // own hire side: T T F F T; hired: T F F T T → po 0.6,
        // pe = 0.6·0.6 + 0.4·0.4 = 0.52, κ = 0.08 / 0.48.
        assert!(close(m.kappa, 0.08 / 0.48), "{:?}", m.kappa);
        assert!(close(m.change_rate, 0.4));
        assert!(close(m.late_rate, 0.4));
        // hours sorted 2 4 6 10 30: p50 6, p90 = 10 + 0.6·20 = 22.
        assert!(close(m.seal_hours_p50, 6.0));
        assert!(close(m.seal_hours_p90, 22.0));
    }

    #[test]
    fn quick_sealed_and_final_votes_of_one_loop() {
        // quick [4, 3, –, 2, 3], sealed [4, 2, 3, 2, 2], debrief
        // [3, –, 3, –, 3] (3 is no change for the third voter).
        let voters = [
            (Some(StrongHire), StrongHire, Some(InclinedToHire)),
            (Some(InclinedToHire), InclinedNotToHire, None),
            (None, InclinedToHire, Some(InclinedToHire)),
            (Some(InclinedNotToHire), InclinedNotToHire, None),
            (
                Some(InclinedToHire),
                InclinedNotToHire,
                Some(InclinedToHire),
            ),
        ];
        let facts = |n: usize| LoopFacts {
            voters: voters[..n]
                .iter()
                .map(|(quick, sealed, debrief)| Voter {
                    sealed: *sealed,
                    debrief: *debrief,
                    quick: *quick,
                })
                .collect(),
            hiring_manager_sealed: None,
            bar_raiser_sealed: None,
            decided_hire: false,
            vetoed: false,
        };
        // The first four: three quick-voted (1, 2, 4); the second sealed
        // 2 over a quick 3 (amended); the first ended on 3 over a quick 4
        // and the second on 2 over 3 (changed from quick to final); the
        // fourth kept 2 throughout.
        let m = loop_metrics(&facts(4));
        assert_eq!(
            (m.voters, m.quick_voted, m.amended, m.quick_to_final_changed),
            (4, 3, 1, 2)
        );
        assert_eq!(m.changed, 1, "only the first voter's debrief vote differs");
        // The fifth amended 3 to 2 at the seal and went back to 3 in the
        // debrief: amended, but ended on the quick vote.
        let m = loop_metrics(&facts(5));
        assert_eq!(
            (m.quick_voted, m.amended, m.quick_to_final_changed),
            (4, 2, 2)
        );
        // No quick vote at all: zero, and nothing amended.
        let none = Voter {
            sealed: StrongNoHire,
            debrief: Some(StrongHire),
            quick: None,
        };
        assert!(!none.amended() && !none.quick_to_final_changed());
        let m = loop_metrics(&LoopFacts {
            voters: vec![none; 3],
            ..facts(0)
        });
        assert_eq!(
            (m.quick_voted, m.amended, m.quick_to_final_changed),
            (0, 0, 0)
        );
    }

    fn quick(mut p: Participation, q: Vote) -> Participation {
        p.own.quick = Some(q);
        p
    }

    #[test]
    fn quick_vote_and_amend_rates_of_an_interviewer() {
        let loops = [
            // Quick 4, sealed 4: not amended.
            quick(
                part(StrongHire, None, &[StrongHire], true, 1.0, false),
                StrongHire,
            ),
            // Quick 3, sealed 2: amended.
            quick(
                part(InclinedNotToHire, None, &[StrongNoHire], false, 2.0, false),
                InclinedToHire,
            ),
            // No quick vote.
            part(InclinedToHire, None, &[InclinedToHire], true, 3.0, false),
            // Quick 1, sealed 1, debrief 2: not amended (the debrief does
            // not amend a quick vote).
            quick(
                part(
                    StrongNoHire,
                    Some(InclinedNotToHire),
                    &[InclinedNotToHire],
                    false,
                    4.0,
                    false,
                ),
                StrongNoHire,
            ),
            // No quick vote.
            part(StrongHire, None, &[InclinedToHire], true, 5.0, false),
        ];
        let m = interviewer_metrics(&loops, 5);
        // 3 of 5 loops quick-voted; 1 of those 3 amended.
        assert!(close(m.quick_vote_rate, 0.6), "{:?}", m.quick_vote_rate);
        assert!(close(m.amend_rate, 1.0 / 3.0), "{:?}", m.amend_rate);
        // Never quick-voted: a rate of 0, and no amend rate to speak of.
        let plain: Vec<Participation> = loops
            .iter()
            .cloned()
            .map(|mut p| {
                p.own.quick = None;
                p
            })
            .collect();
        let m = interviewer_metrics(&plain, 5);
        assert_eq!((m.quick_vote_rate, m.amend_rate), (Some(0.0), None));
        // Below min_loops: both null like every other figure.
        let m = interviewer_metrics(&loops[..2], 5);
        assert!(m.insufficient_data);
        assert_eq!((m.quick_vote_rate, m.amend_rate), (None, None));
    }

    #[test]
    fn scores_and_readers() {
        for v in Vote::ALL {
            assert_eq!(vote_of(score(*v) as i32), Some(*v));
        }
        assert_eq!((vote_of(0), vote_of(5)), (None, None));
        let table = [
            (AccountRole::Admin, false, true),
            (AccountRole::Recruiter, false, true),
            (AccountRole::Member, true, true),
            (AccountRole::Member, false, false),
        ];
        for (role, certified, may) in table {
            assert_eq!(may_read_org(role, certified), may, "{role:?} {certified}");
        }
    }

    #[test]
    fn intervals_and_histograms() {
        assert_eq!(mean_with_interval(&[]), None);
        assert_eq!(mean_with_interval(&[2.0]), Some((2.0, None)));
        // mean 2, sample variance 2/1 over n 2 → se 1 → ±1.96.
        let (m, h) = mean_with_interval(&[1.0, 3.0]).unwrap();
        assert!((m - 2.0).abs() < 1e-12 && h.is_some_and(|h| (h - 1.96).abs() < 1e-12));
        assert_eq!(
            histogram(&[0.0, 3.9, 4.0, 30.0, 200.0, 168.0]),
            vec![2, 1, 0, 1, 0, 0, 2]
        );
    }

    #[test]
    fn kappa_and_percentiles_edge_cases() {
        assert_eq!(cohens_kappa(&[]), None);
        assert_eq!(cohens_kappa(&[(true, true), (true, true)]), None);
        assert!(close(cohens_kappa(&[(true, true), (false, false)]), 1.0));
        assert!(close(cohens_kappa(&[(true, false), (false, true)]), -1.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7.0], 0.9), Some(7.0));
        assert!(close(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5));
    }

    #[test]
    fn krippendorff_alpha_ordinal_on_known_data() {
        // Perfect agreement → 1; no pairable unit or no variation → None.
        assert_eq!(
            krippendorff_alpha_ordinal(&[vec![1, 1], vec![3, 3, 3], vec![4]]),
            Some(1.0)
        );
        assert_eq!(krippendorff_alpha_ordinal(&[vec![2], vec![3]]), None);
        assert_eq!(krippendorff_alpha_ordinal(&[vec![2, 2], vec![2, 2]]), None);
        // Two coders, units (1,2) (2,3) (3,4) (4,1): computed by hand from
        // the coincidence matrix. Each value has n_v = 2, n = 8; every
        // observed pair is counted both ways with weight 1.
        // δ(1,2) = (4 − 2)² = 4 = δ(2,3) = δ(3,4); δ(1,4) = (8 − 2)² = 36;
        // observed Σ o δ = 2·(4 + 4 + 4 + 36) = 96; expected
        // Σ n_c n_k δ = 4·2·(δ12 + δ13 + δ14 + δ23 + δ24 + δ34)
        //            = 8·(4 + 16 + 36 + 4 + 16 + 4) = 640; α = 1 − 7·96/640.
        let alpha = krippendorff_alpha_ordinal(&[vec![1, 2], vec![2, 3], vec![3, 4], vec![4, 1]]);
        assert!(close(alpha, 1.0 - 7.0 * 96.0 / 640.0), "{alpha:?}");
    }

    #[test]
    fn stored_coincidences_add_up_to_the_same_alpha() {
        let units = [
            vec![1, 2, 2],
            vec![2, 3],
            vec![3, 4, 4, 1],
            vec![4],
            vec![2, 2],
        ];
        let mut sum = Coincidences::default();
        for u in &units {
            if let Some(c) = Coincidences::of_unit(u) {
                // What a row stores and reads back.
                sum.add(&Coincidences::from_upper(c.upper()));
            }
        }
        assert_eq!(Coincidences::of_unit(&[4]), None);
        let a = sum.alpha_ordinal().unwrap();
        let b = krippendorff_alpha_ordinal(&units).unwrap();
        assert!((a - b).abs() < 1e-12, "{a} {b}");
        // A unit of two coders who agree on 3: one pair each way, weight 1.
        let c = Coincidences::of_unit(&[3, 3]).unwrap();
        assert_eq!(c.0[2][2], 2.0);
        assert_eq!(c.upper().iter().sum::<f64>(), 2.0);
    }

    #[test]
    fn quantile_from_two_order_statistics_is_percentile_to_the_bit() {
        assert_eq!(QuantileAt::of(0, 0.5), None);
        let one = QuantileAt::of(1, 0.9).unwrap();
        assert_eq!((one.lo, one.hi), (0, 0));
        let four = QuantileAt::of(4, 0.5).unwrap();
        assert_eq!((four.lo, four.hi), (1, 2));
        assert_eq!(four.between(2.0, 3.0), 2.5);
        // Awkward values (thirds of an hour, a negative, repeats) and every
        // length up to 60: reading the two order statistics gives exactly
        // what sorting them all does.
        let mut x = 0.37_f64;
        let mut values = Vec::new();
        for n in 1..=60 {
            x = (x * 7919.0 + 0.113).fract();
            values.push(if n % 11 == 0 {
                -1.0 / 3.0
            } else {
                (x * 400.0).round() / 3.0
            });
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
                let at = QuantileAt::of(values.len(), q).unwrap();
                assert!(at.hi == at.lo || at.hi == at.lo + 1);
                let got = at.between(sorted[at.lo], sorted[at.hi]);
                assert_eq!(got.to_bits(), percentile(&values, q).unwrap().to_bits());
            }
        }
    }

    #[test]
    fn whole_days_of_a_period() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Edges on both sides: the days strictly between.
        assert_eq!(
            whole_days(t("2026-03-01 10:00:00"), t("2026-03-04 09:00:00")),
            Some((d("2026-03-02"), d("2026-03-04")))
        );
        // Midnights are whole days' bounds, with no edge.
        assert_eq!(
            whole_days(t("2026-03-01 00:00:00"), t("2026-03-03 00:00:00")),
            Some((d("2026-03-01"), d("2026-03-03")))
        );
        // Less than one whole day: none.
        assert_eq!(
            whole_days(t("2026-03-01 10:00:00"), t("2026-03-02 09:00:00")),
            None
        );
        assert_eq!(
            whole_days(t("2026-03-01 00:00:00"), t("2026-03-01 23:59:59")),
            None
        );
        assert_eq!(
            whole_days(t("2026-03-01 10:00:00"), t("2026-03-01 11:00:00")),
            None
        );
    }
}
