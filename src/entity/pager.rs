//! The one paging machine: which pages of a list to ask for, and which
//! entries are ready to hand on, in order. Get Many, the dropdowns and the
//! custom field definitions all read their lists through it.
//!
//! amoCRM gives no total; a list ends at a 204 (also for an empty result, and
//! for the page a last full page's `next` link points at), at a page without a
//! `next` link, or at a short or empty page. Pages are numbered, so a long
//! list keeps a few of them in flight at once, which fills the account's
//! request budget instead of waiting a round trip per page; entries are
//! handed on in page order, and the pages asked for past the end answer 204
//! and are dropped.
//!
//! A list that has not ended after `max_pages` pages is cut there, and says
//! so ([`Pager::truncated`]): a server that keeps sending full pages cannot
//! make a caller wait, or hold memory, forever.

use std::collections::BTreeMap;

use crate::entity::page::PageOf;
use crate::query::Query;

/// amoCRM's largest page.
pub const MAX_PAGE_SIZE: usize = 250;

/// Pages of one list in flight at once once it is known to be long. At
/// about 7 requests a second and a few hundred milliseconds per 250-record
/// page, three or four keep the budget busy; more would only add requests
/// past the end.
pub const PAGES_IN_FLIGHT: u32 = 4;

pub struct Pager<T> {
    /// Path and filters, ready for `limit` and `page` to be appended.
    base: String,
    page_size: usize,
    limit: Option<usize>,
    max_pages: u32,
    window: u32,
    emitted: usize,
    next_to_emit: u32,
    requested: u32,
    in_flight: u32,
    /// The last page that exists, once known.
    last_page: Option<u32>,
    /// Pages that arrived ahead of their turn.
    pages: BTreeMap<u32, Vec<T>>,
    /// A full page came back: the list is long, widen the window.
    long: bool,
    done: bool,
    truncated: bool,
}

impl<T> Pager<T> {
    /// A list of `path` with `query`, `limit` entries at most (all when
    /// `None`), in pages of up to `page_size`, at most `max_pages` of them,
    /// `window` pages in flight at most.
    pub fn new(
        path: &str,
        query: &Query,
        page_size: usize,
        limit: Option<usize>,
        max_pages: u32,
        window: u32,
    ) -> Pager<T> {
        let page_size = limit.map_or(page_size, |l| l.min(page_size)).max(1);
        let base = if query.is_empty() {
            format!("{path}?")
        } else {
            format!("{path}?{}&", query.encode())
        };
        Pager {
            base,
            page_size,
            limit,
            max_pages: max_pages.max(1),
            window: window.max(1),
            emitted: 0,
            next_to_emit: 1,
            requested: 0,
            in_flight: 0,
            last_page: None,
            pages: BTreeMap::new(),
            long: false,
            done: false,
            truncated: false,
        }
    }

    /// The pages to ask for now: `(page, path with query)`.
    pub fn requests(&mut self) -> Vec<(u32, String)> {
        let window = match self.limit {
            _ if !self.long => 1,
            // Only as many pages as the limit can need.
            Some(limit) => (limit.div_ceil(self.page_size) as u32).min(self.window),
            None => self.window,
        };
        let needed_pages = self.limit.map(|l| l.div_ceil(self.page_size) as u32);
        let mut out = Vec::new();
        while !self.done
            && self.in_flight < window
            && self.last_page.is_none_or(|last| self.requested < last)
            && needed_pages.is_none_or(|n| self.requested < n)
            && self.requested < self.max_pages
        {
            self.requested += 1;
            self.in_flight += 1;
            out.push((
                self.requested,
                format!("{}limit={}&page={}", self.base, self.page_size, self.requested),
            ));
        }
        out
    }

    /// Page `page` arrived: its entries, or `None` for a 204.
    pub fn on_page(&mut self, page: u32, got: Option<PageOf<T>>) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.done {
            return;
        }
        let entries = match got {
            None => Vec::new(),
            Some(p) => {
                if p.entries.len() < self.page_size || !p.next {
                    self.end_at(page);
                } else {
                    self.long = true;
                    if page >= self.max_pages {
                        // Full, linking further, and the last we may read.
                        self.truncated = true;
                    }
                }
                p.entries
            }
        };
        if entries.is_empty() {
            // 204 or an empty page: the list ended before this page.
            self.end_at(page.saturating_sub(1));
        } else {
            self.pages.insert(page, entries);
        }
    }

    /// Page `page` failed: the list ends here (the caller reports why).
    pub fn on_error(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.done = true;
        self.pages.clear();
    }

    fn end_at(&mut self, page: u32) {
        self.last_page = Some(self.last_page.map_or(page, |l| l.min(page)));
    }

    /// The entries whose turn has come, in order, up to the limit.
    pub fn ready(&mut self) -> Vec<T> {
        let mut out = Vec::new();
        while let Some(entries) = self.pages.remove(&self.next_to_emit) {
            for entry in entries {
                if self.limit.is_some_and(|l| self.emitted >= l) {
                    break;
                }
                out.push(entry);
                self.emitted += 1;
            }
            self.next_to_emit += 1;
        }
        let past_end = self.last_page.is_some_and(|last| self.next_to_emit > last);
        let cut = self.truncated && self.next_to_emit > self.max_pages;
        if past_end || cut || self.limit.is_some_and(|l| self.emitted >= l) {
            self.done = true;
            self.pages.clear();
        }
        out
    }

    /// Nothing more will be handed on.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The list was cut at `max_pages` while amoCRM still linked further.
    pub fn truncated(&self) -> bool {
        self.truncated && self.done
    }

    pub fn max_pages(&self) -> u32 {
        self.max_pages
    }

    /// Entries handed on so far.
    pub fn emitted(&self) -> usize {
        self.emitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves a list of `total` entries, answering the newest request first
    /// (pages arrive out of order); returns the entries and pages asked for.
    fn drain(mut pager: Pager<u64>, total: u64) -> (Vec<u64>, Vec<u32>) {
        let mut out = Vec::new();
        let mut asked = Vec::new();
        let mut queue: Vec<(u32, String)> = pager.requests();
        while let Some((page, url)) = queue.pop() {
            asked.push(page);
            let size: u64 = url
                .split("limit=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let start = (u64::from(page) - 1) * size;
            let got = (start < total).then(|| PageOf {
                entries: (start..(start + size).min(total)).collect(),
                next: start + size <= total,
            });
            pager.on_page(page, got);
            out.extend(pager.ready());
            queue.extend(pager.requests());
        }
        assert!(pager.is_done());
        (out, asked)
    }

    fn pager(limit: Option<usize>, max_pages: u32) -> Pager<u64> {
        Pager::new(
            "/api/v4/leads",
            &Query::new(),
            MAX_PAGE_SIZE,
            limit,
            max_pages,
            PAGES_IN_FLIGHT,
        )
    }

    #[test]
    fn return_all_reads_every_entry_once_in_order() {
        let (out, asked) = drain(pager(None, 50_000), 10_000);
        assert_eq!(out, (0..10_000).collect::<Vec<_>>());
        assert!(
            asked.len() >= 41 && asked.len() <= 40 + PAGES_IN_FLIGHT as usize,
            "{}",
            asked.len()
        );
    }

    #[test]
    fn a_limit_reads_only_the_pages_it_needs() {
        let (out, asked) = drain(pager(Some(30), 50_000), 1_000);
        assert_eq!(out, (0..30).collect::<Vec<_>>());
        assert_eq!(asked, vec![1]);
        let (out, asked) = drain(pager(Some(600), 50_000), 10_000);
        assert_eq!(out.len(), 600);
        assert_eq!(asked.len(), 3);
    }

    #[test]
    fn an_endless_list_is_cut_at_max_pages_and_says_so() {
        let mut p = pager(None, 3);
        let (out, asked) = {
            let mut out = Vec::new();
            let mut asked = Vec::new();
            let mut queue = p.requests();
            while let Some((page, _)) = queue.pop() {
                asked.push(page);
                let start = (u64::from(page) - 1) * 250;
                p.on_page(
                    page,
                    Some(PageOf {
                        entries: (start..start + 250).collect(),
                        next: true,
                    }),
                );
                out.extend(p.ready());
                queue.extend(p.requests());
            }
            (out, asked)
        };
        assert_eq!(out.len(), 750);
        assert_eq!(asked.len(), 3);
        assert!(p.truncated() && p.is_done());
        assert!(!drain(pager(None, 3), 700).0.is_empty());
    }
}
