//! How the processes hold their memory.

/// Turns transparent huge pages off for this process (all its threads, and any child).
///
/// mimalloc would `madvise` its arenas for 2 MiB huge pages (its `no_thp` feature, set in
/// the workspace's Cargo.toml, turns that off), and a kernel in `always` mode backs them
/// with huge pages anyway. A huge page stays resident whole while any of its 512 small
/// pages holds a live object, and the kernel splits it only under memory pressure: after
/// serving 10^6 customers, 56 MiB of the api's 105 MiB resident were huge pages, for a
/// live heap (heaptrack) of under 50 MiB. With small pages the same sequence peaked 15 MiB
/// lower in the api and 10 MiB lower in the web (docs/benchmarks-notes.md, "Small pages
/// only"). A request's work is a few KiB: the TLB misses huge pages save are not worth it.
///
/// Call it first in `main`, and [`SmallPages::report`] once logging is up: pages faulted
/// in before the call may already be huge (6 MiB of them with the call alone, none with
/// the feature too). A refusal (a kernel or a seccomp profile that refuses the call)
/// leaves the process as it was.
pub fn no_transparent_huge_pages() -> SmallPages {
    #[cfg(target_os = "linux")]
    return SmallPages(rustix::thread::disable_transparent_huge_pages(true).map_err(Into::into));
    #[cfg(not(target_os = "linux"))]
    SmallPages(Ok(()))
}

/// Whether the process got small pages only, to be logged when logging has started.
#[must_use]
pub struct SmallPages(std::io::Result<()>);

impl SmallPages {
    pub fn report(self) {
        if let Err(e) = self.0 {
            tracing::warn!(error = %e, "transparent huge pages stay on: the resident memory may be higher");
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_process_asks_for_small_pages_only() {
        super::no_transparent_huge_pages().0.expect("prctl");
        assert!(rustix::thread::transparent_huge_pages_are_disabled().expect("prctl"));
    }
}
