//! Reading a task file: refusing, before a byte is read, what the dynamic loader would not run.

use super::TaskFileError;
use std::path::Path;

/// The largest task file [`read_task_file`] reads (1 GiB): a bound, so that a special file
/// that never ends is refused instead of read until memory runs out.
pub const MAX_TASK_FILE_SIZE: u64 = 1 << 30;

/// What a file that is not a regular file is, in words.
fn file_type_name(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Decides whether a file with this metadata, on a file system with these `statvfs` flags,
/// may be read as a task file: a regular file, at most [`MAX_TASK_FILE_SIZE`] bytes, not on
/// a `noexec` mount.
pub fn check_task_file_metadata(
    meta: &std::fs::Metadata,
    statvfs_flags: u64,
) -> Result<(), TaskFileError> {
    if !meta.file_type().is_file() {
        return Err(TaskFileError::NotRegularFile(file_type_name(
            meta.file_type(),
        )));
    }
    if meta.len() > MAX_TASK_FILE_SIZE {
        return Err(TaskFileError::TooLarge);
    }
    if statvfs_flags & libc::ST_NOEXEC != 0 {
        return Err(TaskFileError::NoExecMount);
    }
    Ok(())
}

/// Reads a task file, refusing, before reading a byte, anything the dynamic loader would not
/// run: a file that is not a regular file (a FIFO would block the read forever, `/dev/zero`
/// would never end), one larger than [`MAX_TASK_FILE_SIZE`], or one on a `noexec` mount
/// (glibc's `dlopen` refuses those; the in-memory copy must not get around it).
///
/// ```
/// use pip_core::elf::{read_task_file, TaskFileError};
/// let err = read_task_file("/dev/zero".as_ref()).unwrap_err();
/// assert!(matches!(err, TaskFileError::NotRegularFile(_)), "{err}");
/// ```
pub fn read_task_file(path: &Path) -> Result<Vec<u8>, TaskFileError> {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let io_error = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            TaskFileError::Missing
        } else {
            TaskFileError::Unreadable(e)
        }
    };
    // stat first: opening a FIFO for reading blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(io_error)?;
    check_task_file_metadata(&meta, 0)?;
    // O_NONBLOCK, so that a file swapped for a FIFO after the stat cannot block the open
    // either; the checks are then repeated on what was opened.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io_error)?;
    let meta = file.metadata().map_err(io_error)?;
    // SAFETY: statvfs is plain data, filled in by fstatvfs on a descriptor we own.
    let mut vfs: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor and a pointer to a statvfs struct.
    if unsafe { libc::fstatvfs(file.as_raw_fd(), &mut vfs) } != 0 {
        return Err(TaskFileError::Unreadable(std::io::Error::last_os_error()));
    }
    check_task_file_metadata(&meta, vfs.f_flag as u64)?;
    // The size given by stat is not a promise (procfs files say 0): bound the read itself.
    let mut data = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_TASK_FILE_SIZE + 1)
        .read_to_end(&mut data)
        .map_err(io_error)?;
    if data.len() as u64 > MAX_TASK_FILE_SIZE {
        return Err(TaskFileError::TooLarge);
    }
    Ok(data)
}
