//! Throttled progress reports during an import, and cancellation from the callback.

use super::error::ImportError;

/// Reports progress at most every `step` units and turns a `false` from the callback into
/// `ImportError::Cancelled`.
pub(crate) struct Progress<'a> {
    callback: &'a mut dyn FnMut(f64) -> bool,
    total: u64,
    next_report: u64,
    step: u64,
}

impl<'a> Progress<'a> {
    pub(crate) fn new(callback: &'a mut dyn FnMut(f64) -> bool, total: u64) -> Progress<'a> {
        let step = (total / 200).max(64 * 1024);
        Progress {
            callback,
            total,
            next_report: step,
            step,
        }
    }

    pub(crate) fn at(&mut self, position: u64) -> Result<(), ImportError> {
        if position >= self.next_report {
            self.next_report = position + self.step;
            let fraction = if self.total == 0 {
                1.0
            } else {
                (position as f64 / self.total as f64).min(1.0)
            };
            if !(self.callback)(fraction) {
                return Err(ImportError::Cancelled {
                    fraction_done: fraction,
                });
            }
        }
        Ok(())
    }

    pub(crate) fn done(&mut self) {
        let _ = (self.callback)(1.0);
    }
}
