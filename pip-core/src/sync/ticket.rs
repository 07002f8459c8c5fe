//! A ticket and a count packed into one 64-bit word, so that both change in one atomic step.
//!
//! # Ticket word
//!
//! The high 32 bits are the **ticket**: which round, copy or offer the count belongs to. The
//! low 32 bits are the **count**: chunks left, parties arrived, readers done. An owner starts
//! a round by storing `(ticket, n)` (Release: the round's other fields, written before, are
//! published with it); others change the count with a read-modify-write that also tells them
//! which round they changed, or with a compare-exchange that succeeds only while the ticket is
//! the one they hold. That is what keeps a late party from counting into the next round: a
//! separate ticket word would leave a gap between reading the ticket and changing the count.
//!
//! The count must not wrap: adding to a count of `u32::MAX` would carry into the ticket. The
//! add and subtract helpers check that in debug builds.
//!
//! ```
//! use pip_core::sync::ticket::{AtomicTicket, Ticket};
//! use std::sync::atomic::Ordering;
//!
//! let word = AtomicTicket::new(Ticket::new(0, 0));
//! word.store(Ticket::new(7, 3), Ordering::Release); // round 7: three chunks to claim
//! let before = word.fetch_sub_count(1, Ordering::AcqRel);
//! assert_eq!((before.ticket(), before.count()), (7, 3));
//! assert_eq!(format!("{:?}", word.load(Ordering::Acquire)), "Ticket { ticket: 7, count: 2 }");
//! ```

use super::atomic::{AtomicU64, Ordering};
use std::fmt;

const COUNT_MASK: u64 = 0xffff_ffff;

/// A ticket word's value: `(ticket, count)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ticket(u64);

impl Ticket {
    /// The word of `ticket` with `count`.
    pub const fn new(ticket: u32, count: u32) -> Ticket {
        Ticket(((ticket as u64) << 32) | count as u64)
    }

    /// The word as stored.
    pub const fn from_raw(raw: u64) -> Ticket {
        Ticket(raw)
    }

    /// The word to store.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// The high half.
    pub const fn ticket(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The low half.
    pub const fn count(self) -> u32 {
        (self.0 & COUNT_MASK) as u32
    }

    /// The same ticket with another count.
    pub const fn with_count(self, count: u32) -> Ticket {
        Ticket::new(self.ticket(), count)
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("ticket", &self.ticket())
            .field("count", &self.count())
            .finish()
    }
}

impl From<Ticket> for u64 {
    fn from(t: Ticket) -> u64 {
        t.0
    }
}

/// An atomic [`Ticket`] word (`#[repr(transparent)]` over a 64-bit atomic, so it can sit in
/// `#[repr(C)]` shared blocks).
#[repr(transparent)]
pub struct AtomicTicket(AtomicU64);

impl AtomicTicket {
    /// A word holding `t`.
    #[cfg(not(loom))]
    pub const fn new(t: Ticket) -> AtomicTicket {
        AtomicTicket(AtomicU64::new(t.0))
    }

    /// A word holding `t`.
    #[cfg(loom)]
    pub fn new(t: Ticket) -> AtomicTicket {
        AtomicTicket(AtomicU64::new(t.0))
    }

    /// Loads the word.
    pub fn load(&self, order: Ordering) -> Ticket {
        Ticket(self.0.load(order))
    }

    /// Stores `t`.
    pub fn store(&self, t: Ticket, order: Ordering) {
        self.0.store(t.0, order)
    }

    /// Replaces the word with `new` if it holds `current`; the value it held either way.
    pub fn compare_exchange(
        &self,
        current: Ticket,
        new: Ticket,
        success: Ordering,
        failure: Ordering,
    ) -> Result<Ticket, Ticket> {
        self.0
            .compare_exchange(current.0, new.0, success, failure)
            .map(Ticket)
            .map_err(Ticket)
    }

    /// Like [`AtomicTicket::compare_exchange`], but may fail spuriously (for loops).
    pub fn compare_exchange_weak(
        &self,
        current: Ticket,
        new: Ticket,
        success: Ordering,
        failure: Ordering,
    ) -> Result<Ticket, Ticket> {
        self.0
            .compare_exchange_weak(current.0, new.0, success, failure)
            .map(Ticket)
            .map_err(Ticket)
    }

    /// Adds `n` to the count; the word before. The count must not pass `u32::MAX`.
    pub fn fetch_add_count(&self, n: u32, order: Ordering) -> Ticket {
        let before = Ticket(self.0.fetch_add(u64::from(n), order));
        debug_assert!(
            before.count().checked_add(n).is_some(),
            "ticket word count overflow: {before:?} + {n}"
        );
        before
    }

    /// Subtracts `n` from the count; the word before. The count must be at least `n`.
    pub fn fetch_sub_count(&self, n: u32, order: Ordering) -> Ticket {
        let before = Ticket(self.0.fetch_sub(u64::from(n), order));
        debug_assert!(
            before.count() >= n,
            "ticket word count underflow: {before:?} - {n}"
        );
        before
    }

    /// Sets bits of the word (a flag kept in the count's high bits, say); the word before.
    pub fn fetch_or(&self, bits: Ticket, order: Ordering) -> Ticket {
        Ticket(self.0.fetch_or(bits.0, order))
    }

    /// Takes one from the count if the word holds `ticket` with a count above 0: `Some(count
    /// before)` for the taker, `None` when the ticket moved on or the count is used up. The
    /// claim is Acquire (it pairs with the owner's Release store of the round).
    pub fn claim(&self, ticket: u32) -> Option<u32> {
        // SYNC(sync::ticket#ticket-word): a relaxed first look; the CAS below decides
        let mut cur = self.load(Ordering::Relaxed);
        loop {
            if cur.ticket() != ticket || cur.count() == 0 {
                return None;
            }
            // SYNC(sync::ticket#ticket-word): acquire pairs with the owner's release store
            // of the round; the CAS hands out each unit of the count once.
            match self.compare_exchange_weak(
                cur,
                cur.with_count(cur.count() - 1),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(cur.count()),
                Err(now) => cur = now,
            }
        }
    }
}

impl fmt::Debug for AtomicTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SYNC(sync::ticket#ticket-word): a relaxed first look; the CAS below decides
        self.load(Ordering::Relaxed).fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn packs_and_decodes() {
        let t = Ticket::new(0xdead_beef, 42);
        assert_eq!(t.raw(), 0xdead_beef_0000_002a);
        assert_eq!((t.ticket(), t.count()), (0xdead_beef, 42));
        assert_eq!(Ticket::from_raw(t.raw()), t);
        assert_eq!(t.with_count(1), Ticket::new(0xdead_beef, 1));
        assert_eq!(format!("{t:?}"), "Ticket { ticket: 3735928559, count: 42 }");
    }

    #[test]
    fn claims_stop_at_zero_and_at_a_new_ticket() {
        let w = AtomicTicket::new(Ticket::new(1, 2));
        assert_eq!(w.claim(1), Some(2));
        assert_eq!(w.claim(1), Some(1));
        assert_eq!(w.claim(1), None);
        w.store(Ticket::new(2, 5), Ordering::Release);
        assert_eq!(w.claim(1), None);
        assert_eq!(w.fetch_add_count(1, Ordering::AcqRel), Ticket::new(2, 5));
        assert_eq!(w.load(Ordering::Acquire).count(), 6);
    }

    #[test]
    #[should_panic(expected = "underflow")]
    #[cfg(debug_assertions)]
    fn a_count_below_zero_is_caught() {
        let w = AtomicTicket::new(Ticket::new(1, 0));
        w.fetch_sub_count(1, Ordering::Relaxed);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::AtomicU32;
    use loom::sync::Arc;

    /// A helper claims chunks of round 1 while the owner claims the rest and moves on to
    /// round 2: every chunk of round 1 is claimed once, no claim of round 1 takes a chunk of
    /// round 2, and a helper that claimed sees the round's data (published before the
    /// round's store).
    #[test]
    fn loom_ticket_claims_are_exclusive_and_per_round() {
        loom::model(|| {
            let word = Arc::new(AtomicTicket::new(Ticket::new(0, 0)));
            let data = Arc::new(AtomicU32::new(0));
            let claimed = Arc::new(AtomicU32::new(0));
            data.store(11, Ordering::Relaxed);
            word.store(Ticket::new(1, 2), Ordering::Release);
            let helper = {
                let (word, data, claimed) = (word.clone(), data.clone(), claimed.clone());
                loom::thread::spawn(move || {
                    if let Some(c) = word.claim(1) {
                        assert!(c == 1 || c == 2);
                        assert_eq!(data.load(Ordering::Relaxed), 11);
                        claimed.fetch_or(1 << c, Ordering::Relaxed);
                    }
                })
            };
            // The owner claims what is left of round 1 itself, then starts round 2.
            while let Some(c) = word.claim(1) {
                claimed.fetch_or(1 << c, Ordering::Relaxed);
            }
            word.store(Ticket::new(2, 1), Ordering::Release);
            helper.join().unwrap();
            assert_eq!(claimed.load(Ordering::Relaxed), 0b110, "each chunk once");
            assert_eq!(word.load(Ordering::Acquire), Ticket::new(2, 1));
        });
    }

    /// Parties count themselves done with `fetch_add_count`; the one that completes the count
    /// knows it from the value before, exactly once.
    #[test]
    fn loom_ticket_completion_is_seen_once() {
        loom::model(|| {
            let word = Arc::new(AtomicTicket::new(Ticket::new(3, 0)));
            let last = Arc::new(AtomicU32::new(0));
            let parties: Vec<_> = (0..2)
                .map(|_| {
                    let (word, last) = (word.clone(), last.clone());
                    loom::thread::spawn(move || {
                        let before = word.fetch_add_count(1, Ordering::AcqRel);
                        assert_eq!(before.ticket(), 3);
                        if before.count() + 1 == 2 {
                            last.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            for p in parties {
                p.join().unwrap();
            }
            assert_eq!(last.load(Ordering::Relaxed), 1);
            assert_eq!(word.load(Ordering::Acquire), Ticket::new(3, 2));
        });
    }
}
