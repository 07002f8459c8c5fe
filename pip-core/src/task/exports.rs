//! The exports and imports: a task's (or the root's) unnamed and named exported addresses,
//! and the aux pointer, all kept by the root and reached through [`RootOps`](crate::abi::RootOps).

use super::{check, context, from_pipid, to_pipid};
use crate::error::{Error, Result};
use crate::PipId;
use std::ffi::{c_int, c_void};
use std::sync::atomic::Ordering;

/// The root's export: the pointer given to
/// [`RootBuilder::export`](crate::RootBuilder::export) (null if none).
pub fn root_export<T>() -> Result<*mut T> {
    let (root, _) = context()?;
    // SYNC(task#context): the root export, stored (Release) by the root's export op
    Ok(root.root_export.load(Ordering::Acquire).cast())
}

/// Sets this task's (or the root's) unnamed export, which [`import`] reads.
pub fn export<T>(addr: *mut T) -> Result<()> {
    let (root, me) = context()?;
    if addr.is_null() {
        return Err(Error::NullExport);
    }
    // SAFETY: `root` is a live RootAbi whose ops follow the ABI contract.
    check(
        unsafe { (root.ops.export)(root, me, addr.cast()) },
        "",
        to_pipid(me),
    )
}

/// Reads `peer`'s unnamed export; null if it has not exported anything. Never blocks.
pub fn import<T>(peer: PipId) -> Result<*mut T> {
    let (root, _) = context()?;
    let target = from_pipid(peer, root)?;
    let mut out = std::ptr::null_mut();
    check(
        // SAFETY: as in `export`; `out` is a valid place to write.
        unsafe { (root.ops.import)(root, target, &mut out) },
        "",
        peer,
    )?;
    Ok(out.cast())
}

/// Exports `addr` under `name`, waking every task blocked in [`named_import`] of it.
///
/// Errors: [`Error::AlreadyExported`] if this task already exported `name`,
/// [`Error::NullExport`] for a null pointer.
pub fn named_export<T>(name: &str, addr: *mut T) -> Result<()> {
    let (root, me) = context()?;
    if addr.is_null() {
        return Err(Error::NullExport);
    }
    // SAFETY: as in `export`; `name` is valid for `name.len()` bytes.
    let code = unsafe { (root.ops.named_export)(root, me, name.as_ptr(), name.len(), addr.cast()) };
    check(code, name, to_pipid(me))
}

fn named_import_impl<T>(peer: PipId, name: &str, block: bool) -> Result<*mut T> {
    let (root, me) = context()?;
    let target = from_pipid(peer, root)?;
    let mut out = std::ptr::null_mut();
    // SAFETY: as in `named_export`; `out` is a valid place to write.
    let code = unsafe {
        (root.ops.named_import)(
            root,
            me,
            target,
            name.as_ptr(),
            name.len(),
            block as c_int,
            &mut out,
        )
    };
    check(code, name, peer)?;
    Ok(out.cast())
}

/// Returns what `peer` exported under `name`, **waiting** until it does.
///
/// Errors: [`Error::Deadlock`] when `peer` is the caller and the name is not exported,
/// [`Error::Canceled`] when `peer` ends without exporting it.
pub fn named_import<T>(peer: PipId, name: &str) -> Result<*mut T> {
    named_import_impl(peer, name, true)
}

/// Like [`named_import`] but returns [`Error::NotYetExported`] instead of waiting.
pub fn try_named_import<T>(peer: PipId, name: &str) -> Result<*mut T> {
    named_import_impl(peer, name, false)
}

/// This task's aux pointer (given at spawn with [`Spawn::aux`](crate::Spawn::aux)).
pub fn aux() -> Result<*mut c_void> {
    let (root, me) = context()?;
    let mut v = std::ptr::null_mut();
    check(
        // SAFETY: as in `export`.
        unsafe { (root.ops.aux)(root, me, 0, &mut v) },
        "",
        to_pipid(me),
    )?;
    Ok(v)
}

/// Sets this task's aux pointer.
pub fn set_aux(value: *mut c_void) -> Result<()> {
    let (root, me) = context()?;
    let mut v = value;
    // SAFETY: as in `export`.
    check(
        unsafe { (root.ops.aux)(root, me, 1, &mut v) },
        "",
        to_pipid(me),
    )
}
