//! The logic of `pip-mode`: which `PIP_MODE` value each option stands for, and what to do.
//!
//! The mode itself is checked by pip-core ([`pip_core::Mode::from_env`]), so `pip-mode` accepts
//! exactly what a root accepts: `thread` (or `pthread`) and `process`. `-T` sets `pthread`, the
//! spelling PiP's `pip-mode` uses and PiP's scripts compare against (`PIP_ENV_MODE_PTHREAD`).

/// A mode option of `pip-mode`, named as PiP names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeFlag {
    /// `-T`, `--thread`, `--pthread`.
    Thread,
    /// `-P`, `--process`.
    Process,
    /// `-L`, `--process:preload`.
    ProcessPreload,
    /// `-C`, `--process:pipclone`.
    ProcessPipclone,
    /// `-G`, `--process:got` (obsolete in PiP 2.4).
    ProcessGot,
}

impl ModeFlag {
    /// The value of `PIP_MODE` this option sets, as PiP spells it.
    pub fn env_value(self) -> &'static str {
        match self {
            ModeFlag::Thread => "pthread",
            ModeFlag::Process => "process",
            ModeFlag::ProcessPreload => "process:preload",
            ModeFlag::ProcessPipclone => "process:pipclone",
            ModeFlag::ProcessGot => "process:got",
        }
    }
}

/// What `pip-mode` does once the mode is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Print `PIP_MODE=<value>` (a mode option, no command).
    PrintSetting(&'static str),
    /// Print the mode a job would use (`--show`, or no option at all).
    Show,
    /// Run the command with `PIP_MODE` set to the value.
    Run(&'static str),
}

/// Decides what to do from the mode option, `--show` and whether a command was given.
///
/// ```
/// use pip_tools::mode::{plan, Action, ModeFlag};
/// assert_eq!(plan(Some(ModeFlag::Thread), false, true), Ok(Action::Run("pthread")));
/// assert_eq!(plan(Some(ModeFlag::Thread), false, false), Ok(Action::PrintSetting("pthread")));
/// assert_eq!(plan(None, false, false), Ok(Action::Show));
/// assert!(plan(None, false, true).is_err());
/// ```
pub fn plan(flag: Option<ModeFlag>, show: bool, has_command: bool) -> Result<Action, String> {
    match (flag, show, has_command) {
        (_, true, true) => Err("--show takes no command".into()),
        (_, true, false) | (None, false, false) => Ok(Action::Show),
        (None, false, true) => Err(
            "give a mode before the command (-T for the thread mode); see pip-mode --help".into(),
        ),
        (Some(f), false, false) => Ok(Action::PrintSetting(f.env_value())),
        (Some(f), false, true) => Ok(Action::Run(f.env_value())),
    }
}
