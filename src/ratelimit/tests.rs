use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::*;

const SEVEN: Limit = Limit::DEFAULT;

/// Largest number of send times inside any window of `WINDOW_MS`.
fn max_in_window(times: &[f64]) -> usize {
    times
        .iter()
        .map(|&t| times.iter().filter(|&&u| u >= t && u < t + WINDOW_MS).count())
        .max()
        .unwrap_or(0)
}

/// Callers that each want to send at `wanted` times; each asks, and on a
/// wait asks again after it (possibly late, by `late_ms`). Returns the
/// granted send times.
fn simulate(rl: &mut RateLimiter, account: &str, mut wanted: Vec<f64>, late_ms: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut granted = Vec::new();
    let mut asks = 0;
    while !wanted.is_empty() {
        wanted.sort_by(f64::total_cmp);
        let now = wanted.remove(0);
        let wait = rl.acquire(account, now, SEVEN);
        asks += 1;
        if wait == 0.0 {
            granted.push(now);
        } else {
            wanted.push(now + wait + late_ms(asks));
        }
    }
    granted
}

/// Grants at `at` until one is refused; returns how many, and the wait.
fn burst(rl: &mut RateLimiter, account: &str, at: f64) -> (usize, f64) {
    let mut n = 0;
    loop {
        let wait = rl.acquire(account, at, SEVEN);
        if wait > 0.0 {
            return (n, wait);
        }
        n += 1;
    }
}

#[test]
fn sends_are_spaced_evenly_and_never_more_than_the_limit_in_a_window() {
    let mut rl = RateLimiter::default();
    let spacing = (WINDOW_MS + MARGIN_MS) / 7.0;
    let (n, wait) = burst(&mut rl, "a", 0.0);
    assert_eq!(n, 1);
    assert!((wait - spacing).abs() < 1e-9, "{wait}");
    let granted = simulate(&mut rl, "a", vec![0.0; 60], |_| 0.0);
    assert!(max_in_window(&granted) <= 7, "{}", max_in_window(&granted));
    assert!(granted.windows(2).all(|w| w[1] - w[0] >= spacing - 1e-6), "{granted:?}");
}

#[test]
fn concurrent_callers_share_one_budget_per_account_even_when_late() {
    let mut rl = RateLimiter::default();
    // 60 sends wanted at once by several executions; some wake up late.
    let granted = simulate(&mut rl, "acct", vec![0.0; 60], |i| if i % 3 == 0 { 80.0 } else { 0.0 });
    assert_eq!(granted.len(), 60);
    assert!(max_in_window(&granted) <= 7, "{}", max_in_window(&granted));
    assert_eq!(
        rl.acquire("other", 0.0, SEVEN),
        0.0,
        "another account is not slowed down"
    );
}

#[test]
fn throughput_stays_close_to_the_budget() {
    let mut rl = RateLimiter::default();
    let granted = simulate(&mut rl, "a", vec![0.0; 700], |_| 0.0);
    let seconds = granted.last().unwrap() / 1000.0;
    // 700 sends at 7 per (window + margin), the first at once.
    let expected = (700 - 1) as f64 * (WINDOW_MS + MARGIN_MS) / 7.0 / 1000.0;
    assert!(seconds <= expected + 0.001, "{seconds} > {expected}");
}

/// Sends `n` evenly at the rate the limiter grants from `start`; returns the time after.
fn send_for(rl: &mut RateLimiter, account: &str, mut now: f64, n: usize) -> f64 {
    for _ in 0..n {
        loop {
            let wait = rl.acquire(account, now, SEVEN);
            if wait == 0.0 {
                break;
            }
            now += wait;
        }
    }
    now
}

#[test]
fn a_429_when_this_process_filled_the_window_is_jitter_it_pauses_and_widens_the_margin_only() {
    let mut rl = RateLimiter::default();
    let now = send_for(&mut rl, "a", 0.0, 20);
    rl.throttle("a");
    assert_eq!(rl.acquire("a", now, SEVEN), THROTTLE_PAUSE_MS, "paused for a window");
    assert_eq!(rl.acquire("b", now, SEVEN), 0.0, "other accounts are not");
    let state = rl.state("a").unwrap();
    assert_eq!(state.rate, 7.0, "the share is kept");
    assert_eq!(state.margin_ms, MARGIN_MS + MARGIN_STEP_MS);
    assert_eq!((state.throttled, state.shared), (1, 0));
}

#[test]
fn under_the_static_divisor_a_429_after_a_full_share_keeps_the_share_and_widens_the_margin() {
    let mut rl = RateLimiter::default();
    let half = Limit {
        per_second: 7,
        processes: 2,
    };
    let mut now = 0.0;
    for _ in 0..20 {
        loop {
            let wait = rl.acquire("a", now, half);
            if wait == 0.0 {
                break;
            }
            now += wait;
        }
    }
    rl.throttle("a");
    assert_eq!(rl.acquire("a", now, half), THROTTLE_PAUSE_MS);
    let state = rl.state("a").unwrap();
    assert_eq!((state.rate, state.margin_ms), (3.5, MARGIN_MS + MARGIN_STEP_MS));
    assert_eq!((state.throttled, state.shared), (1, 0));
}

/// The budget of an account brought down to half its share by a first 429
/// from others (after two sends at the full share), and the time after.
fn halved() -> (RateLimiter, f64) {
    let mut rl = RateLimiter::default();
    let now = send_for(&mut rl, "a", 0.0, 2);
    rl.throttle("a");
    assert!((rl.acquire("a", now, SEVEN) - SHARE_PAUSE_MS).abs() < 1e-9);
    (rl, now + SHARE_PAUSE_MS)
}

#[test]
fn a_full_share_meeting_others_halves_then_one_request_goes_then_the_even_pace() {
    let (mut rl, resume) = halved();
    let state = rl.state("a").unwrap();
    assert_eq!((state.rate, state.margin_ms, state.shared), (3.5, MARGIN_MS, 1));
    assert_eq!(rl.acquire("a", resume, SEVEN), 0.0);
    // 3 per window widened by the margin: 3.5 would put 4 in some windows.
    // The two sends before the 429 are still in it, so the next waits for
    // the first of them to leave; after that, the even pace.
    let widened = WINDOW_MS + MARGIN_MS;
    let wait = rl.acquire("a", resume, SEVEN);
    assert!(
        (wait - (widened - resume)).abs() < 1e-6,
        "no burst after a pause: {wait}"
    );
    let next = resume + wait;
    assert_eq!(rl.acquire("a", next, SEVEN), 0.0);
    let wait = rl.acquire("a", next, SEVEN);
    assert!((wait - widened / 3.0).abs() < 1e-6, "then evenly: {wait}");
}

#[test]
fn below_its_full_share_a_process_gives_way_by_the_part_of_the_window_it_filled() {
    let (mut big, resume) = halved();
    let (mut small, _) = halved();
    // Both shares near 3.5: one sent 2 in the last second (its third
    // request waits for the window), the other, idle for two seconds, 1.
    let big_now = send_for(&mut big, "a", resume, 3);
    let small_now = send_for(&mut small, "a", resume + 2_000.0, 1);
    let (b0, s0) = (big.state("a").unwrap().rate, small.state("a").unwrap().rate);
    for (rl, now) in [(&mut big, big_now), (&mut small, small_now)] {
        rl.throttle("a");
        rl.acquire("a", now, SEVEN);
    }
    let (b, s) = (big.state("a").unwrap().rate, small.state("a").unwrap().rate);
    assert!((b - b0 * (1.0 - SHARE_GIVE_WAY * 2.0 / 7.0)).abs() < 1e-9, "{b0} → {b}");
    assert!((s - s0 * (1.0 - SHARE_GIVE_WAY / 7.0)).abs() < 1e-9, "{s0} → {s}");
    assert!(b < s);
}

#[test]
fn the_share_grows_back_faster_the_further_below_the_limit_and_never_beyond() {
    let (mut rl, resume) = halved();
    let rate_at = |rl: &mut RateLimiter, t: f64| {
        send_for(rl, "a", t, 1);
        rl.state("a").unwrap().rate
    };
    // From 3.5 (half of 7): SHARE_INCREASE_PER_S a second.
    let after_10s = rate_at(&mut rl, resume + 10_000.0);
    assert!(
        (after_10s - (3.5 + 10.0 * SHARE_INCREASE_PER_S)).abs() < 1e-6,
        "{after_10s}"
    );
    // Near the full rate, a quarter of that.
    let mut rl = RateLimiter::default();
    let now = send_for(&mut rl, "a", 0.0, 1);
    rl.throttle("a");
    rl.acquire("a", now, SEVEN);
    // 7 × 0.5 from the full share; grown for an hour, it is back at 7.
    assert_eq!(rate_at(&mut rl, now + 3_600_000.0), 7.0);
}

#[test]
fn the_share_never_drops_below_the_minimum() {
    let mut rl = RateLimiter::default();
    let mut now = 0.0;
    now = send_for(&mut rl, "a", now, 2);
    for _ in 0..100 {
        // A 429 as each pause ends, before anything else is sent.
        rl.throttle("a");
        rl.acquire("a", now, SEVEN);
        now += SHARE_PAUSE_MS;
    }
    assert_eq!(rl.state("a").unwrap().rate, MIN_RATE);
    // 0.2 a second: one request per five (widened) windows.
    let wait = {
        let sent = send_for(&mut rl, "a", now, 1);
        rl.acquire("a", sent, SEVEN)
    };
    assert!(wait > 4.0 * WINDOW_MS, "{wait}");
}

#[test]
fn the_429s_of_one_burst_count_once() {
    let mut rl = RateLimiter::default();
    let now = send_for(&mut rl, "a", 0.0, 2);
    rl.throttle("a");
    rl.acquire("a", now, SEVEN);
    // More requests of the same burst come back 429 during the pause.
    for t in [20.0, 45.0, 200.0] {
        rl.throttle("a");
        let wait = rl.acquire("a", now + t, SEVEN);
        assert!(
            (wait - (SHARE_PAUSE_MS - t)).abs() < 1e-9,
            "the pause is not extended: {wait}"
        );
    }
    assert_eq!(rl.state("a").unwrap().throttled, 1);
}

#[test]
fn a_jitter_429_widens_the_margin_which_narrows_again_after_clean_sends() {
    let mut rl = RateLimiter::default();
    let now = send_for(&mut rl, "a", 0.0, 10);
    rl.throttle("a");
    let now = send_for(&mut rl, "a", now, 10);
    assert_eq!(rl.state("a").unwrap().margin_ms, MARGIN_MS + MARGIN_STEP_MS);
    let now = send_for(&mut rl, "a", now, RECOVER_AFTER_SENDS as usize);
    let state = rl.state("a").unwrap();
    assert_eq!(
        (state.margin_ms, state.rate),
        (MARGIN_MS, 7.0),
        "back, and the share was never touched"
    );
    // Another at the wider margin is no jitter: the process alone sends 6
    // in amoCRM's window then, so others spend on the account.
    rl.throttle("a");
    let now = send_for(&mut rl, "a", now, 10);
    rl.throttle("a");
    send_for(&mut rl, "a", now, 1);
    let state = rl.state("a").unwrap();
    assert_eq!((state.throttled, state.shared), (3, 1));
    assert_eq!(state.margin_ms, MARGIN_MS);
    // Half the share, grown a little since the pause ended.
    assert!((3.5..3.6).contains(&state.rate), "{}", state.rate);
}

#[test]
fn one_rate_per_account_the_strictest_setting_in_use_wins() {
    let mut rl = RateLimiter::default();
    let three = Limit {
        per_second: 3,
        processes: 1,
    };
    rl.acquire("a", 0.0, SEVEN);
    rl.acquire("a", 1.0, three);
    assert_eq!(rl.state("a").unwrap().rate, 3.0);
    // A caller with 7 does not raise it while the 3 is in use.
    rl.acquire("a", 60_000.0, SEVEN);
    assert_eq!(rl.state("a").unwrap().rate, 3.0);
    // Once the 3 has not been presented for a while, the 7 takes over
    // (and the share climbs to it).
    send_for(&mut rl, "a", 1.0 + LIMIT_MEMORY_MS + 1.0, 1);
    send_for(&mut rl, "a", 1.0 + LIMIT_MEMORY_MS + 3_600_000.0, 1);
    assert_eq!(rl.state("a").unwrap().rate, 7.0);
}

#[test]
fn the_static_divisor_gives_each_process_its_part() {
    let mut rl = RateLimiter::default();
    let shared = Limit {
        per_second: 7,
        processes: 2,
    };
    assert_eq!(rl.acquire("a", 0.0, shared), 0.0);
    assert_eq!(rl.state("a").unwrap().rate, 3.5);
    let mut wanted = vec![0.0; 35];
    let mut granted = Vec::new();
    while let Some(now) = wanted.pop() {
        let wait = rl.acquire("a", now, shared);
        if wait == 0.0 {
            granted.push(now);
        } else {
            wanted.push(now + wait);
        }
        wanted.sort_by(|a, b| b.total_cmp(a));
    }
    assert!(max_in_window(&granted) <= 4, "{}", max_in_window(&granted));
    let last = granted.iter().cloned().fold(0.0, f64::max);
    assert!(
        last >= 34.0 * (WINDOW_MS + MARGIN_MS) / 3.5 - 3.0 * (WINDOW_MS + MARGIN_MS) / 3.5 - 1.0,
        "{last}"
    );
}

// ---------------------------------------------------------------------------
// Processes against one account: amoCRM's window modelled as the emulator
// does it (7 accepted per sliding second, a refused request not counted),
// with network and server delays, and each process's calls running several
// requests at once through its own limiter.

/// A small deterministic generator, so that a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next()
    }
}

#[derive(PartialEq)]
struct Event {
    at: f64,
    seq: u64,
    process: usize,
    slot: usize,
    kind: Kind,
}

#[derive(PartialEq, Clone, Copy)]
enum Kind {
    /// A request of the process asks its limiter.
    Ask,
    /// A granted request reaches amoCRM.
    Arrive,
    /// amoCRM's answer is back: accepted or 429.
    Answer(bool),
}

impl Eq for Event {}

impl Ord for Event {
    fn cmp(&self, other: &Self) -> Ordering {
        other.at.total_cmp(&self.at).then(other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

struct Run {
    requests: usize,
    refused: usize,
    seconds: f64,
    /// Requests done per second over the account's limit.
    share_of_limit: f64,
}

/// `processes` each with `work` requests, `parallel` of them at a time,
/// starting at the given offsets.
fn processes(starts: &[f64], work: usize, parallel: usize, limit: Limit, seed: u64) -> Run {
    processes_with_jitter(starts, work, parallel, limit, seed, 40.0)
}

fn processes_with_jitter(starts: &[f64], work: usize, parallel: usize, limit: Limit, seed: u64, jitter: f64) -> Run {
    workers_sim(starts, work, 0, parallel, limit, seed, jitter)
}

/// Each process sends `work` requests `parallel` at a time (a batch
/// write), then `pages` one after another (Return All: each page's link
/// comes with the one before).
fn workers_sim(
    starts: &[f64],
    work: usize,
    pages: usize,
    parallel: usize,
    limit: Limit,
    seed: u64,
    jitter: f64,
) -> Run {
    let mut rng = Lcg(seed);
    let mut limiters: Vec<RateLimiter> = starts.iter().map(|_| RateLimiter::default()).collect();
    let mut left: Vec<usize> = starts.iter().map(|_| work).collect();
    let mut left_pages: Vec<usize> = starts.iter().map(|_| pages).collect();
    let mut in_flight: Vec<usize> = starts.iter().map(|_| 0).collect();
    let mut done = 0;
    let mut events = BinaryHeap::new();
    let mut seq = 0;
    let mut push = |events: &mut BinaryHeap<Event>, at: f64, process: usize, slot: usize, kind: Kind| {
        seq += 1;
        events.push(Event {
            at,
            seq,
            process,
            slot,
            kind,
        });
    };
    for (p, &start) in starts.iter().enumerate() {
        for slot in 0..parallel {
            push(&mut events, start, p, slot, Kind::Ask);
        }
    }
    let mut accepted: VecDeque<f64> = VecDeque::new();
    let mut buckets: Vec<usize> = Vec::new();
    let (mut requests, mut refused, mut end) = (0, 0, 0.0_f64);
    while let Some(Event {
        at,
        process: p,
        slot,
        kind,
        ..
    }) = events.pop()
    {
        match kind {
            Kind::Ask => {
                // The pages go one at a time, after the writes.
                let paging = left[p] == 0;
                if paging && (left_pages[p] == 0 || slot != 0 || in_flight[p] > 0) {
                    continue;
                }
                let wait = limiters[p].acquire("account", at, limit);
                if wait > 0.0 {
                    // Timers fire late on a busy event loop.
                    let late = rng.between(0.0, 15.0);
                    push(&mut events, at + wait + late, p, slot, Kind::Ask);
                } else {
                    if paging {
                        left_pages[p] -= 1;
                    } else {
                        left[p] -= 1;
                    }
                    in_flight[p] += 1;
                    requests += 1;
                    // n8n's credential lookup and the connection.
                    let on_the_way = rng.between(2.0, jitter);
                    push(&mut events, at + on_the_way, p, slot, Kind::Arrive);
                }
            }
            Kind::Arrive => {
                while accepted.front().is_some_and(|&t| t <= at - WINDOW_MS) {
                    accepted.pop_front();
                }
                let ok = accepted.len() < DEFAULT_PER_SECOND as usize;
                if ok {
                    accepted.push_back(at);
                    let b = (at / 5000.0) as usize;
                    if buckets.len() <= b {
                        buckets.resize(b + 1, 0);
                    }
                    buckets[b] += 1;
                }
                // A 429 is nginx's, at once; a page or batch takes the server a while.
                let answer = if ok {
                    rng.between(40.0, 250.0)
                } else {
                    rng.between(1.0, 5.0)
                };
                push(&mut events, at + answer, p, slot, Kind::Answer(ok));
            }
            Kind::Answer(true) => {
                done += 1;
                in_flight[p] -= 1;
                end = end.max(at);
                if std::env::var("SIM_TRACE").is_ok() && left[p] == 0 {
                    eprintln!(
                        "{at:.0} ms: process {p} has sent everything; rates {:?}",
                        limiters
                            .iter()
                            .map(|l| l.state("account").map(|s| s.rate))
                            .collect::<Vec<_>>()
                    );
                }
                push(&mut events, at, p, slot, Kind::Ask);
                if left[p] == 0 && slot != 0 {
                    // The writes are done: the paging slot goes on.
                    push(&mut events, at, p, 0, Kind::Ask);
                }
            }
            Kind::Answer(false) => {
                refused += 1;
                in_flight[p] -= 1;
                if std::env::var("SIM_TRACE").is_ok() {
                    let st: Vec<String> = limiters
                        .iter()
                        .map(|l| {
                            format!(
                                "{:?}",
                                l.state("account").map(|s| (s.rate, s.margin_ms, s.throttled, s.shared))
                            )
                        })
                        .collect();
                    eprintln!("{:.0} ms: 429 to {p}; {}", at, st.join(" | "));
                }
                limiters[p].throttle("account");
                if left[p] == 0 && left_pages[p] < pages && slot == 0 {
                    left_pages[p] += 1;
                } else {
                    left[p] += 1;
                }
                // The driver's pause before resending a 429.
                push(&mut events, at + 1_000.0, p, slot, Kind::Ask);
            }
        }
    }
    assert_eq!(done, (work + pages) * starts.len());
    if std::env::var("SIM_TRACE").is_ok() {
        eprintln!("accepted per 5 s: {:?}", buckets);
    }
    let seconds = (end - starts.iter().cloned().fold(f64::MAX, f64::min)) / 1000.0;
    Run {
        requests,
        refused,
        seconds,
        share_of_limit: done as f64 / seconds / f64::from(DEFAULT_PER_SECOND),
    }
}

fn report(what: &str, run: &Run) -> String {
    format!(
        "{what}: {} requests, {} × 429 ({:.1} %), {:.1} s, {:.0} % of the account's limit",
        run.requests,
        run.refused,
        100.0 * run.refused as f64 / run.requests as f64,
        run.seconds,
        100.0 * run.share_of_limit
    )
}

#[test]
fn one_process_alone_gets_no_429_and_most_of_the_limit() {
    for seed in 1..=5 {
        let run = processes(&[0.0], 300, 8, SEVEN, seed);
        let said = report("one process", &run);
        assert_eq!(run.refused, 0, "{said}");
        assert!(run.share_of_limit >= 0.85, "{said}");
    }
}

/// Runs every seed, then checks the worst 429 share and throughput of all.
fn converge(what: &str, starts: &[f64], work: usize, limit: Limit, most_429s: f64, least_share: f64) {
    let seeds: Vec<u64> = match std::env::var("SIM_SEED") {
        Ok(s) => vec![s.parse().unwrap()],
        Err(_) => (1..=12).collect(),
    };
    let runs: Vec<Run> = seeds
        .into_iter()
        .map(|seed| processes(starts, work, 8, limit, seed))
        .collect();
    let said: Vec<String> = runs.iter().map(|r| report(what, r)).collect();
    let worst_429 = runs
        .iter()
        .map(|r| r.refused as f64 / r.requests as f64)
        .fold(0.0, f64::max);
    let worst_share = runs.iter().map(|r| r.share_of_limit).fold(f64::MAX, f64::min);
    eprintln!("{}", said.join("\n"));
    eprintln!(
        "{what}: at most {:.1} % 429s, at least {:.0} % of the limit",
        100.0 * worst_429,
        100.0 * worst_share
    );
    assert!(worst_429 <= most_429s, "{}", said.join("\n"));
    assert!(worst_share >= least_share, "{}", said.join("\n"));
}

#[test]
fn one_process_on_a_jittery_machine_loses_little() {
    let runs: Vec<Run> = (1..=12)
        .map(|seed| processes_with_jitter(&[0.0], 500, 8, SEVEN, seed, 150.0))
        .collect();
    let said: Vec<String> = runs.iter().map(|r| report("one process, jitter", r)).collect();
    eprintln!("{}", said.join("\n"));
    let worst_429 = runs
        .iter()
        .map(|r| r.refused as f64 / r.requests as f64)
        .fold(0.0, f64::max);
    let worst_share = runs.iter().map(|r| r.share_of_limit).fold(f64::MAX, f64::min);
    eprintln!(
        "jitter: at most {:.1} % 429s, at least {:.0} % of the limit",
        100.0 * worst_429,
        100.0 * worst_share
    );
    assert!(worst_429 <= 0.015, "{}", said.join("\n"));
    assert!(worst_share >= 0.75, "{}", said.join("\n"));
}

/// The queue-mode suite's scenario: two workers, the second starting up to
/// three seconds later, each sending 200 batch writes 8 at a time and then
/// 40 pages one after another, with up to 80 ms between a grant and the
/// request's arrival (two n8n processes, Postgres and Redis on two cores).
/// The real suite measures it again; this one runs in milliseconds.
#[test]
fn two_workers_as_in_the_queue_suite() {
    let seeds: Vec<u64> = match std::env::var("SIM_SEED") {
        Ok(s) => vec![s.parse().unwrap()],
        Err(_) => (1..=12).collect(),
    };
    let runs: Vec<Run> = seeds
        .into_iter()
        .map(|seed| {
            let stagger = Lcg(seed * 7919).between(0.0, 3_000.0);
            workers_sim(&[0.0, stagger], 200, 40, 8, SEVEN, seed, 80.0)
        })
        .collect();
    let said: Vec<String> = runs.iter().map(|r| report("queue suite", r)).collect();
    eprintln!("{}", said.join("\n"));
    let worst_429 = runs.iter().map(|r| r.refused).max().unwrap();
    let worst_share = runs.iter().map(|r| r.share_of_limit).fold(f64::MAX, f64::min);
    let mean_429 = runs.iter().map(|r| r.refused as f64).sum::<f64>() / runs.len() as f64;
    let mean_share = runs.iter().map(|r| r.share_of_limit).sum::<f64>() / runs.len() as f64;
    eprintln!(
        "queue suite: at most {worst_429} × 429 (mean {mean_429:.1}), at least {:.0} % of the limit (mean {:.0} %)",
        100.0 * worst_share,
        100.0 * mean_share
    );
    // amoCRM bans after repeated 429s: at most 2 % of the requests, and
    // never ten.
    assert!(
        runs.iter()
            .all(|r| r.refused as f64 <= 0.02 * r.requests as f64 && r.refused < 10),
        "{}",
        said.join("\n")
    );
    assert!(mean_share >= 0.74, "{}", said.join("\n"));
}

#[test]
fn two_processes_starting_together_converge_under_the_limit() {
    converge("two processes", &[0.0, 0.0], 240, SEVEN, 0.025, 0.75);
}

#[test]
fn three_processes_one_joining_late_converge_too() {
    converge("three processes", &[0.0, 300.0, 20_000.0], 300, SEVEN, 0.07, 0.75);
}

#[test]
fn with_the_static_divisor_two_processes_see_no_429() {
    let halves = Limit {
        per_second: 7,
        processes: 2,
    };
    for seed in 1..=5 {
        let run = processes(&[0.0, 0.0], 240, 8, halves, seed);
        let said = report("two processes, divisor 2", &run);
        assert_eq!(run.refused, 0, "{said}");
        // 3 + 3 per widened window: 3.5 each would put 8 in some windows.
        assert!(run.share_of_limit >= 0.75, "{said}");
    }
}
