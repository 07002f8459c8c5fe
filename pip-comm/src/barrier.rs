//! The world barrier: a counter and a generation, with the ranks' usual waiting.
//!
//! # Protocol
//!
//! Two words in the shared block, each on its own lines: `arrived` (how many ranks reached
//! the current round) and `generation` (the round number, which waiters poll).
//!
//! 1. **Arrive.** A rank reads `generation` (acquire): G. Then it adds 1 to `arrived`
//!    (acquire-release: its writes before the barrier travel with the count).
//! 2. **Release.** The rank that brings `arrived` to the world size stores 0 in `arrived`
//!    (relaxed: no rank can arrive for the next round before it sees step 2's new generation,
//!    which this store precedes), then adds 1 to `generation` with `SeqCst` (a release of every
//!    rank's pre-barrier writes, which it acquired through the count; and the waker's half of
//!    the sleep/wake handshake), and wakes every sleeping rank.
//! 3. **Wait.** The others wait until `generation != G` (acquire) with the usual policy (see
//!    [`crate::wait`]): spin, yield, sleep; while yielding or sleeping they drain their
//!    incoming rings, so that a rank still sending eager messages to them before the barrier
//!    never blocks.
//!
//! A rank cannot start round G+1 before every rank left round G: it must see the new
//! generation first, and the generation moves only when everyone has arrived.

use crate::world::SimpleCommunicator;
use crate::Result;
use std::sync::atomic::Ordering;

/// The body of `CommunicatorCollectives::barrier` on a communicator without collective lines
/// (with them it is a collective of the lines, see the `collective` module): the protocol
/// above on the world, a dissemination barrier on a derived communicator.
pub(crate) fn barrier(comm: &SimpleCommunicator) -> Result<()> {
    if !comm.is_world() {
        // A dup or split: a dissemination barrier on the communicator's own context.
        return comm.barrier_p2p();
    }
    let words = &comm.shared().barrier;
    // SYNC(barrier#protocol): step 1: the acquire pairs with the SeqCst generation increment of
    // the previous round; the count is acquire-release, so every rank's writes travel with it
    // to the releaser.
    let generation = words.generation.load(Ordering::Acquire);
    if words.arrived.fetch_add(1, Ordering::AcqRel) + 1 == comm.n {
        words.arrived.store(0, Ordering::Relaxed);
        // SYNC(barrier#protocol): pairs with the acquire loads of waiters, and with sleepers'
        // SeqCst flag.
        words.generation.fetch_add(1, Ordering::SeqCst);
        crate::wait::wake_all(comm.shared());
        return Ok(());
    }
    let moved = || words.generation.load(Ordering::Acquire) != generation;
    let moved_seqcst = || words.generation.load(Ordering::SeqCst) != generation;
    comm.ep.wait_until(
        crate::watchdog::What::Barrier,
        true,
        || moved().then_some(()),
        moved_seqcst,
    )
}
