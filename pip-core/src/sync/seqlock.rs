//! A sequence lock: one writer at a time updates a group of fields, readers take a consistent
//! copy without blocking the writer, retrying when a write overlapped their read. pip-rs uses
//! it where a thread publishes a record that others (possibly another process, reading the
//! memory with `pread`) only observe: the wait board's slots, the steal queue's entries.
//!
//! # Protocol
//!
//! The lock is one 32-bit word, `seq`: even when the fields are stable, odd while a writer is
//! inside. The fields themselves are atomics accessed with `Relaxed` (or plain bytes, for a
//! reader in another process).
//!
//! 1. **Write begin.** The writer moves `seq` from even `s` to `s + 1` with a compare-exchange
//!    (Acquire: a second writer that takes the lock after a first one sees the first's
//!    fields). If `seq` is odd, another writer is inside and [`SeqLock::try_write`] fails:
//!    callers with one writer per slot never see that; callers that can have two (two threads
//!    of one task) skip the write. Then a Release fence, so that a reader who sees any field
//!    written after it also sees the odd `seq` (step 5).
//! 2. **Write fields.** Relaxed stores.
//! 3. **Write end.** `seq = s + 2` (Release: publishes the fields with the even value). Done
//!    when the [`WriteGuard`] is dropped.
//! 4. **Read begin.** The reader loads `seq` (Acquire): odd means a write is in progress; try
//!    again.
//! 5. **Read fields, then validate.** Relaxed loads of the fields, an Acquire fence, then `seq`
//!    again (Relaxed): the copy is consistent if `seq` is unchanged. If the reader saw a field
//!    of a later write, the fence pairs with that write's step-1 fence and the second load sees
//!    that write's odd `seq` (or later), so the copy is rejected.
//!
//! A reader in another process cannot use the atomics; it copies the bytes of the record twice
//! ([`read_bytes`]) and keeps the copy when both copies are equal and `seq` in them is even. A
//! copy made while a writer was between steps 1 and 3 has an odd `seq`, or differs from the
//! other copy because the writer moved on. That test is weaker than step 5 (a write that
//! began and ended between the two copies, writing the same bytes, is invisible), which is
//! harmless when equal bytes mean an equal record.
//!
//! ```
//! use pip_core::sync::atomic::{AtomicU64, Ordering};
//! use pip_core::sync::seqlock::SeqLock;
//!
//! struct Point { lock: SeqLock, x: AtomicU64, y: AtomicU64 }
//! let p = Point { lock: SeqLock::new(), x: AtomicU64::new(0), y: AtomicU64::new(0) };
//! if let Some(_w) = p.lock.try_write() {
//!     p.x.store(3, Ordering::Relaxed);
//!     p.y.store(4, Ordering::Relaxed);
//! } // the write ends here
//! let (x, y) = p.lock.read(8, || (p.x.load(Ordering::Relaxed), p.y.load(Ordering::Relaxed))).unwrap();
//! assert_eq!((x, y), (3, 4));
//! ```

use super::atomic::{fence, AtomicU32, Ordering};

/// The sequence word (`#[repr(transparent)]` over an `AtomicU32`, so it can sit in shared
/// `#[repr(C)]` records that other processes read as bytes).
#[repr(transparent)]
#[derive(Debug, Default)]
pub struct SeqLock {
    seq: AtomicU32,
}

impl SeqLock {
    /// An unlocked sequence lock at 0.
    #[cfg(not(loom))]
    pub const fn new() -> SeqLock {
        SeqLock {
            seq: AtomicU32::new(0),
        }
    }

    /// An unlocked sequence lock at 0.
    #[cfg(loom)]
    pub fn new() -> SeqLock {
        SeqLock {
            seq: AtomicU32::new(0),
        }
    }

    /// The sequence number now (odd while a write is in progress).
    pub fn sequence(&self) -> u32 {
        // SYNC(sync::seqlock#protocol): step 4's load, for callers that only look.
        self.seq.load(Ordering::Acquire)
    }

    /// Steps 1 of the [protocol](self#protocol): starts a write, or `None` when another writer
    /// is inside. The write ends when the guard is dropped.
    pub fn try_write(&self) -> Option<WriteGuard<'_>> {
        // SYNC(sync::seqlock#protocol): step 1, the relaxed look before the claim.
        let s = self.seq.load(Ordering::Relaxed);
        if s % 2 == 1 {
            return None;
        }
        // SYNC(sync::seqlock#protocol): step 1, the claim (acquire: a previous writer's
        // fields happen before ours).
        self.seq
            .compare_exchange(s, s.wrapping_add(1), Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        // SYNC(sync::seqlock#protocol): step 1's fence, paired with the reader's fence in
        // step 5.
        fence(Ordering::Release);
        Some(WriteGuard {
            lock: self,
            end: s.wrapping_add(2),
        })
    }

    /// Step 4: the sequence number a read starts at, or `None` while a write is in progress.
    pub fn read_begin(&self) -> Option<u32> {
        // SYNC(sync::seqlock#protocol): step 4, pairs with the writer's release in step 3.
        let s = self.seq.load(Ordering::Acquire);
        (s % 2 == 0).then_some(s)
    }

    /// Step 5: true if the fields read since [`SeqLock::read_begin`] returned `begin` form a
    /// consistent copy.
    pub fn read_validate(&self, begin: u32) -> bool {
        // SYNC(sync::seqlock#protocol): step 5's fence, paired with the writer's fence in
        // step 1.
        fence(Ordering::Acquire);
        // SYNC(sync::seqlock#protocol): step 5, the second look at `seq`.
        self.seq.load(Ordering::Relaxed) == begin
    }

    /// Reads with `f` (Relaxed loads of the fields) until the copy is consistent, at most
    /// `tries` times (yielding between tries); `None` if every try overlapped a write.
    pub fn read<T>(&self, tries: u32, mut f: impl FnMut() -> T) -> Option<T> {
        for _ in 0..tries {
            if let Some(begin) = self.read_begin() {
                let v = f();
                if self.read_validate(begin) {
                    return Some(v);
                }
            }
            yield_now();
        }
        None
    }
}

/// A write in progress (see [`SeqLock::try_write`]); dropping it ends the write (step 3).
#[derive(Debug)]
#[must_use = "the write ends when the guard is dropped"]
pub struct WriteGuard<'a> {
    lock: &'a SeqLock,
    end: u32,
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        // SYNC(sync::seqlock#protocol): step 3, publishes the fields to readers' step 4.
        self.lock.seq.store(self.end, Ordering::Release);
    }
}

/// Takes a consistent copy of an `N`-byte record that another process writes under a
/// sequence lock whose word is the native-endian `u32` at byte `seq_at` of the record.
/// `copy` fills a buffer with the record's current bytes (a `pread` of a memfd or of
/// `/proc/PID/mem`, say). Tries `tries` times, yielding between tries; `Ok(None)` if the
/// record stayed busy. See the [protocol](self#protocol) for what the test guarantees.
///
/// ```
/// use pip_core::sync::seqlock::read_bytes;
/// let record = [2u8, 0, 0, 0, 42, 0, 0, 0]; // seq 2 (even), then a field
/// let copy = read_bytes::<8>(4, 0, |buf| { buf.copy_from_slice(&record); Ok(()) }).unwrap();
/// assert_eq!(copy, Some(record));
/// let busy = [3u8, 0, 0, 0, 42, 0, 0, 0]; // seq 3: a writer is inside
/// assert_eq!(read_bytes::<8>(4, 0, |buf| { buf.copy_from_slice(&busy); Ok(()) }).unwrap(), None);
/// ```
///
/// # Panics
///
/// If `seq_at + 4 > N`.
pub fn read_bytes<const N: usize>(
    tries: u32,
    seq_at: usize,
    mut copy: impl FnMut(&mut [u8; N]) -> std::io::Result<()>,
) -> std::io::Result<Option<[u8; N]>> {
    assert!(seq_at + 4 <= N, "the sequence word lies outside the record");
    let (mut a, mut b) = ([0u8; N], [0u8; N]);
    for _ in 0..tries {
        copy(&mut a)?;
        copy(&mut b)?;
        let seq = u32::from_ne_bytes(a[seq_at..seq_at + 4].try_into().expect("4 bytes"));
        if a == b && seq % 2 == 0 {
            return Ok(Some(a));
        }
        yield_now();
    }
    Ok(None)
}

#[cfg(not(loom))]
fn yield_now() {
    std::thread::yield_now();
}

#[cfg(loom)]
fn yield_now() {
    loom::thread::yield_now();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::sync::Arc;

    #[test]
    fn one_writer_at_a_time() {
        let l = SeqLock::new();
        let w = l.try_write().unwrap();
        assert!(l.try_write().is_none());
        assert_eq!(l.read_begin(), None);
        assert_eq!(l.sequence(), 1);
        drop(w);
        assert_eq!(l.sequence(), 2);
        assert_eq!(l.read_begin(), Some(2));
        assert!(l.read_validate(2));
    }

    #[test]
    fn a_read_overlapping_a_write_is_refused() {
        let l = SeqLock::new();
        let begin = l.read_begin().unwrap();
        drop(l.try_write().unwrap());
        assert!(!l.read_validate(begin));
        let w = l.try_write().unwrap();
        assert_eq!(l.read(3, || 0), None);
        drop(w);
        assert_eq!(l.read(3, || 5), Some(5));
    }

    #[test]
    fn readers_never_see_a_torn_pair() {
        struct Pair {
            lock: SeqLock,
            a: AtomicU64,
            b: AtomicU64,
        }
        let p = Arc::new(Pair {
            lock: SeqLock::new(),
            a: AtomicU64::new(0),
            b: AtomicU64::new(0),
        });
        let w = {
            let p = p.clone();
            std::thread::spawn(move || {
                for v in 1..=20_000u64 {
                    let _g = p.lock.try_write().expect("one writer");
                    p.a.store(v, Ordering::Relaxed);
                    p.b.store(v, Ordering::Relaxed);
                }
            })
        };
        let mut seen = 0;
        while seen < 20_000 {
            let r = p.lock.read(u32::MAX, || {
                (p.a.load(Ordering::Relaxed), p.b.load(Ordering::Relaxed))
            });
            let (a, b) = r.unwrap();
            assert_eq!(a, b, "torn read");
            seen = a;
        }
        w.join().unwrap();
    }

    #[test]
    fn byte_copies_that_differ_are_retried() {
        let mut n = 0u8;
        let r = read_bytes::<8>(4, 0, |buf| {
            n += 1;
            *buf = [0, 0, 0, 0, n.min(3), 0, 0, 0]; // settles after the third copy
            Ok(())
        })
        .unwrap();
        assert_eq!(r, Some([0, 0, 0, 0, 3, 0, 0, 0]));
        let e = read_bytes::<8>(4, 0, |_| Err(std::io::Error::other("gone")));
        assert!(e.is_err());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::AtomicU64;
    use loom::sync::Arc;

    struct Pair {
        lock: SeqLock,
        a: AtomicU64,
        b: AtomicU64,
    }

    /// A writer writes the pair twice; a reader's accepted copy is never torn, and a copy it
    /// takes after the writer finished is the last write.
    #[test]
    fn loom_seqlock_reads_are_never_torn() {
        loom::model(|| {
            let p = Arc::new(Pair {
                lock: SeqLock::new(),
                a: AtomicU64::new(0),
                b: AtomicU64::new(0),
            });
            let writer = {
                let p = p.clone();
                loom::thread::spawn(move || {
                    for v in 1..=2 {
                        let _g = p.lock.try_write().expect("the only writer");
                        p.a.store(v, Ordering::Relaxed);
                        p.b.store(v, Ordering::Relaxed);
                    }
                })
            };
            let pair = || (p.a.load(Ordering::Relaxed), p.b.load(Ordering::Relaxed));
            if let Some((a, b)) = p.lock.read(2, pair) {
                assert_eq!(a, b, "torn read");
            }
            writer.join().unwrap();
            assert_eq!(p.lock.read(1, pair), Some((2, 2)));
        });
    }

    /// Two writers race for one slot: at most one is inside at a time, and the loser's
    /// attempt changes nothing.
    #[test]
    fn loom_seqlock_writers_exclude_each_other() {
        loom::model(|| {
            let p = Arc::new(Pair {
                lock: SeqLock::new(),
                a: AtomicU64::new(0),
                b: AtomicU64::new(0),
            });
            let writers: Vec<_> = (1..=2u64)
                .map(|v| {
                    let p = p.clone();
                    loom::thread::spawn(move || {
                        if let Some(_g) = p.lock.try_write() {
                            p.a.store(v, Ordering::Relaxed);
                            p.b.store(v, Ordering::Relaxed);
                            true
                        } else {
                            false
                        }
                    })
                })
                .collect();
            let wrote: Vec<bool> = writers.into_iter().map(|w| w.join().unwrap()).collect();
            let (a, b) = p
                .lock
                .read(1, || {
                    (p.a.load(Ordering::Relaxed), p.b.load(Ordering::Relaxed))
                })
                .unwrap();
            assert_eq!(a, b);
            let writes = wrote.iter().filter(|&&w| w).count() as u32;
            assert!(writes >= 1);
            assert_eq!(p.lock.sequence(), 2 * writes);
        });
    }
}
