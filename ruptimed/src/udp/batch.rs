//! Requests received, and replies sent, a batch per system call
//! (`recvmmsg`, `sendmmsg`).

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg};

use super::{ReplyFrom, Request, request};

/// How many requests one `recvmmsg` takes at most.
pub(crate) const BATCH: usize = 32;

/// Room for the longest request answered and a byte more, so that a longer
/// one shows as truncated.
const REQUEST_ROOM: usize = ruptime_common::protocol::request::MAX_REQUEST + 1;

/// Room to receive and answer [`BATCH`] requests with one system call each.
#[derive(Debug)]
pub(crate) struct Batch {
    buffers: Box<[[u8; REQUEST_ROOM]; BATCH]>,
    /// The requests of the last [`Batch::receive`].
    pub requests: Vec<Request>,
    /// Headers to send without a control message, and with an IPv4 or IPv6
    /// source: each sized exactly, since the kernel rejects a control
    /// buffer with room left over.
    plain: MultiHeaders<SockaddrStorage>,
    v4: MultiHeaders<SockaddrStorage>,
    v6: MultiHeaders<SockaddrStorage>,
    peers: Vec<Option<SockaddrStorage>>,
}

impl Batch {
    /// Room for a batch, allocated once.
    pub(crate) fn new() -> Batch {
        Batch {
            buffers: Box::new([[0; REQUEST_ROOM]; BATCH]),
            requests: Vec::with_capacity(BATCH),
            plain: MultiHeaders::preallocate(BATCH, None),
            v4: MultiHeaders::preallocate(BATCH, Some(nix::cmsg_space!(libc::in_pktinfo))),
            v6: MultiHeaders::preallocate(BATCH, Some(nix::cmsg_space!(libc::in6_pktinfo))),
            peers: Vec::with_capacity(BATCH),
        }
    }

    /// Receives the requests waiting (up to [`BATCH`]) into `requests`,
    /// without blocking; how many datagrams it took.
    ///
    /// # Errors
    /// `EAGAIN` when none is waiting; other errors of `recvmmsg`.
    pub(crate) fn receive(&mut self, fd: BorrowedFd<'_>) -> nix::Result<usize> {
        self.requests.clear();
        // Fresh headers each call: the kernel overwrites each header's name
        // and control lengths with what it wrote, and nix does not restore
        // them (nix-rust/nix#2813), so reused headers would truncate the
        // next sender's address or destination.
        let cmsg = nix::cmsg_space!(libc::in_pktinfo, libc::in6_pktinfo);
        let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, Some(cmsg));
        let mut slices = self
            .buffers
            .each_mut()
            .map(|b| [IoSliceMut::new(&mut b[..])]);
        let received = recvmmsg(
            fd.as_raw_fd(),
            &mut headers,
            slices.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        )?;
        let mut taken = 0;
        // A message that cannot be read as a request (no IP sender) is
        // skipped, not allowed to cost the rest of the batch.
        self.requests.extend(
            received
                .inspect(|_| taken += 1)
                .filter_map(|msg| request(&msg).ok()),
        );
        Ok(taken)
    }

    /// Sends `reply` (as much of it as each request may get) to the sender of
    /// each of `requests`, from the address each asked: a `sendmmsg` per run
    /// of requests that share that address and length.
    /// A reply that cannot be sent is reported to `failed` and skipped.
    pub(crate) fn reply(
        &mut self,
        fd: BorrowedFd<'_>,
        reply: &[u8],
        mut failed: impl FnMut(Errno),
    ) {
        let mut rest = &self.requests[..];
        while let Some(first) = rest.first() {
            let len = first.kind.cut(reply).len();
            let run = rest
                .iter()
                .take_while(|r| r.from == first.from && r.kind.cut(reply).len() == len)
                .count();
            let (group, later) = rest.split_at(run);
            rest = later;
            self.peers.clear();
            self.peers.extend(group.iter().map(|r| Some(r.peer)));
            let headers = match first.from {
                ReplyFrom::Bound => &mut self.plain,
                ReplyFrom::V4(_) => &mut self.v4,
                ReplyFrom::V6(..) => &mut self.v6,
            };
            send_run(
                fd,
                headers,
                &self.peers,
                first.from,
                &reply[..len],
                &mut failed,
            );
        }
    }
}

/// Sends `reply` to each of `peers` from `from`, past any that fail.
fn send_run(
    fd: BorrowedFd<'_>,
    headers: &mut MultiHeaders<SockaddrStorage>,
    mut peers: &[Option<SockaddrStorage>],
    from: ReplyFrom,
    reply: &[u8],
    failed: &mut impl FnMut(Errno),
) {
    let iov = [IoSlice::new(reply)];
    while !peers.is_empty() {
        let sent = from.with_cmsgs(|cmsgs| {
            sendmmsg(
                fd.as_raw_fd(),
                headers,
                std::iter::repeat_n(&iov, peers.len()),
                peers,
                cmsgs,
                MsgFlags::MSG_DONTWAIT,
            )
            .map(Iterator::count)
        });
        match sent {
            Ok(n) => peers = &peers[n.max(1)..],
            Err(Errno::EINTR) => {}
            Err(e) => {
                // The first reply failed: report it and go on with the next.
                failed(e);
                peers = &peers[1..];
            }
        }
    }
}

impl Default for Batch {
    fn default() -> Batch {
        Batch::new()
    }
}
