//! Waits in words: the one wording that `pips waits`, its page and pip-comm's deadlock
//! watchdog all print.

use super::{WaitInfo, WaitKind, ANY, NONE, ROOT};

/// A wait in words, as `pips waits` and pip-comm's deadlock watchdog name it: `recv from rank
/// 1, tag 7, context 0`, `barrier of the world (3 ranks)`, `import "x" from the root`, ...
///
/// ```
/// use pip_core::waits::{WaitInfo, WaitKind};
/// let mut w = WaitInfo::new(WaitKind::Recv);
/// (w.peer, w.tag) = (1, 7);
/// assert_eq!(w.to_string(), "recv from rank 1, tag 7, context 0");
/// ```
impl std::fmt::Display for WaitInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let i = self;
        let peer_text = |p: i32| match p {
            ANY => String::from("any"),
            NONE => String::from("-"),
            ROOT => String::from("the root"),
            p => p.to_string(),
        };
        let tag_text = if i.tag == ANY {
            String::from("any")
        } else {
            i.tag.to_string()
        };
        let what = match i.kind {
            WaitKind::Recv | WaitKind::Probe => format!(
                "{} from rank {}, tag {tag_text}, context {}",
                i.kind.as_str(),
                peer_text(i.peer),
                i.ctx
            ),
            WaitKind::Send => format!(
                "send to rank {}, tag {tag_text}, context {} (waits for its receive)",
                peer_text(i.peer),
                i.ctx
            ),
            WaitKind::RingFull => format!("send to rank {}: its ring is full", i.peer),
            WaitKind::Requests if i.peer != NONE => format!(
                "wait for {} request(s), one a recv from rank {}, tag {tag_text}, context {}",
                i.parties,
                peer_text(i.peer),
                i.ctx
            ),
            WaitKind::Requests => format!("wait for {} request(s)", i.parties),
            WaitKind::CommBarrier => format!("barrier of the world ({} ranks)", i.parties),
            WaitKind::Collective => format!(
                "collective #{} on context {}, for rank {}",
                i.object & 0xffff_ffff,
                i.ctx,
                peer_text(i.peer)
            ),
            WaitKind::CommOther => String::from("pip-comm wait"),
            WaitKind::Import => format!("import \"{}\" from {}", i.name, peer_text(i.peer)),
            WaitKind::Barrier => format!("pip barrier {:#x} ({} parties)", i.object, i.parties),
            WaitKind::TaskEnd if i.peer == ANY => String::from("wait for any task to end"),
            WaitKind::TaskEnd => format!("wait for task {} to end", peer_text(i.peer)),
        };
        f.write_str(&what)
    }
}
